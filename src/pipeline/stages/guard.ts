import type { Exchange } from '../exchange.ts';

/**
 * The route's request guards (`guards:`, compiled at load: runtime/runtime.ts) on the mapped body, after
 * adapt and before credentials: a refused call never carries the national side's credentials and never
 * leaves. Returns nothing when the route has none.
 */
export function guard(ex: Exchange): Promise<void> | undefined {
  return ex.route.guard?.(ex.call.json, ex.consumer!.id);
}
