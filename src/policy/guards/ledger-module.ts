import { Type } from '../../plugin/schema-type.ts';
import { GatewayError } from '../../errors/gateway-error.ts';
import { definePlugin } from '../../plugin/plugin.ts';
import type { GuardDeps, RequestGuard } from './guard.ts';

/** Pushes whose module the national side has or will have; a failed, dead or dropped push proves nothing. */
const STANDING = new Set(['delivered', 'queued', 'in_flight']);

/** Ledger look-ups per call at most: a status query names a handful of dossiers (distinct codes, in order). */
const MAX_LOOKUPS = 50;

/**
 * `ledger-module`: a status query must name the module its dossier was pushed with (seed 003, common error
 * 2: a dossier synced as LTKT queried as KT comes back empty, and the one-stop system reports it lost). The
 * delivery ledger records each push's module as its `operation` (the push route's `delivery.operation`);
 * this reads the newest push of each dossier code in the query and refuses a query whose module differs,
 * naming both modules, before the call leaves. Only the caller's own pushes are read (the ledger is scoped
 * per consumer), so the guard tells no one which module another system pushed with. A dossier the ledger has
 * no standing push for (pushed before the ledger existed, by another system, or never) passes: the national side judges it as before. A ledger
 * that does not answer lets the query pass too (logged): the guard helps, the national side decides.
 */
export const ledgerModuleGuard = definePlugin(
  Type.Object(
    {
      /** The ledger group the pushes were recorded in: the push route's `delivery.group` (default its upstream id). */
      group: Type.String({ minLength: 1 }),
      /** Dot path of the dossier code(s) in the mapped query body: a string, or an array of them. */
      dossierField: Type.String({ minLength: 1 }),
      /** Dot path of the module in the mapped query body. */
      moduleField: Type.String({ minLength: 1, default: 'module' }),
    },
    { additionalProperties: false },
  ),
  (o, deps: GuardDeps): RequestGuard => {
    return async (body, consumerId) => {
      const ledger = deps.ledger();
      const queried = text(readPath(body, o.moduleField));
      if (!ledger || queried === undefined) return;
      const value = readPath(body, o.dossierField);
      const codes = [...new Set((Array.isArray(value) ? value : [value]).map(text).filter((c) => c !== undefined))];
      let pushes;
      try {
        pushes = await Promise.all(
          codes.slice(0, MAX_LOOKUPS).map((code) => ledger.latestPush(o.group, consumerId, code!)),
        );
      } catch (err) {
        deps.logger.warn('ledger-module guard: the delivery ledger did not answer; the query passes unchecked', {
          group: o.group,
          error: (err as Error)?.message,
        });
        return;
      }
      pushes.forEach((push, i) => {
        if (!push || !STANDING.has(push.state) || push.operation === null) return;
        const pushed = push.operation.trim().toUpperCase();
        if (pushed !== queried.toUpperCase())
          throw new GatewayError('GW_PUSHED_MODULE_MISMATCH', { dossier: codes[i]!, pushed, queried });
      });
    };
  },
);

function text(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A dot path into plain objects (own keys only). */
function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
