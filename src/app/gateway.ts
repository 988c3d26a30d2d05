import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { ConfigError, ConfigPathError, formatPath } from '../config/config-error.ts';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { createAdminRouter, metricsHandler, ownErrorHandlers } from './admin-router.ts';
import { watchConfigDir } from '../config/config-watcher.ts';
import type { Env } from '../config/interpolate.ts';
import { systemClock, type Clock } from '../config/types.ts';
import {
  addDefaultMetrics,
  createMetrics,
  deliveryHooks,
  observeDeliveryStore,
  statusClass,
  type GatewayMetrics,
} from '../observability/metrics.ts';
import { type AuditEntry, type AuditTrail, auditTime, createAuditTrail } from '../observability/audit.ts';
import type { DeliveryEngine } from '../delivery/engine.ts';
import type { GatewayConfig } from '../config/types.ts';
import { createLogger, flushLines, type Logger } from '../logging/logger.ts';
import { parseJsonBody } from '../transform/index.ts';
import {
  createGatewayHandler,
  type ExchangeRecord,
  type JsonParser,
  type PipelineHooks,
} from '../pipeline/gateway-handler.ts';
import { defaultFactories, gatewayLoadOptions } from './default-factories.ts';
import { Reloader, type ReloadResult } from '../runtime/reloader.ts';
import type { DeliveryStore } from '../delivery/store.ts';
import { startPayloadRetention } from '../delivery/retention.ts';
import type { PushLedger } from '../policy/guards/guard.ts';
import { buildRuntime, closeRuntime, type RuntimeFactories } from '../runtime/runtime.ts';
import { createDeliveryEngine, type DeliveryStoreOpener } from './delivery-factory.ts';

export interface GatewayOptions {
  readonly configDir: string;
  readonly env?: Env;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly factories?: RuntimeFactories;
  readonly hooks?: PipelineHooks;
  readonly parseJson?: JsonParser;
  readonly metrics?: GatewayMetrics;
  /** Watch the config directory for changes (default: the config's `reload.watch`). */
  readonly watch?: boolean;
  /** The delivery store (issue 17) the admin pages, metrics and ledger guard read; tests pass their own. */
  readonly deliveries?: DeliveryStore;
  /** The keyed HMAC the delivery engine gives a consumer's business keys (the store's orderKey), for ledger look-ups. */
  readonly deliveryKey?: (consumerId: string, businessKey: string) => string;
  /** Opens the durable delivery store (issue 17; default: the one `delivery.store` names). */
  readonly openDeliveryStore?: DeliveryStoreOpener;
}

export interface Gateway {
  readonly app: Express;
  readonly reloader: Reloader;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  /** Starts listening (port 0 = any free port). */
  listen(port?: number, host?: string): Promise<{ server: Server; url: string; port: number }>;
  /** Starts the separate admin listener (/admin, /metrics, health), normally on 127.0.0.1. */
  listenAdmin(port: number, host: string): Promise<{ server: Server; url: string; port: number }>;
  /** Graceful stop: refuse new connections, let in-flight requests finish within `graceMs`, close agents. */
  close(graceMs?: number): Promise<void>;
  readonly ready: boolean;
  readonly audit: AuditTrail;
  /** The durable delivery engine (issue 17), when `delivery.encryptionKey` is configured. */
  readonly delivery?: DeliveryEngine;
}

/** Builds a whole gateway from its dependencies; several can run in one process (tests do). */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  const env = options.env ?? process.env;
  // Process metrics are added once the config says whether it wants them (`metrics.defaultMetrics`, start-only).
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: false });
  // The ledger of pushes as route guards read it (set once the delivery engine is up, below).
  let ledger: PushLedger | undefined;
  const factories =
    options.factories ??
    defaultFactories({ configDir: options.configDir, env, logger, clock, metrics, ledger: () => ledger });
  const reloader = await Reloader.create({
    dir: options.configDir,
    load: gatewayLoadOptions(env),
    build: (loaded, previous) => buildRuntime(loaded, { factories, logger, clock }, previous),
    logger,
    clock,
  });
  reloader.on('reload', (result: ReloadResult) => metrics.reloads.inc({ result: result.result }));
  logger.level = reloader.current.config.logging.level;
  if (!options.metrics && reloader.current.config.metrics.defaultMetrics) addDefaultMetrics(metrics);
  // The audit trail is start-only (src/config/start-only.ts): a reload that changes `audit` fails.
  const initial = reloader.current.config;
  const audit = buildAuditTrail(initial, options.configDir, { logger, env, metrics, now: () => clock.now() });
  // Durable delivery (issue 17): its store opened at start; the worker runs until close().
  const delivery = await createDeliveryEngine({
    config: initial,
    configDir: options.configDir,
    env,
    clock,
    logger,
    audit,
    current: () => reloader.current,
    openStore: options.openDeliveryStore,
    metrics: deliveryHooks(metrics),
  });
  delivery?.start();
  // Delivery operations (issue 17) on the engine's store, or on a store a test passes in: the ledger the
  // route guards read (the newest push of a clear business key, found by its HMAC), the scrape-time
  // gauges, and the payload retention (citizen data at rest only until delivered plus
  // `delivery.retentionDays`: hourly sweeps).
  const deliveries = delivery?.store ?? options.deliveries;
  const orderKey = delivery ? (consumer: string, key: string) => delivery.orderKey(consumer, key) : options.deliveryKey;
  if (deliveries && orderKey)
    ledger = {
      latestPush: (group, consumer, businessKey) => deliveries.latest(group, orderKey(consumer, businessKey)),
    };
  if (deliveries) observeDeliveryStore(metrics, deliveries, { clock });
  const retention =
    deliveries &&
    startPayloadRetention({
      store: deliveries,
      clock,
      logger,
      retentionDays: () => reloader.current.config.delivery.retentionDays,
    });
  const hooks: PipelineHooks = {
    onExchange(record) {
      const status = record.status ?? 0;
      const route = record.route ?? '(none)';
      const upstream = record.upstream ?? '(none)';
      const statusLabel = statusClass(status);
      metrics.countRequest(route, record.consumer ?? '(anonymous)', upstream, statusLabel);
      metrics.observeDuration(route, upstream, statusLabel, (record.durationMs ?? 0) / 1000);
      if (record.upstreamMs !== undefined) metrics.observeUpstreamDuration(route, upstream, record.upstreamMs / 1000);
      if (record.validationRejected) metrics.validationRejections.inc({ route, direction: 'request' });
      if (record.responseRejected) metrics.validationRejections.inc({ route, direction: 'response' });
      if (record.route === undefined) return; // unknown paths are not exchanges with anyone
      const entry: AuditEntry = {
        time: auditTime(clock.now()),
        requestId: record.requestId,
        consumer: record.consumer,
        route: record.route,
        upstream: record.upstream,
        method: record.method,
        status,
        durationMs: Math.round((record.durationMs ?? 0) * 100) / 100,
        keys: auditKeys(audit, record),
      };
      // Added after `keys`, where the spread put them (the line's key order is unchanged).
      if (record.officer !== undefined) Object.assign(entry, audit.officerEntry(record.officer));
      audit.record(entry);
    },
    admit(route) {
      audit.admit(route.config);
    },
    onBody(record, body) {
      // Right after the mapping: in the server the same walk costs about 1.5x over the body gone cold by the
      // time the exchange closes (issue 19, docs/benchmarks.md, "What the fourth session's changes bought").
      record.keys = audit.extractKeys(body, record.routeConfig);
    },
    ...options.hooks,
  };

  /**
   * Ready: listening, not draining, and its audit trail writable (unless `audit.onFailure: continue`): a
   * replica whose own disk refuses audit lines is taken out of the load balancer, so traffic goes to one
   * that can serve it. The shared rate-limit store is reported but does not decide readiness: every replica
   * shares it, so an outage would take them all out of the Service at once, and routes without a rate limit
   * (still served) would get connection errors from the load balancer instead of answers in their dialect.
   */
  const isReady = () => listening && !shuttingDown && audit.ready;
  const dependencies = () => ({
    audit: auditStatus(audit.health, initial.audit.onFailure),
    rateLimitStore: reloader.current.consumers.rateLimitStore?.() ?? { store: 'memory' },
    // Whether file changes reload now, and after how long (`reload.*`, applied at each reload).
    watch: watcher ? { enabled: true, debounceMs: watcher.debounceMs } : { enabled: false },
  });

  let server: Server | undefined;
  let closing: Promise<void> | undefined;
  let adminServer: Server | undefined;
  let shuttingDown = false;
  let listening = false;
  const handler = createGatewayHandler({
    current: () => reloader.current,
    logger,
    clock,
    hooks: {
      ...hooks,
      onInFlight: (route, delta) => metrics.moveInFlight(route, delta),
    },
    parseJson: options.parseJson ?? parseJsonBody,
    delivery,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const drainIfShuttingDown = (res: ServerResponse) => {
    // While draining, tell keep-alive callers to reconnect elsewhere and free the socket after the reply.
    if (shuttingDown) {
      res.setHeader('connection', 'close');
      res.once('finish', () => server?.closeIdleConnections());
    }
  };
  app.use((_req, res, next) => {
    drainIfShuttingDown(res);
    next();
  });
  const ownResponses = helmet();
  app.get('/healthz', ownResponses, (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', ownResponses, (_req, res) => {
    const ready = isReady();
    const store = reloader.current.consumers.rateLimitStore?.();
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not-ready',
      hash: reloader.current.hash,
      // Only states: no path, no address, no error text (this page answers anyone).
      audit: audit.health.state,
      ...(store ? { rateLimitStore: store.state } : {}),
    });
  });
  /**
   * /admin and the metrics path of the current config: rebuilt at each reload (`metrics.path` may move,
   * `metrics.enabled` and `metrics.public` may change). `/admin/metrics` always answers admins.
   */
  const configRoutes = (listener: 'main' | 'admin') => {
    const config = reloader.current.config;
    const adminRouter = createAdminRouter(reloader, metrics, listener, dependencies, {
      deliveries,
      audit,
      logger,
      clock,
    });
    const routes = express.Router();
    routes.use('/admin', ownResponses, adminRouter);
    if (config.metrics.enabled)
      routes.get(metricsPath(config), ownResponses, config.metrics.public ? metricsHandler(metrics) : adminRouter);
    return routes;
  };
  let mainRoutes = configRoutes('main');
  app.use((req, res, next) => mainRoutes(req, res, next));
  // The gateway's own OAuth2 token endpoint and JWKS (issue 5), when enabled.
  app.use((req, res, next) => {
    const router = reloader.current.consumers.tokenRouter;
    if (router && (req.path === '/token' || req.path === '/.well-known/jwks.json')) router(req, res, next);
    else next();
  });
  app.use((req, res) => handler(req, res));
  const appErrors = ownErrorHandlers(logger);
  app.use(appErrors.error);
  // Proxied calls skip Express: its router walk over the gateway's own routes was about 5% of the CPU of
  // each proxied request (docs/benchmarks.md). Any path that might be one of the gateway's own (compared
  // case-insensitively, as Express does) still goes through the app, which ends in the same handler.
  // The list follows the current config (its metrics path): recomputed at each reload.
  let ownPrefixes = ownPathPrefixes(initial);
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    const url = (req.url ?? '/').toLowerCase();
    if (ownPrefixes.some((p) => url.startsWith(p))) {
      (app as (req: IncomingMessage, res: ServerResponse) => void)(req, res);
      return;
    }
    drainIfShuttingDown(res);
    handler(req, res);
  };

  /** The config watcher as `reload.*` of the current config says (`options.watch` overrides `watch`). */
  let watcher: { close(): void; readonly debounceMs: number } | undefined;
  const armWatcher = (config: GatewayConfig) => {
    const watch = !shuttingDown && (options.watch ?? config.reload.watch);
    const { debounceMs } = config.reload;
    if (watch && watcher?.debounceMs === debounceMs) return;
    watcher?.close();
    watcher = watch
      ? {
          debounceMs,
          ...watchConfigDir(options.configDir, {
            debounceMs,
            logger,
            onChange: () => reloader.reload('file-change'),
            extraDirs: () => {
              const { paths } = reloader.current.config;
              return [paths.routes, paths.mappings, paths.catalogs];
            },
          }),
        }
      : undefined;
  };
  armWatcher(initial);

  let adminRoutes: express.Router | undefined;
  // Every setting not declared start-only (src/config/start-only.ts) applies here, once a reload succeeded:
  // the log level, the metrics path and the bypass list that follows it, the watcher's debounce and switch.
  // Registered before createGateway returns, so whoever awaits a 'reload' event finds these applied.
  reloader.on('reload', (result: ReloadResult) => {
    if (result.result !== 'success') return;
    const config = reloader.current.config;
    logger.level = config.logging.level;
    ownPrefixes = ownPathPrefixes(config);
    mainRoutes = configRoutes('main');
    if (adminRoutes) adminRoutes = configRoutes('admin');
    armWatcher(config);
    // Routes may have come back (or gone): the delivery worker reports what waits and looks again now.
    void delivery?.routesChanged();
  });

  return {
    app,
    reloader,
    logger,
    metrics,
    get ready() {
      return isReady();
    },
    audit,
    delivery,
    listen(port = reloader.current.config.listen.port, host = reloader.current.config.listen.host) {
      return new Promise((resolve, reject) => {
        const tls = reloader.current.config.listen.tls;
        // insecureHTTPParser stays off whatever NODE_OPTIONS says: the strict parser is what refuses
        // Content-Length with Transfer-Encoding, obs-fold and bad chunk sizes (docs/security.md, framing).
        const serverOptions = { keepAliveTimeout: 65_000, headersTimeout: 66_000, insecureHTTPParser: false };
        const s = tls
          ? https.createServer({ ...serverOptions, ...tlsServerOptions(options.configDir, tls) }, serve)
          : http.createServer(serverOptions, serve);
        // http-proxy-middleware adds one 'close' listener to the server per upstream (to close its proxy):
        // with more than ten upstreams that is expected, not a leak.
        s.setMaxListeners(0);
        s.once('error', reject);
        s.listen(port, host, () => {
          server = s;
          listening = true;
          const address = s.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({
            server: s,
            port: address.port,
            url: `${tls ? 'https' : 'http'}://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`,
          });
        });
      });
    },
    listenAdmin(port, host) {
      const adminApp = express();
      adminApp.disable('x-powered-by');
      adminRoutes = configRoutes('admin');
      adminApp.get('/healthz', ownResponses, (_req, res) => void res.json({ status: 'ok' }));
      adminApp.use((req, res, next) => adminRoutes!(req, res, next));
      const adminErrors = ownErrorHandlers(logger);
      adminApp.use(adminErrors.notFound);
      adminApp.use(adminErrors.error);
      return new Promise((resolve, reject) => {
        const s = http.createServer(adminApp);
        s.once('error', reject);
        s.listen(port, host, () => {
          adminServer = s;
          const address = s.address() as AddressInfo;
          resolve({ server: s, port: address.port, url: `http://${address.address}:${address.port}` });
        });
      });
    },
    close(graceMs = reloader.current.config.shutdown.graceMs) {
      closing ??= closeOnce(graceMs);
      return closing;
    },
  };

  /**
   * The delivery worker stops claiming; attempts under way get the grace period, after which their claims
   * simply expire and another process (or the next start) delivers them: at least once, never lost.
   */
  async function stopDelivery(graceMs: number): Promise<void> {
    if (!delivery) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([delivery.stop(), grace]);
    clearTimeout(timer);
  }

  /** Graceful stop, run once however often close() is called. */
  async function closeOnce(graceMs: number): Promise<void> {
    shuttingDown = true;
    adminServer?.closeAllConnections();
    adminServer?.close();
    watcher?.close();
    if (server) {
      const s = server;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeIdleConnections();
      const runtime = reloader.current;
      const timer = setTimeout(() => s.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      listening = false;
      await stopDelivery(graceMs);
      await closeRuntime(runtime);
    } else {
      await stopDelivery(graceMs);
      await closeRuntime(reloader.current);
    }
    await retention?.stop();
    await delivery?.store.close();
    await audit.close();
    flushLines(logger);
    (factories as { tokenCache?: { close(): void } }).tokenCache?.close();
  }
}

/** Where Prometheus scrapes: `metrics.path` of the config. */
function metricsPath(config: GatewayConfig): string {
  return config.metrics.path;
}

/** Paths that may be the gateway's own (lower case): requests to them go through Express, not straight to the proxy. */
function ownPathPrefixes(config: GatewayConfig): readonly string[] {
  const own = ['/healthz', '/readyz', '/admin', '/token', '/.well-known/'];
  if (config.metrics.enabled) own.push(metricsPath(config));
  return own.map((p) => p.toLowerCase());
}

/** The audit trail's state as /admin/status shows it (admin only: the error code, counts, the mode). */
function auditStatus(health: AuditTrail['health'], onFailure: string): Record<string, unknown> {
  return {
    state: health.state,
    ...(health.since === undefined ? {} : { since: new Date(health.since).toISOString() }),
    ...(health.error === undefined ? {} : { error: health.error }),
    pendingBytes: health.pendingBytes,
    lostLines: health.lostLines,
    onFailure,
  };
}

/**
 * The audit trail of the config the gateway starts with, its directory resolved from the config directory.
 * A fault found here (no HMAC key, an unwritable directory) is a config error, reported like the others.
 */
function buildAuditTrail(
  config: GatewayConfig,
  configDir: string,
  deps: { logger: Logger; env: Env; metrics: GatewayMetrics; now: () => number },
): AuditTrail {
  try {
    return createAuditTrail(
      {
        ...config,
        audit: { ...config.audit, dir: path.resolve(configDir, config.audit.dir) },
      } as GatewayConfig,
      deps,
    );
  } catch (err) {
    if (!(err instanceof ConfigPathError)) throw err;
    throw new ConfigError([{ path: formatPath(err.path), rule: err.rule, message: err.message }]);
  }
}

/**
 * TLS options of the gateway's own listener. Client certificates are requested but not enforced by the
 * handshake (`rejectUnauthorized: false`): a caller without one may still use an API key, and one whose
 * certificate does not check out gets a 401/403 in its route's dialect rather than a bare TLS alert.
 */
function tlsServerOptions(configDir: string, tls: NonNullable<GatewayConfig['listen']['tls']>): https.ServerOptions {
  const read = (file: string, key: string) => {
    try {
      return readFileSync(path.resolve(configDir, file));
    } catch (err) {
      throw new ConfigError([
        {
          path: `listen.tls.${key}`,
          rule: 'file',
          message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        },
      ]);
    }
  };
  return {
    cert: read(tls.cert, 'cert'),
    key: read(tls.key, 'key'),
    ca: tls.ca ? read(tls.ca, 'ca') : undefined,
    requestCert: tls.clientCertificates === 'request',
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  };
}

/** Business keys of the request, and the identifiers the answer returned (issue 16.6: whose data came back). */
function auditKeys(audit: AuditTrail, record: ExchangeRecord): AuditEntry['keys'] {
  const asked = record.keys;
  if (record.answer === undefined) return asked;
  const returned = audit.extractAnswerKeys(record.answer, record.routeConfig);
  return Object.keys(returned).length === 0 ? asked : { ...asked, ...returned };
}
