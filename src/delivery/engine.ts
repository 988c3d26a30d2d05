import { randomBytes } from 'node:crypto';
import type { Clock } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { Logger } from '../logging/logger.ts';
import { attemptDelivery, type AttemptResult } from './attempt.ts';
import { backoffDelay } from './backoff.ts';
import { Circuit, type CircuitOptions, type CircuitState } from './circuit.ts';
import type { DeliveryRoute } from './route-delivery.ts';
import { payloadHash, type SealedRequest, type Sealer } from './seal.ts';
import type { Delivery, DeliveryStore, EnqueueResult, NewDelivery } from './store.ts';

/** One attempt as the audit trail records it: who, where, the outcome; never the payload. */
export interface DeliveryAttemptLine {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly route: string;
  readonly upstream: string;
  readonly consumer: string;
  readonly method: string;
  readonly status: number;
  readonly outcome: 'delivered' | 'retry' | 'dead' | 'refused';
  readonly durationMs: number;
}

export interface DeliveryEngineOptions {
  readonly store: DeliveryStore;
  readonly sealer: Sealer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The route as the current runtime has it (a reload swaps it; a removed route is undefined). */
  readonly resolveRoute: (routeId: string) => DeliveryRoute | undefined;
  /** Every route with `delivery:` in the current runtime (the worker claims for their upstreams). */
  readonly deliveryRoutes: () => readonly DeliveryRoute[];
  readonly worker: { readonly leaseMs: number; readonly batch: number; readonly idleMs: number };
  readonly circuit: CircuitOptions;
  /** `delivery.maxPendingPerConsumer` (unbounded when absent). */
  readonly maxPendingPerConsumer?: number;
  /** One audit line per attempt. */
  readonly audit?: (line: DeliveryAttemptLine) => void;
  /** This process's name in the store's leases (default: random). */
  readonly owner?: string;
  readonly random?: () => number;
}

/** What the request path gets back from the first, immediate attempt of a queued push. */
export interface FirstAttempt {
  readonly result: AttemptResult;
  /** The row's state after the attempt. */
  readonly state: Delivery['state'];
}

/**
 * The delivery engine of one process: seals and stores pushes, makes the immediate attempt the caller
 * waits for, and runs the worker that retries the rest (exponential backoff with full jitter, a circuit
 * per upstream, the dead letter). Deliveries of one business key go in order because the store never
 * hands out one whose predecessor is pending, and the engine claims nothing else.
 */
export class DeliveryEngine {
  readonly owner: string;
  readonly #o: DeliveryEngineOptions;
  readonly #circuits = new Map<string, Circuit>();
  readonly #inFlight = new Map<string, number>();
  readonly #running = new Set<Promise<void>>();
  /** Pushes put back because their route was not loaded, by route id: due again as soon as it is. */
  readonly #parked = new Map<string, Set<string>>();
  readonly #wakeTimes = new Set<number>();
  /** Ids of the routes with delivery in the runtime last seen. */
  #known = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #ticking = false;
  #again = false;
  #stopped = true;

  constructor(options: DeliveryEngineOptions) {
    this.#o = options;
    this.owner = options.owner ?? `gw-${randomBytes(6).toString('base64url')}`;
  }

  get store(): DeliveryStore {
    return this.#o.store;
  }

  /**
   * The keyed HMAC of a consumer's business key as the ledger stores it (look-ups by a clear key: the route
   * guards). The consumer is part of it: duplicates, order and the ledger are each consumer's own, so a
   * consumer that knows another's dossier code can neither have that one's push answered as a duplicate of
   * its own, nor hold it back behind a push of its own that never delivers, nor read its ledger.
   */
  orderKey(consumerId: string, businessKey: string): string {
    return this.#o.sealer.orderKey(`${consumerId}\u001d${businessKey}`);
  }

  /** The row of a push: sealed, hashed, its business key as a keyed HMAC (nothing in clear). */
  prepare(route: DeliveryRoute, request: SealedRequest, body: unknown, consumerId: string): NewDelivery {
    const delivery = route.delivery!;
    const key = delivery.businessKey?.(body);
    const now = this.#o.clock.now();
    return {
      id: randomBytes(16).toString('base64url'),
      mode: delivery.mode,
      routeId: route.id,
      upstreamId: route.upstream.id,
      consumerId,
      orderKey: key === undefined ? null : this.orderKey(consumerId, key),
      routeGroup: delivery.group,
      payloadHash: payloadHash(request),
      operation: delivery.operationOf?.(body) ?? delivery.operation,
      sealed: delivery.mode === 'queued' ? this.#o.sealer.seal(request) : Buffer.alloc(0),
      createdAt: now,
      expiresAt: now + delivery.retry.maxAgeMs,
    };
  }

  /** Stores a queued push durably; claimed for an immediate attempt unless its upstream's circuit is open. */
  async enqueue(row: NewDelivery): Promise<EnqueueResult> {
    // A soft cap: replicas enqueueing at the same moment may each pass it by one push.
    const cap = this.#o.maxPendingPerConsumer;
    if (cap !== undefined && (await this.#o.store.pendingOf(row.consumerId)) >= cap) {
      throw new GatewayError('GW_DELIVERY_BACKLOG_FULL', { upstream: row.upstreamId, max: cap });
    }
    const now = this.#o.clock.now();
    const claim = this.#circuit(row.upstreamId).allowance(now) > 0 && this.#capacityLeft(row.upstreamId) > 0;
    const result = await this.#o.store.enqueue(
      row,
      claim ? { owner: this.owner, leaseMs: this.#o.worker.leaseMs, now } : undefined,
    );
    if (result.kind === 'queued') this.wake(now);
    return result;
  }

  /** The immediate attempt of a push claimed at enqueue; the row is completed, rescheduled or buried. */
  async attemptClaimed(route: DeliveryRoute, delivery: Delivery, request: SealedRequest): Promise<FirstAttempt> {
    this.#took(delivery.upstreamId, 1);
    try {
      const result = await this.#attempt(route, delivery, request);
      const state = await this.#finish(route, delivery, result);
      return { result, state };
    } finally {
      this.#took(delivery.upstreamId, -1);
    }
  }

  /** A direct-mode push with a business key: sent once, recorded in the ledger as delivered or failed. */
  async attemptDirect(route: DeliveryRoute, row: NewDelivery, request: SealedRequest): Promise<AttemptResult> {
    const result = await attemptDelivery(route.upstream, request, {
      deliveryId: row.id,
      responseTimeoutMs: route.plan.responseTimeoutMs,
      tokenReplays: route.plan.tokenReplays,
    });
    const at = this.#o.clock.now();
    const state = result.judgement === 'accepted' ? 'delivered' : 'failed';
    try {
      await this.#o.store.record(row, { at, status: result.status, error: result.reason, state });
    } catch (err) {
      // The push itself went through (or failed) either way: a ledger fault is logged, not answered.
      this.#o.logger.error('delivery ledger: direct push not recorded', {
        deliveryId: row.id,
        route: route.id,
        error: (err as Error).message,
      });
    }
    this.#auditLine(route, { ...row, attempts: 1 }, result, result.judgement === 'accepted' ? 'delivered' : 'refused');
    return result;
  }

  /**
   * After a reload: a queued route that is gone leaves its pushes queued (nothing claims them while no
   * route of theirs is loaded), reported once with their number; the worker looks again at once.
   */
  async routesChanged(): Promise<void> {
    const now = new Set(this.#o.deliveryRoutes().map((route) => route.id));
    const gone = [...this.#known].filter((id) => !now.has(id));
    this.#known = now;
    for (const routeId of gone) {
      try {
        const waiting = await this.#o.store.list({ routeId, state: 'queued', limit: 10000 });
        this.#o.logger.warn('delivery: route no longer loaded; its queued pushes wait for it', {
          route: routeId,
          queued: waiting.length,
        });
      } catch (err) {
        this.#o.logger.error('delivery store: queued pushes not counted', {
          route: routeId,
          error: (err as Error).message,
        });
      }
    }
    this.wake();
  }

  /** Starts the worker: a first look at once (leftovers of an earlier process), then timers. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#known = new Set(this.#o.deliveryRoutes().map((route) => route.id));
    this.wake(this.#o.clock.now());
  }

  /** Stops claiming and waits for the attempts under way (their rows are completed or rescheduled). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#wakeTimes.clear();
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /** The circuit of each upstream that has one, for /admin and tests. */
  circuits(): Record<string, CircuitState> {
    const now = this.#o.clock.now();
    return Object.fromEntries([...this.#circuits].map(([id, c]) => [id, c.state(now)]));
  }

  /**
   * Asks the worker to look at the store at `at` (now when omitted or past). Every time asked for is kept
   * until it passes: one timer runs to the earliest, and the next is armed after each look.
   */
  wake(at = this.#o.clock.now()): void {
    if (this.#stopped) return;
    const now = this.#o.clock.now();
    if (at <= now && this.#ticking) {
      this.#again = true;
      return;
    }
    this.#wakeTimes.add(Math.max(at, now));
    this.#arm(now);
  }

  /** One timer, to the earliest wake time asked for. */
  #arm(now: number): void {
    let at = Infinity;
    for (const t of this.#wakeTimes) if (t < at) at = t;
    // An armed timer whose time has passed by the clock (the clock jumped) is re-armed, not trusted.
    if (at === Infinity || (at >= this.#timerAt && this.#timerAt > now)) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        const fired = this.#o.clock.now();
        for (const t of this.#wakeTimes) if (t <= fired) this.#wakeTimes.delete(t);
        void this.#tick();
      },
      Math.min(Math.max(at - now, 0), 2 ** 31 - 1),
    );
    this.#timer.unref();
  }

  /** One look at the store: for each upstream with room (circuit, concurrency), claim its due heads. */
  async #tick(): Promise<void> {
    if (this.#stopped) return;
    this.#ticking = true;
    this.#again = false;
    const now = this.#o.clock.now();
    try {
      await this.#unpark(now);
      const upstreams = new Map<string, DeliveryRoute>();
      for (const route of this.#o.deliveryRoutes()) {
        if (route.delivery?.mode === 'queued') upstreams.set(route.upstream.id, route);
      }
      for (const [upstreamId] of upstreams) {
        const circuit = this.#circuit(upstreamId);
        const room = Math.min(this.#o.worker.batch, circuit.allowance(now), this.#capacityLeft(upstreamId));
        if (room <= 0) {
          const reopens = circuit.reopensAt();
          if (reopens !== undefined) this.wake(reopens);
          continue;
        }
        const claimed = await this.#o.store.claimDue(now, {
          owner: this.owner,
          leaseMs: this.#o.worker.leaseMs,
          limit: room,
          upstreamIds: [upstreamId],
        });
        for (const delivery of claimed) this.#run(delivery);
      }
    } catch (err) {
      this.#o.logger.error('delivery worker: the store could not be read', { error: (err as Error).message });
    } finally {
      this.#ticking = false;
    }
    // Other replicas queue work too, and leases of a crashed process expire: look again within idleMs.
    this.wake(this.#again ? this.#o.clock.now() : now + this.#o.worker.idleMs);
  }

  /** Pushes parked for a missing route whose route a reload brought back: due now. */
  async #unpark(now: number): Promise<void> {
    for (const [routeId, ids] of this.#parked) {
      if (!this.#o.resolveRoute(routeId)?.delivery) continue;
      this.#parked.delete(routeId);
      for (const id of ids) await this.#o.store.retry(id, now);
    }
  }

  #run(delivery: Delivery): void {
    this.#took(delivery.upstreamId, 1);
    const job = this.#deliverClaimed(delivery)
      .catch((err: unknown) => {
        this.#o.logger.error('delivery worker: attempt failed', {
          deliveryId: delivery.id,
          route: delivery.routeId,
          error: (err as Error).message,
        });
      })
      .finally(() => {
        this.#took(delivery.upstreamId, -1);
        this.#running.delete(job);
        this.wake();
      });
    this.#running.add(job);
  }

  async #deliverClaimed(delivery: Delivery): Promise<void> {
    const now = this.#o.clock.now();
    const route = this.#o.resolveRoute(delivery.routeId);
    if (!route?.delivery || route.upstream.id !== delivery.upstreamId) {
      // A route removed (or moved to another upstream) by a reload: its pushes wait, reported once.
      let parked = this.#parked.get(delivery.routeId);
      if (!parked) {
        this.#parked.set(delivery.routeId, (parked = new Set()));
        this.#o.logger.warn('delivery: route no longer loaded; its queued pushes wait for it', {
          route: delivery.routeId,
          upstream: delivery.upstreamId,
        });
      }
      parked.add(delivery.id);
      const nextAttemptAt = now + this.#o.worker.idleMs;
      await this.#o.store.reschedule(delivery.id, this.owner, {
        at: now,
        status: null,
        error: 'route not loaded',
        nextAttemptAt,
      });
      return;
    }
    let request: SealedRequest;
    try {
      request = this.#o.sealer.open(delivery.sealed!);
    } catch (err) {
      await this.#bury(route, delivery, { status: null, reason: `payload unreadable: ${(err as Error).message}` });
      return;
    }
    const result = await this.#attempt(route, delivery, request);
    await this.#finish(route, delivery, result);
  }

  #attempt(route: DeliveryRoute, delivery: Delivery, request: SealedRequest): Promise<AttemptResult> {
    this.#circuit(delivery.upstreamId).started(this.#o.clock.now());
    return attemptDelivery(route.upstream, request, {
      deliveryId: delivery.id,
      responseTimeoutMs: route.plan.responseTimeoutMs,
      tokenReplays: route.plan.tokenReplays,
    });
  }

  /** Completes, reschedules or buries a claimed row after an attempt; returns its new state. */
  async #finish(route: DeliveryRoute, delivery: Delivery, result: AttemptResult): Promise<Delivery['state']> {
    const now = this.#o.clock.now();
    const circuit = this.#circuit(delivery.upstreamId);
    const outcome = { at: now, status: result.status, error: result.reason };
    if (answeredAlive(result)) circuit.succeeded();
    else if (circuit.failed(now)) {
      this.#o.logger.warn('delivery: circuit opened', {
        upstream: delivery.upstreamId,
        coolDownMs: this.#o.circuit.coolDownMs,
        lastError: result.reason,
      });
      this.wake(circuit.reopensAt());
    }
    if (result.judgement === 'accepted') {
      await this.#o.store.complete(delivery.id, this.owner, outcome);
      this.#auditLine(route, delivery, result, 'delivered');
      // A push of the same business key waiting behind this one is due now.
      this.wake(now);
      return 'delivered';
    }
    if (result.judgement === 'refused') {
      await this.#bury(route, delivery, result);
      this.#auditLine(route, delivery, result, 'refused');
      return 'dead';
    }
    const retry = route.delivery!.retry;
    const nextAttemptAt = now + backoffDelay(retry, delivery.attempts, this.#o.random);
    if (delivery.attempts >= retry.maxAttempts || nextAttemptAt >= delivery.expiresAt) {
      await this.#bury(route, delivery, result);
      this.#auditLine(route, delivery, result, 'dead');
      return 'dead';
    }
    await this.#o.store.reschedule(delivery.id, this.owner, { ...outcome, nextAttemptAt });
    this.#auditLine(route, delivery, result, 'retry');
    this.wake(nextAttemptAt);
    return 'queued';
  }

  /** The dead letter, with ONE clear line: tracking id, route, upstream, attempts, last error; no citizen data. */
  async #bury(
    route: DeliveryRoute,
    delivery: Delivery,
    result: { readonly status: number | null; readonly reason: string | null },
  ): Promise<void> {
    const now = this.#o.clock.now();
    await this.#o.store.bury(delivery.id, this.owner, { at: now, status: result.status, error: result.reason });
    this.#o.logger.error('delivery dead: moved to the dead letter, not retried again', {
      deliveryId: delivery.id,
      route: route.id,
      upstream: delivery.upstreamId,
      attempts: delivery.attempts,
      lastError: result.reason,
      ageMs: now - delivery.createdAt,
    });
  }

  #auditLine(
    route: DeliveryRoute,
    delivery: Pick<Delivery, 'id' | 'attempts' | 'consumerId'>,
    result: AttemptResult,
    outcome: DeliveryAttemptLine['outcome'],
  ): void {
    this.#o.audit?.({
      deliveryId: delivery.id,
      attempt: delivery.attempts,
      route: route.id,
      upstream: route.upstream.id,
      consumer: delivery.consumerId,
      method: result.call.method,
      status: result.status ?? 0,
      outcome,
      durationMs: Math.round(result.upstreamMs * 100) / 100,
    });
  }

  #circuit(upstreamId: string): Circuit {
    let circuit = this.#circuits.get(upstreamId);
    if (!circuit) this.#circuits.set(upstreamId, (circuit = new Circuit(this.#o.circuit)));
    return circuit;
  }

  /**
   * Attempts an upstream may take at once: the share of its connections one consumer may hold
   * (`maxSockets × consumerShare`, at least one), the worker being one more consumer of it.
   */
  #capacityLeft(upstreamId: string): number {
    const route = this.#o.deliveryRoutes().find((r) => r.upstream.id === upstreamId);
    const { maxSockets, consumerShare } = route?.upstream.config ?? { maxSockets: 1, consumerShare: 1 };
    const limit = Math.max(1, Math.floor(maxSockets * consumerShare));
    return limit - (this.#inFlight.get(upstreamId) ?? 0);
  }

  #took(upstreamId: string, delta: number): void {
    this.#inFlight.set(upstreamId, (this.#inFlight.get(upstreamId) ?? 0) + delta);
  }
}

/** The upstream answered in a way that shows it is up (accepted, refused, or a business failure below 500). */
function answeredAlive(result: AttemptResult): boolean {
  const { status } = result;
  return status !== null && status < 500 && status !== 408 && status !== 429;
}
