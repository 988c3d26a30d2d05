import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import type { SandboxContext } from './context.ts';

/**
 * Fault switches of the simulated systems (issue 17: a province tries its queued pushes against a national
 * side that is down, slow or failing, then recovers). Per system:
 * - `reset`: every connection is cut before an answer (the system is down);
 * - `unavailable`: HTTP 503;
 * - `hang`: no answer at all (the gateway's timeout decides);
 * - `busy`: HTTP 200 with the system's own failure code (MOLISA `error_code` 5, civil-status `status` "0").
 * `count` limits a fault to the next N requests (then the system recovers by itself).
 */
export type FaultMode = 'reset' | 'unavailable' | 'hang' | 'busy';
const MODES: readonly FaultMode[] = ['reset', 'unavailable', 'hang', 'busy'];

interface Fault {
  readonly mode: FaultMode;
  remaining: number;
}

/** The busy answer in each system's own shape. */
const BUSY: Record<string, unknown> = {
  molisa: { error_code: 5, message: 'Hệ thống đang bận, vui lòng thử lại sau' },
  hotich: {
    status: '0',
    statusDescription: 'Hệ thống đang bảo trì',
    errorCode: '99',
    errorDescription: 'Hệ thống đang bảo trì',
  },
};

export function createFaults(ctx: SandboxContext) {
  const faults = new Map<string, Fault>();
  const hung = new Set<Response>();

  /** Put before a system's router: applies its fault, if any, to each request. */
  const gate =
    (system: string) =>
    (req: Request, res: Response, next: NextFunction): void => {
      const fault = faults.get(system);
      if (!fault) return next();
      if (--fault.remaining <= 0) faults.delete(system);
      ctx.logger?.debug('sandbox fault', { system, mode: fault.mode });
      switch (fault.mode) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'unavailable':
          res.status(503).json({ error: 'service_unavailable', message: 'Hệ thống tạm ngừng' });
          return;
        case 'hang':
          hung.add(res);
          res.once('close', () => hung.delete(res));
          return;
        case 'busy':
          res.status(200).json(BUSY[system] ?? { error: 'busy' });
          return;
      }
    };

  /** `PUT /__sandbox/<system>/fault {mode, count?}`, `DELETE` to recover, `POST …/tokens/revoke`. */
  const control: Router = express.Router();
  control.use(express.json());
  control.put('/:system/fault', (req, res) => {
    const system = String(req.params.system);
    const { mode, count } = (req.body ?? {}) as { mode?: FaultMode; count?: number };
    if (!mode || !MODES.includes(mode))
      return void res.status(400).json({ error: `mode must be one of ${MODES.join(', ')}` });
    const remaining = count === undefined ? Infinity : Number(count);
    if (!(remaining >= 1)) return void res.status(400).json({ error: 'count must be at least 1' });
    faults.set(system, { mode, remaining });
    res.json({ system, mode, count: count ?? null });
  });
  control.delete('/:system/fault', (req, res) => {
    const system = String(req.params.system);
    const had = faults.delete(system);
    // Requests left hanging are cut: the system came back without them.
    for (const r of hung) r.socket?.destroy();
    hung.clear();
    res.json({ system, recovered: had });
  });
  control.post('/:system/tokens/revoke', (req, res) => {
    res.json({ revoked: ctx.tokens.revokeIssuer(String(req.params.system)) });
  });
  return { gate, control, close: () => hung.forEach((r) => r.socket?.destroy()) };
}
