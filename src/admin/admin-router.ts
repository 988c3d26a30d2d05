import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { keyDigest, resolveKeyDigest } from '../consumers-builtin.ts';
import { errorDialects } from '../errors/dialects/index.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { Reloader } from '../runtime/reloader.ts';
import type { RouteRuntime } from '../runtime/runtime.ts';

const render = errorDialects['problem+json'].create({} as never, {});

/**
 * /admin/*: status (hash, loaded at, last error, reload counts), reload, upstream token states and the
 * route table. Only admin credentials: X-Admin-Key checked against the SHA-256 digests in `admin.apiKeys`.
 * No admin key configured = admin closed (fail closed).
 */
export function createAdminRouter(reloader: Reloader): Router {
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    const config = reloader.current.config;
    const presented = req.headers['x-admin-key'];
    const digests = config.admin.apiKeys.map((ref, i) => resolveKeyDigest(ref, ['admin', 'apiKeys', i]));
    let ok = false;
    if (typeof presented === 'string' && presented.length > 0) {
      const digest = keyDigest(presented);
      for (const d of digests) if (timingSafeEqual(d, digest)) ok = true;
    }
    if (ok) return next();
    const err = new GatewayError(
      'GW_UNAUTHENTICATED',
      { reason: 'cần khóa quản trị X-Admin-Key' },
      { headers: { 'www-authenticate': 'ApiKey header="X-Admin-Key"' } },
    );
    const out = render(err, { requestId: String(res.getHeader('x-request-id') ?? ''), path: req.originalUrl });
    res.status(out.status).set(err.headers).type(out.contentType).send(out.body);
  });
  router.get('/status', (_req, res) => {
    res.json(reloader.status());
  });
  router.post('/reload', (_req, res) => {
    const result = reloader.reload('admin', true);
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
    res.json(reloader.current.routeList.map(describeRoute));
  });
  return router;
}

/** One route as `lgsp-gateway routes` and /admin/routes show it. */
export function describeRoute(route: RouteRuntime) {
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
    consumers: c.consumers,
  };
}
