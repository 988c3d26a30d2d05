import type { Env } from '../config/interpolate.ts';
import type { Clock, GatewayConfig } from '../config/types.ts';
import { authorize } from '../policy/authorize.ts';
import { createAdminGuard } from '../auth/admin-guard.ts';
import { createAuthenticator } from '../auth/authenticator.ts';
import { createRateLimiter, type RateLimiter } from '../policy/rate-limiter.ts';
import { createTokenIssuer, type TokenIssuer } from '../auth/token-issuer.ts';
import { type GatewayMetrics } from '../observability/metrics.ts';
import type { Logger } from '../logging/logger.ts';
import type { RuntimeConsumers } from '../runtime/runtime.ts';

export interface ConsumersFactoryDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly env: Env;
  readonly metrics?: GatewayMetrics;
}

/**
 * Builds the consumer side of a runtime. The token issuer and the rate limiter are kept across a reload
 * when their settings did not change, so issued tokens stay valid and budgets are not reset by a
 * route edit; a changed issuer inherits the previous keys (`previous`) so its tokens stay valid too.
 */
export async function createRuntimeConsumers(
  config: GatewayConfig,
  deps: ConsumersFactoryDeps,
  previous?: RuntimeConsumers & {
    issuer?: TokenIssuer;
    limiter?: RateLimiter;
    issuerKey?: string;
    limiterKey?: string;
  },
): Promise<RuntimeConsumers> {
  const issuerKey = JSON.stringify([
    config.auth,
    Object.entries(config.consumers).map(([id, c]) => [id, c.clientSecrets]),
  ]);
  const limiterKey = JSON.stringify([
    config.rateLimits,
    Object.entries(config.consumers).map(([id, c]) => [id, c.rateLimit]),
    config.routes.map((r) => [r.id, r.rateLimit]),
  ]);
  const tokensEnabled = (config.auth as { tokens?: { enabled?: boolean } } | undefined)?.tokens?.enabled !== false;
  let issuer: TokenIssuer | undefined;
  if (tokensEnabled) {
    issuer =
      previous?.issuer && previous.issuerKey === issuerKey
        ? previous.issuer
        : await createTokenIssuer(config, {
            clock: deps.clock,
            logger: deps.logger,
            env: deps.env,
            metrics: deps.metrics,
            previous: previous?.issuer,
          });
  }
  const limiter =
    previous?.limiter && previous.limiterKey === limiterKey
      ? previous.limiter
      : createRateLimiter(config, { logger: deps.logger, env: deps.env, metrics: deps.metrics });
  const authenticator = createAuthenticator(config, {
    clock: deps.clock,
    tokenIssuer: issuer,
    env: deps.env,
    metrics: deps.metrics,
  });
  const guards = {
    main: createAdminGuard(config, { listener: 'main', env: deps.env }),
    admin: createAdminGuard(config, { listener: 'admin', env: deps.env }),
  };
  const router = issuer?.router();
  const result = {
    key: `${issuerKey}|${limiterKey}`,
    issuer,
    issuerKey,
    limiter,
    limiterKey,
    authenticator,
    authorize: (
      route: { config: { id: string; consumers: readonly string[] } },
      consumer: Parameters<typeof authorize>[1],
      req: Parameters<typeof authorize>[2],
    ) => authorize(route.config, consumer, req),
    rateLimit: (consumer: { id: string }, route: { id: string }) => limiter.consume(consumer.id, route.id),
    rateLimitStore: () => limiter.storeStatus(),
    adminGuard: (req: Parameters<typeof authorize>[2], listener: 'main' | 'admin') => guards[listener](req),
    tokenRouter: router ? (req: never, res: never, next: (err?: unknown) => void) => router(req, res, next) : undefined,
    /** Closes the pieces the successor runtime (if any) did not take over. */
    async close(successor?: { issuer?: TokenIssuer; limiter?: RateLimiter }) {
      if (limiter !== successor?.limiter) await limiter.close();
      if (issuer && issuer !== successor?.issuer) issuer.close?.();
    },
  };
  return result as unknown as RuntimeConsumers;
}
