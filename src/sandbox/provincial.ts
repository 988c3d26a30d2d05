import express, { type Router } from 'express';
import type { SandboxContext } from './context.ts';

/**
 * Stand-ins for the provincial systems that national systems call back into through the gateway:
 * the one-stop system (`/tinh/mcdt`, civil-status results, seed 003) and the provincial portal
 * (`/tinh/dvc`, MOLISA case A2, seed 004). They accept any JSON and record it, so the inbound routes of
 * the shipped config work end to end; `GET /__sandbox/mcdt/received` shows what arrived.
 */
export function provincialRouter(ctx: SandboxContext, system: 'mcdt' | 'dvc'): Router {
  const router = express.Router();
  router.use(express.json({ limit: '10mb' }));
  router.post('/*rest', (req, res) => {
    const body =
      system === 'dvc' ? { error_code: 0, message: 'Đã nhận' } : { status: '1', statusDescription: 'Đã nhận' };
    ctx.received.record(system, {
      method: req.method,
      path: req.originalUrl,
      operation: req.path.split('/').filter(Boolean).at(-1) ?? '',
      client: null,
      body: req.body,
      response: { status: 200, body },
    });
    res.json(body);
  });
  return router;
}
