import type { RouteDeliveryConfig } from '../config/types.ts';

type Retry = RouteDeliveryConfig['retry'];

/**
 * Delay before the next attempt after `attempts` failed ones: exponential backoff with full jitter
 * (a uniform draw between 0 and min(maxMs, initialMs · 2^(attempts-1))), so a province's many queued
 * pushes do not come back to a recovering upstream in one wave.
 */
export function backoffDelay(retry: Retry, attempts: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 40);
  const ceiling = Math.min(retry.maxMs, retry.initialMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
