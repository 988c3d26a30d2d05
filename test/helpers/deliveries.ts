import { randomBytes } from 'node:crypto';
import type { NewDelivery } from '../../src/delivery/store.ts';

/** The delivery tests' clock, driven by the tests: 27 November 2026, 08:00 UTC. */
export const T0 = Date.UTC(2026, 10, 27, 8);
const DAY = 24 * 60 * 60_000;

let serial = 0;

/** A delivery as the engine would enqueue it (ids unguessable, keys and hashes opaque strings). */
export function newDelivery(over: Partial<NewDelivery> = {}): NewDelivery {
  serial += 1;
  return {
    id: `dlv-${serial}-${randomBytes(6).toString('base64url')}`,
    mode: 'queued',
    routeId: 'molisa-dongbodvc',
    upstreamId: 'molisa',
    consumerId: 'mcdt',
    orderKey: 'key-hs-001',
    routeGroup: 'molisa',
    payloadHash: 'hash-a',
    operation: 'DongBoDVC',
    sealed: Buffer.from(`sealed-${serial}`),
    createdAt: T0,
    expiresAt: T0 + DAY,
    ...over,
  };
}
