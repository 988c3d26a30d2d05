import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Clock } from '../config/types.ts';
import {
  describeDelivery,
  isDeliveryId,
  nextPage,
  parseListQuery,
  refusedAction,
  type ListQuery,
} from '../delivery/operations.ts';
import type { DeliveryStore } from '../delivery/store.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { Logger } from '../logging/logger.ts';
import type { AuditEntry } from '../observability/audit.ts';

/** What the delivery pages need besides the admin guard (mounted behind it by admin-router.ts). */
export interface AdminDeliveryDeps {
  /** The gateway's delivery store; absent: every page answers 503 GW_DELIVERY_STORE_UNAVAILABLE. */
  readonly deliveries?: DeliveryStore;
  /** Where an operator action's audit line goes (the gateway's audit trail). */
  readonly audit?: { record(entry: AuditEntry): void };
  readonly logger?: Logger;
  readonly clock: Clock;
}

/**
 * `/admin/deliveries`: the queue and ledger for operators. GET lists (filters as `lgsp-gateway deliveries
 * list`: state, route, upstream, limit ≤ 500, before = paging) and shows one; POST `/:id/retry` and
 * `/:id/drop` act on one, each action written to the audit trail with the admin identity that did it.
 * No page shows a payload or a business key in clear: rows carry only the key's HMAC.
 * `who` is the identity the admin guard returned (res.locals.admin).
 */
export function createDeliveryAdminRouter(deps: AdminDeliveryDeps): Router {
  const router = express.Router();
  const store = (): DeliveryStore => {
    if (!deps.deliveries) throw new GatewayError('GW_DELIVERY_STORE_UNAVAILABLE', { reason: 'chưa cấu hình kho' });
    return deps.deliveries;
  };
  const idOf = (req: Request): string => {
    const id = String(req.params.id);
    // An id that cannot be one is unknown too: never echoed (a path may carry anything, even an ID number).
    if (!isDeliveryId(id)) throw new GatewayError('GW_DELIVERY_NOT_FOUND', { id: '(không hợp lệ)' });
    return id;
  };
  const wrap =
    (handler: (req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response, next: (err?: unknown) => void) => {
      handler(req, res).catch((err: unknown) => next(storeFault(err, deps.logger)));
    };

  router.get(
    '/',
    wrap(async (req, res) => {
      const text = (name: keyof ListQuery) => (typeof req.query[name] === 'string' ? req.query[name] : undefined);
      const parsed = parseListQuery({
        state: text('state'),
        route: text('route'),
        upstream: text('upstream'),
        limit: text('limit'),
        before: text('before'),
      });
      if ('error' in parsed) throw new GatewayError('GW_BAD_REQUEST', { reason: parsed.error });
      const rows = await store().list(parsed.filter);
      res.json({ deliveries: rows.map(describeDelivery), next: nextPage(rows, parsed.filter.limit) });
    }),
  );
  router.get(
    '/:id',
    wrap(async (req, res) => {
      const id = idOf(req);
      const d = await store().get(id);
      if (!d) throw new GatewayError('GW_DELIVERY_NOT_FOUND', { id });
      res.json(describeDelivery(d));
    }),
  );
  for (const action of ['retry', 'drop'] as const) {
    router.post(
      `/:id/${action}`,
      wrap(async (req, res) => {
        const started = deps.clock.now();
        const id = idOf(req);
        const deliveries = store();
        const who = String(res.locals.admin ?? 'admin');
        const before = await deliveries.get(id);
        let status = 200;
        let done = false;
        try {
          if (!before) throw new GatewayError('GW_DELIVERY_NOT_FOUND', { id });
          // Checked here for the message; the store checks again in its own transaction (the row may move).
          const refusal = refusedAction(action, before);
          done = refusal === undefined && (await deliveries[action](id, deps.clock.now()));
          if (!done) {
            const current = refusal === undefined ? await deliveries.get(id) : before;
            const reason = refusal ?? refusedAction(action, current ?? before) ?? 'kho chuyển phát từ chối';
            throw new GatewayError('GW_DELIVERY_CONFLICT', { id, action, reason });
          }
        } catch (err) {
          // What the operator is answered: a store fault becomes 503 (storeFault).
          status = err instanceof GatewayError ? err.status : 503;
          throw err;
        } finally {
          // Every operator action leaves a line, refused ones included: who tried what on which delivery.
          deps.audit?.record({
            time: new Date(deps.clock.now()).toISOString(),
            requestId: randomBytes(12).toString('base64url'),
            consumer: `admin:${who}`,
            route: `admin:deliveries.${action}`,
            upstream: before?.upstreamId,
            method: 'POST',
            status,
            durationMs: deps.clock.now() - started,
            keys: { delivery: id },
          });
          deps.logger?.info(`delivery ${action} by operator`, { delivery: id, admin: who, done, status });
        }
        const after = await deliveries.get(id);
        res.json({
          result: action === 'retry' ? 'queued' : 'dropped',
          delivery: after ? describeDelivery(after) : null,
        });
      }),
    );
  }
  return router;
}

/** A store that fails (PostgreSQL down) is a 503 naming no host or query; the fault itself goes to the log. */
function storeFault(err: unknown, logger?: Logger): unknown {
  if (err instanceof GatewayError) return err;
  logger?.error('delivery store failed on an admin page', { error: err });
  return new GatewayError('GW_DELIVERY_STORE_UNAVAILABLE', { reason: 'kho không trả lời' });
}
