import type { Exchange } from '../exchange.ts';

/**
 * Spends the consumer's and the route's budgets (GW_RATE_LIMITED when one is spent): the promise settles
 * with the headers that announce what is left; undefined when the config sets no limit.
 */
export function limit(ex: Exchange): Promise<Record<string, string>> | undefined {
  return ex.runtime.consumers.rateLimit?.(ex.consumer!, ex.route);
}

/** The budget left, told to the caller on whatever answer follows. */
export function announceLimits(ex: Exchange, headers: Record<string, string>): void {
  for (const name in headers) ex.res.setHeader(name, headers[name]);
}
