import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

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
}

/** Latency buckets from 5 ms to 60 s: national platforms answer in tens of seconds when loaded. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Creates the metrics of one gateway; `defaultMetrics` adds process CPU/memory/event-loop metrics. */
export function createMetrics(options: { defaultMetrics?: boolean; prefix?: string } = {}): GatewayMetrics {
  const registry = new Registry();
  const p = options.prefix ?? 'lgsp_';
  const registers = [registry];
  const metrics: GatewayMetrics = {
    registry,
    requests: new Counter({
      name: `${p}requests_total`,
      help: 'Calls handled by the gateway',
      labelNames: ['route', 'consumer', 'upstream', 'status_class'],
      registers,
    }),
    duration: new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Whole call duration as seen by the gateway',
      labelNames: ['route', 'upstream', 'status_class'],
      buckets: BUCKETS,
      registers,
    }),
    upstreamDuration: new Histogram({
      name: `${p}upstream_duration_seconds`,
      help: 'Time spent waiting for the upstream',
      labelNames: ['route', 'upstream'],
      buckets: BUCKETS,
      registers,
    }),
    tokenFetches: new Counter({
      name: `${p}upstream_token_fetches_total`,
      help: 'Tokens fetched from upstream token endpoints',
      labelNames: ['upstream'],
      registers,
    }),
    tokenFailures: new Counter({
      name: `${p}upstream_token_failures_total`,
      help: 'Failed token fetches from upstream token endpoints',
      labelNames: ['upstream'],
      registers,
    }),
    validationRejections: new Counter({
      name: `${p}validation_rejections_total`,
      help: 'Bodies rejected by schema validation',
      labelNames: ['route', 'direction'],
      registers,
    }),
    reloads: new Counter({
      name: `${p}config_reloads_total`,
      help: 'Configuration reloads by result',
      labelNames: ['result'],
      registers,
    }),
    inFlight: new Gauge({
      name: `${p}in_flight_requests`,
      help: 'Calls being handled now',
      labelNames: ['route'],
      registers,
    }),
    authFailures: new Counter({
      name: `${p}auth_failures_total`,
      help: 'Caller authentication failures',
      labelNames: ['reason'],
      registers,
    }),
    rateLimited: new Counter({
      name: `${p}rate_limited_total`,
      help: 'Calls refused with 429',
      labelNames: ['route', 'consumer'],
      registers,
    }),
    tokensIssued: new Counter({
      name: `${p}tokens_issued_total`,
      help: 'Access tokens issued by POST /token',
      labelNames: ['consumer'],
      registers,
    }),
    auditUp: new Gauge({ name: `${p}audit_up`, help: 'Audit trail writable (1) or failing (0)', registers }),
    auditFailures: new Counter({
      name: `${p}audit_write_failures_total`,
      help: 'Audit outages: a write failed after the previous one succeeded',
      registers,
    }),
    auditLinesLost: new Counter({
      name: `${p}audit_lines_lost_total`,
      help: 'Audit lines dropped (buffer full during an outage, or unwritten at shutdown)',
      registers,
    }),
    auditRefused: new Counter({
      name: `${p}audit_refused_total`,
      help: 'Calls refused because the audit trail could not be written',
      labelNames: ['route'],
      registers,
    }),
    rateLimitStoreUp: new Gauge({
      name: `${p}rate_limit_store_up`,
      help: 'Shared rate-limit store (Redis) reachable (1) or down (0)',
      registers,
    }),
    rateLimitStoreErrors: new Counter({
      name: `${p}rate_limit_store_errors_total`,
      help: 'Rate-limit checks that failed because the store was down',
      labelNames: ['route'],
      registers,
    }),
  };
  if (options.defaultMetrics ?? true) addDefaultMetrics(metrics, p);
  return metrics;
}

/** Adds the process metrics (CPU, memory, event loop, handles) to a gateway's registry: `metrics.defaultMetrics`. */
export function addDefaultMetrics(metrics: GatewayMetrics, prefix = 'lgsp_'): void {
  collectDefaultMetrics({ register: metrics.registry, prefix });
}

/** `404` -> `4xx`; anything outside 100..599 -> `other`. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
