import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../config/types.ts';

/**
 * Prometheus metrics of one gateway, in a Registry of its own (never prom-client's global one), so
 * several gateways in one process (tests) do not share counters. Names are listed in docs/consumers.md
 * and used by docs/grafana-dashboard.json.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Finished calls: route, consumer, upstream, status_class (`2xx`..`5xx`). */
  readonly requests: Counter<'route' | 'consumer' | 'upstream' | 'status_class'>;
  /** Whole call as seen by the gateway, seconds. */
  readonly duration: Histogram<'route' | 'upstream' | 'status_class'>;
  /** Upstream part only (request sent to response headers), seconds. */
  readonly upstreamDuration: Histogram<'route' | 'upstream'>;
  /** Upstream token fetches (issue 3) and their failures. */
  readonly tokenFetches: Counter<'upstream'>;
  readonly tokenFailures: Counter<'upstream'>;
  /** Bodies rejected by schema validation: direction `request` or `response`. */
  readonly validationRejections: Counter<'route' | 'direction'>;
  /** Config reloads: result `success`, `failure`, `unchanged`. */
  readonly reloads: Counter<'result'>;
  readonly inFlight: Gauge<'route'>;
  /** Caller authentication failures by reason (missing, invalid-api-key, invalid-token, invalid-client, malformed). */
  readonly authFailures: Counter<'reason'>;
  /** Calls answered 429. */
  readonly rateLimited: Counter<'route' | 'consumer'>;
  /** Tokens issued by the gateway's own `POST /token`. */
  readonly tokensIssued: Counter<'consumer'>;
  /** 1 while audit lines are being written, 0 while the audit writer is failing (disk full, unwritable). */
  readonly auditUp: Gauge;
  /** Audit outages started (a write failed after the previous one succeeded). */
  readonly auditFailures: Counter;
  /** Audit lines dropped: buffer full during an outage, or still unwritten at shutdown. */
  readonly auditLinesLost: Counter;
  /** Calls refused because their audit line could not be written (`audit.onFailure: refuse`). */
  readonly auditRefused: Counter<'route'>;
  /** 1 while the shared rate-limit store (Redis) answers, 0 while it is down; absent with `store: memory`. */
  readonly rateLimitStoreUp: Gauge;
  /** Calls whose rate-limit check failed because the store was down (then `onStoreError` decided). */
  readonly rateLimitStoreErrors: Counter<'route'>;
  /** Deliveries the upstream accepted (queued mode, issue 17), bumped by the engine through deliveryHooks(). */
  readonly deliveriesDelivered: Counter<'upstream'>;
  /** Delivery attempts that failed (the delivery is retried later, or dies). */
  readonly deliveryAttemptsFailed: Counter<'upstream'>;
  /** Deliveries that died (out of attempts or age, or refused for good): the dead letter. */
  readonly deliveriesDead: Counter<'upstream'>;
  /**
   * One finished call in `requests` (the request path's way to count: see tally below); the same series
   * and values as `requests.inc({ route, consumer, upstream, status_class })` once a scrape reads them.
   */
  countRequest(route: string, consumer: string, upstream: string, statusClass: string): void;
  /** `inFlight` of a route moved by `delta` (+1 matched, -1 answered), read by the gauge at scrape time. */
  moveInFlight(route: string, delta: number): void;
  /**
   * One finished call's duration in `duration` (the request path's way: see ObservationQueue); the same
   * series, buckets, sums and counts as `duration.observe(...)` once a scrape reads them.
   */
  observeDuration(route: string, upstream: string, statusClass: string, seconds: number): void;
  /** One upstream wait in `upstreamDuration`, as observeDuration. */
  observeUpstreamDuration(route: string, upstream: string, seconds: number): void;
}

/** Latency buckets from 5 ms to 60 s: national platforms answer in tens of seconds when loaded. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Creates the metrics of one gateway; `defaultMetrics` adds process CPU/memory/event-loop metrics. */
export function createMetrics(options: { defaultMetrics?: boolean; prefix?: string } = {}): GatewayMetrics {
  const registry = new Registry();
  const p = options.prefix ?? 'lgsp_';
  const registers = [registry];
  // name (after the prefix), label names, help: the three things a dashboard needs of each metric.
  const counter = <L extends string>(name: string, labelNames: readonly L[], help: string) =>
    new Counter<L>({ name: p + name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, labelNames: readonly L[], help: string) =>
    new Gauge<L>({ name: p + name, help, labelNames, registers });
  // The two duration histograms hand their queued observations to prom-client before every read.
  const durations = new ObservationQueues();
  const upstreamDurations = new ObservationQueues();
  const histogram = <L extends string>(
    name: string,
    labelNames: readonly L[],
    help: string,
    queues?: ObservationQueues,
  ) =>
    new Histogram<L>({
      name: p + name,
      help,
      labelNames,
      buckets: BUCKETS,
      registers,
      ...(queues && { collect: () => queues.flush() }),
    });
  // Per request, prom-client's inc() checks the label names and builds a key string of all the labels
  // (~0.45 µs for `requests`, ~0.15 µs per in-flight move): the request path adds to plain tallies instead,
  // and the metrics take them in when they are read (prom-client calls `collect` before every read).
  const requestTallies = new Map<string, RequestTally>();
  let lastTally: RequestTally | undefined;
  const inFlightByRoute = new Map<string, number>();
  const requests = new Counter<'route' | 'consumer' | 'upstream' | 'status_class'>({
    name: `${p}requests_total`,
    help: 'Calls handled by the gateway',
    labelNames: ['route', 'consumer', 'upstream', 'status_class'],
    registers,
    collect() {
      for (const tally of requestTallies.values()) {
        if (tally.count === 0) continue;
        this.inc(tally.labels, tally.count);
        tally.count = 0;
      }
    },
  });
  const inFlight = new Gauge<'route'>({
    name: `${p}in_flight_requests`,
    help: 'Calls being handled now',
    labelNames: ['route'],
    registers,
    collect() {
      for (const [route, count] of inFlightByRoute) this.set({ route }, count);
    },
  });
  const metrics: GatewayMetrics = {
    registry,
    requests,
    duration: histogram(
      'request_duration_seconds',
      ['route', 'upstream', 'status_class'],
      'Whole call duration as seen by the gateway',
      durations,
    ),
    upstreamDuration: histogram(
      'upstream_duration_seconds',
      ['route', 'upstream'],
      'Time spent waiting for the upstream',
      upstreamDurations,
    ),
    tokenFetches: counter('upstream_token_fetches_total', ['upstream'], 'Tokens fetched from upstream token endpoints'),
    tokenFailures: counter(
      'upstream_token_failures_total',
      ['upstream'],
      'Failed token fetches from upstream token endpoints',
    ),
    validationRejections: counter(
      'validation_rejections_total',
      ['route', 'direction'],
      'Bodies rejected by schema validation',
    ),
    reloads: counter('config_reloads_total', ['result'], 'Configuration reloads by result'),
    inFlight,
    authFailures: counter('auth_failures_total', ['reason'], 'Caller authentication failures'),
    rateLimited: counter('rate_limited_total', ['route', 'consumer'], 'Calls refused with 429'),
    tokensIssued: counter('tokens_issued_total', ['consumer'], 'Access tokens issued by POST /token'),
    auditUp: gauge('audit_up', [], 'Audit trail writable (1) or failing (0)'),
    auditFailures: counter(
      'audit_write_failures_total',
      [],
      'Audit outages: a write failed after the previous one succeeded',
    ),
    auditLinesLost: counter(
      'audit_lines_lost_total',
      [],
      'Audit lines dropped (buffer full during an outage, or unwritten at shutdown)',
    ),
    auditRefused: counter(
      'audit_refused_total',
      ['route'],
      'Calls refused because the audit trail could not be written',
    ),
    rateLimitStoreUp: gauge('rate_limit_store_up', [], 'Shared rate-limit store (Redis) reachable (1) or down (0)'),
    rateLimitStoreErrors: counter(
      'rate_limit_store_errors_total',
      ['route'],
      'Rate-limit checks that failed because the store was down',
    ),
    deliveriesDelivered: counter('deliveries_delivered_total', ['upstream'], 'Deliveries the upstream accepted'),
    deliveryAttemptsFailed: counter(
      'delivery_attempts_failed_total',
      ['upstream'],
      'Delivery attempts the upstream did not accept (retried later or dead)',
    ),
    deliveriesDead: counter('deliveries_dead_total', ['upstream'], 'Deliveries moved to the dead letter'),
    countRequest(route, consumer, upstream, statusClass) {
      // The series of the previous call first: under load most calls follow one of the same series, and
      // four string comparisons cost less than making the key string and hashing it (the tallies are
      // never removed, so the one remembered stays the map's own).
      if (lastTally !== undefined && sameLabels(lastTally.labels, route, consumer, upstream, statusClass)) {
        lastTally.count++;
        return;
      }
      const key = `${route}\n${consumer}\n${upstream}\n${statusClass}`;
      const tally = requestTallies.get(key);
      if (tally === undefined) {
        const labels = { route, consumer, upstream, status_class: statusClass };
        requestTallies.set(key, (lastTally = { labels, count: 1 }));
      } else if (sameLabels(tally.labels, route, consumer, upstream, statusClass)) {
        tally.count++;
        lastTally = tally;
      }
      // Names holding the separator could share a key: such a call is counted the plain way.
      else requests.inc({ route, consumer, upstream, status_class: statusClass });
    },
    moveInFlight(route, delta) {
      inFlightByRoute.set(route, (inFlightByRoute.get(route) ?? 0) + delta);
    },
    observeDuration(route, upstream, statusClass, seconds) {
      durations.observe(metrics.duration, route, upstream, statusClass, seconds);
    },
    observeUpstreamDuration(route, upstream, seconds) {
      upstreamDurations.observe(metrics.upstreamDuration, route, upstream, undefined, seconds);
    },
  };
  if (options.defaultMetrics ?? true) addDefaultMetrics(metrics, p);
  return metrics;
}

/** Calls of one label set counted since the last read of `requests`. */
interface RequestTally {
  readonly labels: { route: string; consumer: string; upstream: string; status_class: string };
  count: number;
}

function sameLabels(
  labels: RequestTally['labels'],
  route: string,
  consumer: string,
  upstream: string,
  statusClass: string,
): boolean {
  return (
    labels.route === route &&
    labels.consumer === consumer &&
    labels.upstream === upstream &&
    labels.status_class === statusClass
  );
}

/** Observations queued per series before prom-client takes them: a full queue is handed over at once. */
export const OBSERVATION_BATCH = 64;

/**
 * The request path's observations of one histogram, queued per series (label set) and handed to
 * prom-client's own `observe` in batches: when a series' queue is full, and before every read (the
 * histogram's `collect` hook, which prom-client runs before `registry.metrics()` and `get()`). prom-client
 * 15's `observe` checks the label names, builds the series' key string and hashes it on every call, and a
 * child bound with `labels()` does all of that again on each of its calls (issue 38 of prom-client, open):
 * about 0.6 µs an observation in a loop, more between a request's other work. Queued, the same values
 * reach the same `observe` in the same order per series (so the sums are bit-identical) with the code and
 * the series hot, and the request path only stores a number. Bounded: OBSERVATION_BATCH numbers per series,
 * and the series are the label sets prom-client keeps anyway. A value `observe` would refuse (not finite)
 * is handed over at once, so it throws where it did.
 */
class ObservationQueues {
  readonly #queues = new Map<string, ObservationQueue>();
  #last: ObservationQueue | undefined;

  observe(
    histogram: Histogram<string>,
    route: string,
    upstream: string,
    statusClass: string | undefined,
    value: number,
  ) {
    // The series of the previous call first: under load most calls follow one of the same series.
    let queue = this.#last;
    if (queue === undefined || !queue.is(route, upstream, statusClass)) {
      const key = statusClass === undefined ? `${route}\n${upstream}` : `${route}\n${upstream}\n${statusClass}`;
      queue = this.#queues.get(key);
      if (queue === undefined) {
        this.#queues.set(key, (queue = new ObservationQueue(histogram, route, upstream, statusClass)));
      } else if (!queue.is(route, upstream, statusClass)) {
        // Names holding the separator could share a key: such a call is observed the plain way.
        this.flush();
        histogram.observe(seriesLabels(route, upstream, statusClass), value);
        return;
      }
      this.#last = queue;
    }
    if (!Number.isFinite(value)) {
      this.flush();
      histogram.observe(queue.labels, value); // throws, as observe always did
    } else if (queue.push(value)) this.flush();
  }

  /**
   * Hands every queued observation to prom-client, the series in the order they were first seen: every
   * series holds a value from its first call to its first hand-over, so prom-client meets the series in
   * that order, as it would have met them call by call, and a scrape lists them in the same order.
   */
  flush(): void {
    for (const queue of this.#queues.values()) queue.flush();
  }
}

/** One series' queued observations, and its child bound with prom-client's public `labels()`. */
class ObservationQueue {
  readonly labels: Record<string, string>;
  readonly #route: string;
  readonly #upstream: string;
  readonly #statusClass: string | undefined;
  readonly #values = new Float64Array(OBSERVATION_BATCH);
  #length = 0;
  readonly #observe: (value: number) => void;

  constructor(histogram: Histogram<string>, route: string, upstream: string, statusClass: string | undefined) {
    this.#route = route;
    this.#upstream = upstream;
    this.#statusClass = statusClass;
    this.labels = seriesLabels(route, upstream, statusClass);
    this.#observe = histogram.labels(this.labels).observe;
  }

  is(route: string, upstream: string, statusClass: string | undefined): boolean {
    return this.#route === route && this.#upstream === upstream && this.#statusClass === statusClass;
  }

  /** Queues a value; true when the queue is full. */
  push(value: number): boolean {
    this.#values[this.#length++] = value;
    return this.#length === OBSERVATION_BATCH;
  }

  flush(): void {
    const n = this.#length;
    this.#length = 0;
    for (let i = 0; i < n; i++) this.#observe(this.#values[i]);
  }
}

/** The labels of a duration series: `status_class` only for `duration`. */
function seriesLabels(route: string, upstream: string, statusClass: string | undefined): Record<string, string> {
  return statusClass === undefined ? { route, upstream } : { route, upstream, status_class: statusClass };
}

/** Adds the process metrics (CPU, memory, event loop, handles) to a gateway's registry: `metrics.defaultMetrics`. */
export function addDefaultMetrics(metrics: GatewayMetrics, prefix = 'lgsp_'): void {
  collectDefaultMetrics({ register: metrics.registry, prefix });
}

/** `404` -> `4xx`; anything outside 100..599 -> `other`. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** What the delivery engine reports as it goes (issue 17); the engine knows these three calls, not prom-client. */
export interface DeliveryMetricsHooks {
  delivered(upstreamId: string): void;
  attemptFailed(upstreamId: string): void;
  dead(upstreamId: string): void;
  /**
   * One attempt by its outcome, as the engine's attempt (audit) line has it: `delivered`; `retry` (failed,
   * retried later); `dead` or `refused` (failed, and the delivery is dead: out of attempts or age, or
   * refused for good).
   */
  attempt(upstreamId: string, outcome: 'delivered' | 'retry' | 'dead' | 'refused'): void;
}

/** The engine's hooks bumping a gateway's delivery counters. */
export function deliveryHooks(metrics: GatewayMetrics): DeliveryMetricsHooks {
  const hooks: DeliveryMetricsHooks = {
    delivered: (upstream) => metrics.deliveriesDelivered.inc({ upstream }),
    attemptFailed: (upstream) => metrics.deliveryAttemptsFailed.inc({ upstream }),
    dead: (upstream) => metrics.deliveriesDead.inc({ upstream }),
    attempt(upstream, outcome) {
      if (outcome === 'delivered') return hooks.delivered(upstream);
      hooks.attemptFailed(upstream);
      if (outcome !== 'retry') hooks.dead(upstream);
    },
  };
  return hooks;
}

/**
 * What the gauges read of the delivery store (delivery/store.ts `counts()`), written here as a shape: the
 * delivery folder reaches the upstream client, which reports to these metrics, so metrics imports nothing
 * of it.
 */
export interface DeliveryCountSource {
  counts(): Promise<{
    readonly queued: number;
    readonly inFlight: number;
    readonly delivered: number;
    readonly dead: number;
    readonly dropped: number;
    readonly failed: number;
    readonly oldestPendingAt: number | null;
  }>;
}

/** How long one reading of the store's counts serves scrapes: a scrape every second never costs a query each. */
export const DELIVERY_COUNTS_CACHE_MS = 5_000;

/**
 * Adds the gauges read from the delivery store at scrape time: `deliveries{state}` (queued, in_flight,
 * delivered, dead, dropped, failed), `delivery_oldest_pending_seconds`, and `delivery_store_up`. One
 * reading (`store.counts()`, a grouped count) serves every scrape for `cacheMs`, and concurrent scrapes
 * share one query in flight, so Prometheus (or several) never hammers PostgreSQL. A store that fails keeps
 * the last counts and shows `delivery_store_up 0`; the scrape itself still answers.
 */
export function observeDeliveryStore(
  metrics: GatewayMetrics,
  store: DeliveryCountSource,
  options: { readonly clock: Clock; readonly cacheMs?: number; readonly prefix?: string },
): void {
  const p = options.prefix ?? 'lgsp_';
  const cacheMs = options.cacheMs ?? DELIVERY_COUNTS_CACHE_MS;
  let last: Awaited<ReturnType<DeliveryCountSource['counts']>> | undefined;
  let up = 1;
  let readAt = -Infinity;
  let reading: Promise<void> | undefined;
  const read = (): Promise<void> => {
    if (options.clock.now() - readAt < cacheMs) return Promise.resolve();
    reading ??= store
      .counts()
      .then(
        (counts) => {
          last = counts;
          up = 1;
        },
        () => {
          up = 0;
        },
      )
      .finally(() => {
        readAt = options.clock.now();
        reading = undefined;
      });
    return reading;
  };
  const registers = [metrics.registry];
  new Gauge<'state'>({
    name: `${p}deliveries`,
    help: 'Deliveries in the store by state (read at scrape time, cached a few seconds)',
    labelNames: ['state'],
    registers,
    async collect() {
      await read();
      if (!last) return;
      const byState: Record<string, number> = {
        queued: last.queued,
        in_flight: last.inFlight,
        delivered: last.delivered,
        dead: last.dead,
        dropped: last.dropped,
        failed: last.failed,
      };
      for (const [state, n] of Object.entries(byState)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: `${p}delivery_oldest_pending_seconds`,
    help: 'Age of the oldest queued or in-flight delivery (0 when none)',
    registers,
    async collect() {
      await read();
      if (!last) return;
      const oldest = last.oldestPendingAt;
      this.set(oldest === null ? 0 : Math.max(0, (options.clock.now() - oldest) / 1000));
    },
  });
  new Gauge({
    name: `${p}delivery_store_up`,
    help: 'Delivery store answered the last count (1) or failed (0)',
    registers,
    async collect() {
      await read();
      this.set(up);
    },
  });
}
