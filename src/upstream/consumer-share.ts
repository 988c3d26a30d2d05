import { GatewayError } from '../errors/gateway-error.ts';

/**
 * Each consumer's share of one upstream's streamed connections (issue 14.3): 300 slow uploads from one
 * consumer once held all 256 sockets of the pool, and every other consumer's streamed call to that
 * upstream timed out. A consumer may hold at most `limit` streamed calls to the upstream at once; one
 * more is refused at once (429 in the route's dialect) rather than queued behind its own calls.
 */
export interface ConsumerShare {
  /** Most streamed calls one consumer may have in flight to this upstream. */
  readonly limit: number;
  /** Takes one slot for `consumer`, or throws GW_UPSTREAM_SHARE_EXCEEDED; call the result exactly once. */
  acquire(consumer: string): () => void;
  /** Calls in flight per consumer (tests, diagnostics). */
  inFlight(): ReadonlyMap<string, number>;
}

/** `share` of `maxSockets` (at least one connection), counted per consumer. */
export function createConsumerShare(upstream: string, maxSockets: number, share: number): ConsumerShare {
  const limit = Math.max(1, Math.floor(maxSockets * share));
  const counts = new Map<string, number>();
  return {
    limit,
    acquire(consumer) {
      const held = counts.get(consumer) ?? 0;
      if (held >= limit) {
        throw new GatewayError(
          'GW_UPSTREAM_SHARE_EXCEEDED',
          { consumer, upstream, limit },
          { headers: { 'retry-after': '1' } },
        );
      }
      counts.set(consumer, held + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const now = (counts.get(consumer) ?? 1) - 1;
        if (now <= 0) counts.delete(consumer);
        else counts.set(consumer, now);
      };
    },
    inFlight: () => counts,
  };
}
