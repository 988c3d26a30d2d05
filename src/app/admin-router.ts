import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { createDeliveryAdminRouter, type AdminDeliveryDeps } from './admin-deliveries.ts';
import { systemClock } from '../config/types.ts';
import { errorDialects } from '../errors/dialects/index.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { Logger } from '../logging/logger.ts';
import { maskUrl } from '../logging/mask.ts';
import type { Reloader } from '../runtime/reloader.ts';
import type { RouteRuntime } from '../runtime/runtime.ts';
import type { GatewayConfig } from '../config/types.ts';
import { describeCodeForms } from '../transform/index.ts';

const render = errorDialects['problem+json'].create({} as never, {});

/** Prometheus text of a gateway's registry (behind the admin guard unless `metrics.public`). */
export function metricsHandler(metrics: GatewayMetrics): (req: Request, res: Response) => Promise<void> {
  return async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}

/**
 * /admin/* and /metrics: status (hash, loaded at, last error, reload counts), reload, upstream token
 * states, the route table, Prometheus metrics, the delivery queue and ledger. Only admin credentials pass (the guard of the current
 * config: X-Admin-Key on the main listener; the admin listener bound to loopback may waive it).
 */
export function createAdminRouter(
  reloader: Reloader,
  metrics: GatewayMetrics,
  listener: 'main' | 'admin',
  /** The state of what the gateway depends on besides its config (audit trail, rate-limit store). */
  dependencies: () => Record<string, unknown> = () => ({}),
  /** The delivery store and where operator actions are audited (`/admin/deliveries`, admin-deliveries.ts). */
  operations: Partial<AdminDeliveryDeps> = {},
): Router {
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    try {
      // Who passed, for the audit line of an operator action (the admin key's label).
      res.locals.admin = reloader.current.consumers.adminGuard(req, listener);
      next();
    } catch (err) {
      const gwErr = err instanceof GatewayError ? err : new GatewayError('GW_INTERNAL', { requestId: '' });
      const out = render(gwErr, {
        requestId: String(res.getHeader('x-request-id') ?? ''),
        path: maskUrl(req.originalUrl),
      });
      res.status(out.status).set(gwErr.headers).type(out.contentType).send(out.body);
    }
  });
  router.get(['/metrics', reloader.current.config.metrics.path], metricsHandler(metrics));
  router.get('/status', (_req, res) => {
    res.json({ ...reloader.status(), ...dependencies() });
  });
  router.post('/reload', async (_req, res) => {
    const result = await reloader.reload('admin', true);
    res
      .status(result.result === 'failure' ? 422 : 200)
      .json(result.result === 'failure' ? { result: 'failure', errors: result.issues } : result);
  });
  router.get('/upstreams', (_req, res) => {
    const out: Record<string, unknown> = {};
    for (const [id, u] of reloader.current.upstreams) {
      out[id] = {
        url: u.url.origin + u.url.pathname,
        timeouts: u.config.timeouts,
        maxSockets: u.config.maxSockets,
        credentials: u.credentials.describe?.() ?? null,
      };
    }
    res.json(out);
  });
  router.get('/routes', (_req, res) => {
    const current = reloader.current;
    res.json(current.routeList.map((route) => describeRoute(route, current.config.consumers)));
  });
  router.use(
    '/deliveries',
    createDeliveryAdminRouter({ clock: systemClock, ...operations, logger: operations.logger }),
  );
  return router;
}

/**
 * The last handler of the gateway's Express apps (main listener and admin listener): any error, and a
 * path no handler took, as problem+json. Express's own page is HTML with the stack and file paths when
 * NODE_ENV is unset, as under `npm start` (issue 13.7).
 */
export function ownErrorHandlers(logger: Logger) {
  const answer = (req: Request, res: Response, gwErr: GatewayError) => {
    const requestId = String(res.getHeader('x-request-id') ?? '');
    // As the pipeline's writer does: an ID number in the path (an admin page's :id) is not echoed.
    const out = render(gwErr, { requestId, path: maskUrl(req.path) });
    res
      .status(out.status)
      .set({ ...gwErr.headers, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' })
      .type(out.contentType)
      .send(out.body);
  };
  return {
    notFound: (req: Request, res: Response) =>
      answer(req, res, new GatewayError('GW_ROUTE_NOT_FOUND', { method: req.method, path: req.path })),
    error: (err: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(err);
      if (err instanceof GatewayError) return answer(req, res, err);
      const status = (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        return answer(req, res, new GatewayError('GW_BAD_REQUEST', { reason: 'yêu cầu không đọc được' }));
      }
      logger.error('internal error', { path: req.path, error: err });
      return answer(
        req,
        res,
        new GatewayError('GW_INTERNAL', { requestId: String(res.getHeader('x-request-id') ?? '') }),
      );
    },
  };
}

/**
 * One route as `lgsp-gateway routes` and /admin/routes show it; `consumers` (the config's) adds how each
 * of the route's consumers is read by each code list of its request (issue 16.1).
 */
export function describeRoute(route: RouteRuntime, consumers: GatewayConfig['consumers'] = {}) {
  const c = route.config;
  return {
    id: c.id,
    methods: c.methods,
    path: c.path,
    upstream: c.upstream,
    upstreamPath: c.upstreamPath ?? `(default) ${c.path.replace(new RegExp(`^/${c.upstream}(?=/|$)`), '') || '/'}`,
    credentials: route.upstream.config.credentials.map((r) => r.type),
    requestMapping: (c.request?.mapping ?? []).map((m) => String((m as { op?: unknown }).op)),
    requestSchema: c.request?.schema ?? null,
    responseMapping: (c.response?.mapping ?? []).map((m) => String((m as { op?: unknown }).op)),
    responseSchema: c.response?.schema ?? null,
    /** `response.signature`: the answer's JWS path, checked against the upstream's keys (issue 16.2). */
    responseSignature: c.response?.signature?.jws ?? null,
    consumers: c.consumers,
    codeForms: describeCodeForms(c.request?.mapping, c.consumers, consumers),
  };
}

/** `routes`/`validate` lines: each code list of a route and how each of its consumers is read. */
export function codeFormLines(route: ReturnType<typeof describeRoute>): string[] {
  return route.codeForms.map((list) => {
    const readings = list.consumers.map(
      (r) => `${r.consumer}: ${r.columns.join('+')} (${r.declared ? 'declared' : 'route default'})`,
    );
    return `${route.id} ${list.fields.join(',')} [${list.catalog} -> ${list.to}] ${readings.join('; ') || '(no consumer)'}`;
  });
}
