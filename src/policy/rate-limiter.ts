import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type {
  BurstyRateLimiter as BurstyRateLimiterClass,
  RateLimiterAbstract,
  RateLimiterMemory as RateLimiterMemoryClass,
  RateLimiterRedis as RateLimiterRedisClass,
  RateLimiterRes as RateLimiterResClass,
} from 'rate-limiter-flexible';
import type { GatewayConfig, RateLimitConfig, RateLimitsConfig } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { createCollapsedLog } from '../logging/collapsed-log.ts';
import { maskText } from '../logging/mask.ts';
import type { Logger } from '../logging/logger.ts';
import type { Env } from '../config/interpolate.ts';
import { resolveSecretRef } from '../config/secrets.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';

// Loaded where used, not imported: the package index of rate-limiter-flexible loads every store it has
// (Mongo, DynamoDB, ...), and ioredis with its dependencies holds ~20 MB resident; a gateway on the memory
// store (the shipped config) needs neither (issue 19, RSS at rest). Same module instances as an import.
const require = createRequire(import.meta.url);
const RateLimiterMemory = require('rate-limiter-flexible/lib/RateLimiterMemory.js') as typeof RateLimiterMemoryClass;
const BurstyRateLimiter = require('rate-limiter-flexible/lib/BurstyRateLimiter.js') as typeof BurstyRateLimiterClass;
const RateLimiterRes = require('rate-limiter-flexible/lib/RateLimiterRes.js') as typeof RateLimiterResClass;
type RateLimiterRes = RateLimiterResClass;
const redisStore = () => ({
  Redis: (require('ioredis') as { Redis: typeof Redis }).Redis,
  RateLimiterRedis: require('rate-limiter-flexible/lib/RateLimiterRedis.js') as typeof RateLimiterRedisClass,
});

/**
 * Per-consumer and per-route budgets. Headers follow draft-ietf-httpapi-ratelimit-headers-07:
 * `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds until the window resets) and
 * `RateLimit-Policy` (`<requests>;w=<window seconds>`), describing the tightest budget of the call.
 */
export interface RateLimiter {
  /** Spends one request from every budget that applies; returns headers to set; throws GW_RATE_LIMITED. */
  consume(consumerId: string, routeId: string): Promise<Record<string, string>>;
  /** The shared store's state (`store: redis`); undefined with the in-memory store. */
  storeStatus(): RateLimitStoreStatus | undefined;
  /** Quits the Redis connection when this limiter opened it. */
  close(): Promise<void>;
}

/** What /readyz and /admin/status say about the shared store (issue 14.8). */
export interface RateLimitStoreStatus {
  readonly store: 'redis';
  /** `connecting` until the first connection is made or fails. */
  readonly state: 'connecting' | 'up' | 'down';
  /** ISO time of the last change of state. */
  readonly since: string;
  /** The last error's code or message (`ECONNREFUSED`, `Connection is closed.`): no URL, no password. */
  readonly lastError?: string;
  readonly onStoreError: RateLimitsConfig['onStoreError'];
  /** Calls whose budget could not be checked while the store was down, since start. */
  readonly failedChecks: number;
}

/** How often a repeated store warning is written while the store stays down (the rest are counted). */
const STORE_WARNING_INTERVAL_MS = 30_000;

interface Budget {
  readonly limiter: RateLimiterAbstract | BurstyRateLimiterClass;
  readonly config: RateLimitConfig;
  /** Key within the limiter, e.g. the consumer id. */
  readonly key: (consumerId: string) => string;
}

/** Minimal subset of an ioredis client the limiter needs (tests may pass a real one). */
export type RedisClient = Redis;

/**
 * Builds the limiter of one config. `store: redis` makes every replica share one budget; when Redis
 * fails, `rateLimits.onStoreError` decides: `deny` (default: 503, fail closed as domain.md §3 asks),
 * `allow` (no limit while Redis is down), or `memory` (each replica falls back to its own in-memory budget).
 */
export function createRateLimiter(
  config: GatewayConfig,
  deps: { logger: Logger; redis?: RedisClient; env?: Env; metrics?: GatewayMetrics },
): RateLimiter {
  const options: RateLimitsConfig = config.rateLimits;
  let ownRedis: Redis | undefined;
  let redis: Redis | undefined = deps.redis;
  if (options.store === 'redis' && !redis) {
    if (!options.redis) throw new Error('rateLimits.redis.url is required when store is redis');
    const url = resolveSecretRef(options.redis.url, ['rateLimits', 'redis', 'url'], deps.env ?? process.env);
    // No offline queue: while Redis is down a call must fail at once (then onStoreError decides), not hang.
    ownRedis = new (redisStore().Redis)(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: false,
    });
    redis = ownRedis;
  }
  // The store's state, for /readyz and /admin/status. ioredis reports each failed reconnection (every
  // retry, up to 2 s apart) and every refused call fails too: one warning per interval says both, with a
  // count, instead of one line per event (issue 14.8).
  let storeState: RateLimitStoreStatus['state'] = redis?.status === 'ready' ? 'up' : 'connecting';
  let stateSince = Date.now();
  let lastError: string | undefined;
  let failedChecks = 0;
  let failedAtDown = 0;
  const storeWarning = createCollapsedLog(deps.logger, 'warn', 'rate limit store unavailable', {
    intervalMs: STORE_WARNING_INTERVAL_MS,
  });
  let closing = false;
  const setState = (state: RateLimitStoreStatus['state']) => {
    // A limiter replaced by a reload quits its connection: that is not an outage of the store.
    if (closing || state === storeState) return;
    const outageMs = Date.now() - stateSince;
    const wasDown = storeState === 'down';
    storeState = state;
    stateSince = Date.now();
    deps.metrics?.rateLimitStoreUp.set(state === 'up' ? 1 : 0);
    if (state === 'down') failedAtDown = failedChecks;
    if (state === 'up' && wasDown) {
      storeWarning.settle({ onStoreError: options.onStoreError, error: lastError });
      deps.logger.warn('rate limit store reachable again', {
        outageMs,
        failedChecks: failedChecks - failedAtDown,
      });
    }
  };
  // With the in-memory store there is no store to lose: 1, so an alert on `== 0` means Redis.
  deps.metrics?.rateLimitStoreUp.set(options.store === 'redis' && storeState !== 'up' ? 0 : 1);
  if (options.store === 'redis' && redis) {
    redis.on('ready', () => setState('up'));
    redis.on('error', (err: Error) => {
      lastError = storeErrorText(err);
      setState('down');
      storeWarning.report({ onStoreError: options.onStoreError, error: lastError });
    });
    redis.on('close', () => {
      if (storeState === 'up') setState('down');
    });
  }
  const prefix = options.redis?.keyPrefix ?? 'lgsp:rl';

  const makeLimiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    if (options.store !== 'redis') return new RateLimiterMemory({ keyPrefix, points, duration });
    return new (redisStore().RateLimiterRedis)({
      storeClient: redis,
      keyPrefix: `${prefix}:${keyPrefix}`,
      points,
      duration,
      rejectIfRedisNotReady: true,
      insuranceLimiter:
        options.onStoreError === 'memory' ? new RateLimiterMemory({ keyPrefix, points, duration }) : undefined,
    });
  };

  const makeBudget = (name: string, limit: RateLimitConfig, key: Budget['key']): Budget => {
    // The window is part of the key prefix: changing a limit in config starts fresh counters.
    const base = makeLimiter(`${name}:${limit.requests}/${limit.windowSeconds}`, limit.requests, limit.windowSeconds);
    const limiter = limit.burst
      ? new BurstyRateLimiter(
          base,
          makeLimiter(
            `${name}:burst:${limit.burst.requests}/${limit.burst.windowSeconds}`,
            limit.burst.requests,
            limit.burst.windowSeconds,
          ),
        )
      : base;
    return { limiter, config: limit, key };
  };

  const consumerBudgets = new Map<string, Budget>();
  for (const [id, consumer] of Object.entries(config.consumers ?? {})) {
    const limit = consumer.rateLimit ?? options.defaultConsumer;
    if (limit)
      consumerBudgets.set(
        id,
        makeBudget(`c:${id}`, limit, () => id),
      );
  }
  const routeBudgets = new Map<string, Budget>();
  for (const route of config.routes ?? []) {
    const limit = route.rateLimit;
    if (!limit) continue;
    const shared = limit.scope === 'route';
    routeBudgets.set(
      route.id,
      makeBudget(`r:${route.id}`, limit, (consumerId) => (shared ? '*' : consumerId)),
    );
  }

  const headersFor = (budget: Budget, res: RateLimiterRes) => ({
    'RateLimit-Limit': String(budget.config.requests),
    'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
    'RateLimit-Reset': String(Math.ceil(res.msBeforeNext / 1000)),
  });

  // A replica that has just started gets traffic as soon as it listens, while its own Redis connection
  // may still be opening: those first calls wait for the first outcome (ready, or an error, bounded by
  // ioredis' connectTimeout) instead of being refused as "store down". Later outages still fail at once.
  let firstConnect: Promise<void> | undefined =
    ownRedis && ownRedis.status !== 'ready'
      ? new Promise<void>((resolve) => {
          const done = () => {
            for (const e of ['ready', 'error', 'end']) ownRedis!.off(e, done);
            firstConnect = undefined;
            resolve();
          };
          for (const e of ['ready', 'error', 'end']) ownRedis!.once(e, done);
        })
      : undefined;

  return {
    async consume(consumerId, routeId) {
      const budgets = [consumerBudgets.get(consumerId), routeBudgets.get(routeId)].filter((b): b is Budget => !!b);
      if (budgets.length === 0) return {};
      if (firstConnect) await firstConnect;
      const policy = budgets.map((b) => `${b.config.requests};w=${b.config.windowSeconds}`).join(', ');
      let tightest: { budget: Budget; res: RateLimiterRes } | undefined;
      for (const budget of budgets) {
        let res: RateLimiterRes;
        try {
          res = await budget.limiter.consume(budget.key(consumerId));
        } catch (err) {
          if (err instanceof RateLimiterRes) {
            const retryAfter = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
            deps.metrics?.rateLimited.inc({ route: routeId, consumer: consumerId });
            throw new GatewayError(
              'GW_RATE_LIMITED',
              { consumer: consumerId, route: routeId, retryAfter },
              {
                headers: {
                  'Retry-After': String(retryAfter),
                  ...headersFor(budget, err),
                  'RateLimit-Remaining': '0',
                  'RateLimit-Policy': policy,
                },
              },
            );
          }
          // The store failed (Redis down) and no insurance limiter took over.
          failedChecks++;
          lastError = storeErrorText(err);
          if (redis?.status !== 'ready') setState('down');
          deps.metrics?.rateLimitStoreErrors.inc({ route: routeId });
          storeWarning.report({ onStoreError: options.onStoreError, error: lastError });
          if (options.onStoreError === 'allow') return {};
          throw new GatewayError(
            'GW_SERVICE_UNAVAILABLE',
            { reason: 'không kiểm tra được hạn mức gọi (kho đếm không phản hồi)' },
            { headers: { 'Retry-After': '1' }, cause: err },
          );
        }
        if (!tightest || res.remainingPoints < tightest.res.remainingPoints) tightest = { budget, res };
      }
      return { ...headersFor(tightest!.budget, tightest!.res), 'RateLimit-Policy': policy };
    },

    storeStatus() {
      if (options.store !== 'redis') return undefined;
      return {
        store: 'redis',
        state: storeState,
        since: new Date(stateSince).toISOString(),
        ...(lastError === undefined ? {} : { lastError }),
        onStoreError: options.onStoreError,
        failedChecks,
      };
    },

    async close() {
      closing = true;
      if (ownRedis) {
        try {
          await ownRedis.quit();
        } catch {
          ownRedis.disconnect();
        }
      }
    },
  };
}

/** An error of the store as the log and the status page show it: the code, else the message, masked. */
function storeErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  // rate-limiter-flexible rejects with the client's error, or with a plain string/Error of its own.
  return maskText(err instanceof Error ? err.message : String(err)).slice(0, 200);
}
