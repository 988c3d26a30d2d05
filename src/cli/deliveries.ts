import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import type { Clock } from '../config/types.ts';
import {
  describeDelivery,
  isDeliveryId,
  nextPage,
  parseListQuery,
  refusedAction,
  type DeliveryView,
} from '../delivery/operations.ts';
import type { Delivery, DeliveryStore } from '../delivery/store.ts';

/**
 * `lgsp-gateway deliveries list|show|retry|drop`: the delivery queue and ledger from a shell, on the
 * store the gateway of a config directory uses (the same `delivery.store` settings, so an operator on the
 * host, or `kubectl exec` into a replica, sees what the gateway sees). Output as a table, or `--json` (the
 * shape of `/admin/deliveries`). No output carries a payload or a business key in clear.
 */

export const DELIVERIES_USAGE = `usage: lgsp-gateway deliveries <list|show|retry|drop> [options]
  list  [--state S] [--route ID] [--upstream ID] [--limit N (1..500, default 50)] [--before ID]
  show  ID           every field but the payload (the business key only as its HMAC)
  retry ID           a dead (or queued) delivery due again now
  drop  ID [--yes]   give a queued or dead delivery up and erase its payload (asks when stdin is a terminal)
options: --config DIR (default $LGSP_CONFIG_DIR, else ./config)   --json
exit: 0 done, 1 store unavailable, 2 usage, 3 unknown id, 4 refused in this state, 5 drop not confirmed
`;

/** Exit codes, documented in the usage text and the README. */
export const EXIT = { ok: 0, store: 1, usage: 2, unknown: 3, refused: 4, notConfirmed: 5 } as const;

export interface DeliveriesIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin?: NodeJS.ReadableStream & { readonly isTTY?: boolean };
}

export interface DeliveriesDeps {
  /** Opens the store the gateway of `configDir` uses. */
  readonly open: (configDir: string) => Promise<DeliveryStore>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
}

/** Runs one `deliveries` sub-command; returns the exit code. */
export async function runDeliveries(args: string[], io: DeliveriesIo, deps: DeliveriesDeps): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
        state: { type: 'string' },
        route: { type: 'string' },
        upstream: { type: 'string' },
        limit: { type: 'string' },
        before: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    return usage(io, (err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(DELIVERIES_USAGE);
    return EXIT.ok;
  }
  const [command, id, ...extra] = positionals;
  if (command === undefined) return usage(io, 'a sub-command is required');
  if (!['list', 'show', 'retry', 'drop'].includes(command)) return usage(io, `unknown sub-command "${command}"`);
  if (extra.length > 0) return usage(io, `unexpected argument "${extra[0]}"`);
  let request: { list: ReturnType<typeof parseListQuery> } | { id: string };
  if (command === 'list') {
    if (id !== undefined) return usage(io, `list takes no id ("${id}"): use --before for paging`);
    request = { list: parseListQuery(values) };
    if ('error' in request.list) return usage(io, request.list.error.replace(/^(\w+)/, '--$1'));
  } else {
    if (id === undefined) return usage(io, `${command} needs a delivery id`);
    // An id that cannot be one is refused without echoing it (it may be anything, a citizen ID included).
    if (!isDeliveryId(id)) return usage(io, `${command}: not a delivery id`);
    const listOnly = (['state', 'route', 'upstream', 'limit', 'before'] as const).find((k) => values[k] !== undefined);
    if (listOnly) return usage(io, `--${listOnly} is an option of list`);
    if (command !== 'drop' && values.yes) return usage(io, '--yes is an option of drop');
    request = { id };
  }

  const env = deps.env ?? process.env;
  const dir = values.config ?? env.LGSP_CONFIG_DIR ?? 'config';
  let store: DeliveryStore;
  try {
    store = await deps.open(dir);
  } catch (err) {
    io.stderr.write(`deliveries: cannot open the delivery store of ${dir}: ${oneLine(err)}\n`);
    return EXIT.store;
  }
  const now = () => (deps.clock ?? { now: () => Date.now() }).now();
  try {
    if ('list' in request) {
      const { filter } = request.list as { filter: Parameters<DeliveryStore['list']>[0] };
      const rows = await store.list(filter);
      const next = nextPage(rows, filter.limit);
      if (values.json) writeJson(io, { deliveries: rows.map(describeDelivery), next });
      else {
        io.stdout.write(formatTable(rows.map(describeDelivery)));
        if (next) io.stderr.write(`more: --before ${next}\n`);
      }
      return EXIT.ok;
    }
    const found = await store.get(request.id);
    if (!found) {
      io.stderr.write(`deliveries: ${command}: no delivery ${request.id}\n`);
      return EXIT.unknown;
    }
    if (command === 'show') {
      if (values.json) writeJson(io, describeDelivery(found));
      else io.stdout.write(formatDetail(describeDelivery(found)));
      return EXIT.ok;
    }
    const action = command as 'retry' | 'drop';
    if (action === 'drop' && !values.yes) {
      const confirmed = await confirm(io, found);
      if (!confirmed) {
        io.stderr.write(`deliveries: drop ${found.id} not confirmed (pass --yes)\n`);
        return EXIT.notConfirmed;
      }
    }
    // Checked here for the message; the store checks again in its own transaction (the row may move meanwhile).
    const refusal = refusedAction(action, found);
    if (refusal !== undefined || !(await store[action](found.id, now()))) {
      const current = refusal === undefined ? await store.get(found.id) : found;
      io.stderr.write(
        `deliveries: ${refusedAction(action, current ?? found) ?? `${action} of ${found.id} refused by the store`}\n`,
      );
      return EXIT.refused;
    }
    const after = (await store.get(found.id)) ?? found;
    if (values.json)
      writeJson(io, { result: action === 'retry' ? 'queued' : 'dropped', delivery: describeDelivery(after) });
    else io.stdout.write(`${found.id}: ${action === 'retry' ? 'queued, due now' : 'dropped, payload erased'}\n`);
    return EXIT.ok;
  } catch (err) {
    io.stderr.write(
      `deliveries: ${command}${'id' in request ? ` ${request.id}` : ''}: the store failed: ${oneLine(err)}\n`,
    );
    return EXIT.store;
  } finally {
    await store.close().catch(() => undefined);
  }
}

function usage(io: DeliveriesIo, message: string): number {
  io.stderr.write(`deliveries: ${message}\n${DELIVERIES_USAGE}`);
  return EXIT.usage;
}

/** An error as one line: its code and first line, never a stack (a connection string may sit in one). */
function oneLine(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = String(e?.message ?? err).split('\n')[0];
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}

function writeJson(io: DeliveriesIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Asks on a terminal; anything but y/yes (or no terminal at all) is a no. */
async function confirm(io: DeliveriesIo, d: Delivery): Promise<boolean> {
  if (!io.stdin?.isTTY) return false;
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(
      `drop delivery ${d.id} (${d.state}, route ${d.routeId}, upstream ${d.upstreamId}, ${d.attempts} attempts)? [y/N] `,
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

const COLUMNS: readonly [string, (v: DeliveryView) => string][] = [
  ['ID', (v) => v.id],
  ['STATE', (v) => v.state],
  ['ROUTE', (v) => v.route],
  ['UPSTREAM', (v) => v.upstream],
  ['OPERATION', (v) => v.operation ?? '-'],
  ['ATTEMPTS', (v) => String(v.attempts)],
  ['LAST', (v) => v.lastError ?? (v.lastStatus === null ? '-' : `HTTP ${v.lastStatus}`)],
  ['CREATED', (v) => v.createdAt.replace('T', ' ').slice(0, 19)],
  ['NEXT/DELIVERED', (v) => (v.nextAttemptAt ?? v.deliveredAt ?? '-').replace('T', ' ').slice(0, 19)],
];

/** Rows as an aligned text table (header first); `(no deliveries)` when empty. */
export function formatTable(views: readonly DeliveryView[]): string {
  if (views.length === 0) return '(no deliveries)\n';
  const rows = views.map((v) => COLUMNS.map(([, cell]) => cell(v)));
  const header = COLUMNS.map(([name]) => name);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** One delivery as `field: value` lines, every field of the view. */
export function formatDetail(view: DeliveryView): string {
  const width = Math.max(...Object.keys(view).map((k) => k.length));
  return Object.entries(view)
    .map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v === null ? '-' : String(v)}\n`)
    .join('');
}
