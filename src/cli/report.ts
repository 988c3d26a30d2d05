import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import type { DeliveryState, DeliveryStore, ReconciliationRow } from '../delivery/store.ts';
import type { AuditEntry } from '../observability/audit.ts';
import { HMAC_SUFFIX } from '../observability/audit.ts';

/**
 * `lgsp-gateway report`: monthly statistics from the audit files (provinces report lookup counts per
 * month, domain.md §4). Reads every `*.jsonl` / `*.log` (and `.gz`) file of the audit directory, keeps
 * records whose `time` falls in [--from, --to] (whole days in --utc-offset, Vietnam's +07:00 by default).
 */

const USAGE = `usage: lgsp-gateway report --from YYYY-MM[-DD] --to YYYY-MM[-DD] [--by consumer|route|upstream|day|month]
                           [--format csv|json] [--dir AUDIT_DIR] [--utc-offset +07:00]
       lgsp-gateway report reconciliation [--config DIR] [--since YYYY-MM] [--format table|json]
  --from/--to   inclusive; a month (2025-07) means its first/last day
  --dir         default: $LGSP_AUDIT_DIR, else ./audit
  reconciliation: pushes the national side never accepted (queued, in flight, dead, dropped, failed), per
                upstream and month (UTC), from the delivery ledger of the config's delivery.store
`;

const GROUPS = ['consumer', 'route', 'upstream', 'day', 'month'] as const;
type GroupBy = (typeof GROUPS)[number];

export interface ReportRow {
  group: string;
  requests: number;
  /** status >= 400 */
  errors: number;
  clientErrors: number;
  serverErrors: number;
  /** Distinct dossier codes seen (any dossier field). */
  dossiers: number;
  /** Distinct citizens seen (distinct identifier HMACs): how many people's data was exchanged. */
  subjects: number;
  avgDurationMs: number;
}

interface Acc {
  requests: number;
  errors: number;
  clientErrors: number;
  serverErrors: number;
  dossiers: Set<string>;
  subjects: Set<string>;
  durationSum: number;
}

const newAcc = (): Acc => ({
  requests: 0,
  errors: 0,
  clientErrors: 0,
  serverErrors: 0,
  dossiers: new Set(),
  subjects: new Set(),
  durationSum: 0,
});

function parseOffset(text: string): number | undefined {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return (m[1] === '-' ? -1 : 1) * minutes * 60_000;
}

/** Start (epoch ms) of the day or month `text` in the given offset; `end` gives the start of the next one. */
function boundary(text: string, offsetMs: number, end: boolean): number | undefined {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), m[3] === undefined ? undefined : Number(m[3])];
  if (mo < 1 || mo > 12 || (d !== undefined && (d < 1 || d > 31))) return undefined;
  const utc = d === undefined ? Date.UTC(y, end ? mo : mo - 1, 1) : Date.UTC(y, mo - 1, end ? d + 1 : d);
  return utc - offsetMs;
}

function localDate(epochMs: number, offsetMs: number): string {
  return new Date(epochMs + offsetMs).toISOString().slice(0, 10);
}

function csvField(value: string | number): string {
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toRow(group: string, acc: Acc): ReportRow {
  return {
    group,
    requests: acc.requests,
    errors: acc.errors,
    clientErrors: acc.clientErrors,
    serverErrors: acc.serverErrors,
    dossiers: acc.dossiers.size,
    subjects: acc.subjects.size,
    avgDurationMs: acc.requests === 0 ? 0 : Math.round(acc.durationSum / acc.requests),
  };
}

/** Runs the report command; returns the exit code (0 ok, 1 cannot read, 2 usage). */
export async function runReport(
  args: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  env: Readonly<Record<string, string | undefined>> = process.env,
  /** Opens the delivery store of a config directory (`report reconciliation`). */
  openStore?: (configDir: string) => Promise<DeliveryStore>,
): Promise<number> {
  if (args[0] === 'reconciliation') return runReconciliation(args.slice(1), io, env, openStore);
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        by: { type: 'string', default: 'consumer' },
        format: { type: 'string', default: 'csv' },
        dir: { type: 'string' },
        'utc-offset': { type: 'string', default: '+07:00' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.stderr.write(`report: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const usage = (message: string) => {
    io.stderr.write(`report: ${message}\n${USAGE}`);
    return 2;
  };
  const offsetMs = parseOffset(values['utc-offset']!);
  if (offsetMs === undefined) return usage(`bad --utc-offset ${values['utc-offset']}`);
  if (!values.from || !values.to) return usage('--from and --to are required');
  const from = boundary(values.from, offsetMs, false);
  const to = boundary(values.to, offsetMs, true);
  if (from === undefined) return usage(`bad --from ${values.from}`);
  if (to === undefined) return usage(`bad --to ${values.to}`);
  if (to <= from) return usage('--to is before --from');
  const by = values.by as GroupBy;
  if (!GROUPS.includes(by)) return usage(`--by must be one of ${GROUPS.join(', ')}`);
  if (values.format !== 'csv' && values.format !== 'json') return usage('--format must be csv or json');
  const dir = values.dir ?? env.LGSP_AUDIT_DIR ?? 'audit';

  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => !f.startsWith('.') && /\.(jsonl|log)(\.gz)?$/.test(f)).sort();
  } catch (err) {
    io.stderr.write(`report: cannot read ${dir}: ${(err as Error).message}\n`);
    return 1;
  }
  // File names carry a UTC date: skip files more than a day away from the range.
  const dayMs = 86_400_000;
  files = files.filter((f) => {
    const m = /(\d{4}-\d{2}-\d{2})/.exec(f);
    if (!m) return true;
    const start = Date.parse(`${m[1]}T00:00:00Z`);
    return start + dayMs >= from - dayMs && start < to + dayMs;
  });

  const groups = new Map<string, Acc>();
  const total = newAcc();
  let malformed = 0;
  for (const file of files) {
    const raw = createReadStream(join(dir, file));
    const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
    const lines = createInterface({ input, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let entry: AuditEntry;
      try {
        entry = JSON.parse(line) as AuditEntry;
      } catch {
        malformed++;
        continue;
      }
      const t = typeof entry?.time === 'string' ? Date.parse(entry.time) : NaN;
      if (Number.isNaN(t) || typeof entry.status !== 'number') {
        malformed++;
        continue;
      }
      if (t < from || t >= to) continue;
      // A queued push's delivery attempts (issue 17) are not calls: its call is the exchange line itself.
      if (entry.delivery !== undefined) continue;
      const key =
        by === 'day'
          ? localDate(t, offsetMs)
          : by === 'month'
            ? localDate(t, offsetMs).slice(0, 7)
            : (entry[by] ?? '(none)');
      const acc = groups.get(key) ?? newAcc();
      groups.set(key, acc);
      for (const a of [acc, total]) {
        a.requests++;
        if (entry.status >= 400) a.errors++;
        if (entry.status >= 400 && entry.status < 500) a.clientErrors++;
        if (entry.status >= 500) a.serverErrors++;
        a.durationSum += typeof entry.durationMs === 'number' ? entry.durationMs : 0;
        for (const [name, value] of Object.entries(entry.keys ?? {})) {
          const target = name.endsWith(HMAC_SUFFIX) ? a.subjects : a.dossiers;
          for (const v of Array.isArray(value) ? value : [value]) target.add(v);
        }
      }
    }
  }
  if (malformed > 0) io.stderr.write(`report: skipped ${malformed} malformed line(s)\n`);

  const rows = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([g, acc]) => toRow(g, acc));
  if (values.format === 'json') {
    const report = {
      from: values.from,
      to: values.to,
      by,
      utcOffset: values['utc-offset'],
      rows,
      total: toRow('(total)', total),
    };
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const columns: (keyof ReportRow)[] = [
      'group',
      'requests',
      'errors',
      'clientErrors',
      'serverErrors',
      'dossiers',
      'subjects',
      'avgDurationMs',
    ];
    const header = [by, ...columns.slice(1)].join(',');
    const lines = [
      header,
      ...[...rows, toRow('(total)', total)].map((r) => columns.map((c) => csvField(r[c])).join(',')),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  return 0;
}

/** The states a reconciliation row can have: every one but `delivered`, in the order a reader scans them. */
const NOT_ACCEPTED: readonly Exclude<DeliveryState, 'delivered'>[] = [
  'queued',
  'in_flight',
  'dead',
  'dropped',
  'failed',
];

/** One line of the reconciliation view: an upstream's month, its count per state and in all. */
export interface ReconciliationLine {
  readonly upstream: string;
  readonly month: string;
  readonly counts: Readonly<Record<(typeof NOT_ACCEPTED)[number], number>>;
  readonly total: number;
}

/** The store's (upstream, month, state) counts as one line per upstream and month, sorted. */
export function reconciliationLines(rows: readonly ReconciliationRow[]): ReconciliationLine[] {
  const lines = new Map<string, { upstream: string; month: string; counts: Record<string, number>; total: number }>();
  for (const row of rows) {
    if (row.state === 'delivered') continue;
    const key = `${row.upstreamId}\u0000${row.month}`;
    const line = lines.get(key) ?? {
      upstream: row.upstreamId,
      month: row.month,
      counts: Object.fromEntries(NOT_ACCEPTED.map((s) => [s, 0])),
      total: 0,
    };
    line.counts[row.state] += row.count;
    line.total += row.count;
    lines.set(key, line);
  }
  return [...lines.values()]
    .sort((a, b) => a.upstream.localeCompare(b.upstream) || a.month.localeCompare(b.month))
    .map((l) => l as ReconciliationLine);
}

/** The view as an aligned table, with a total line; `(every push was accepted)` when there is none. */
export function formatReconciliation(lines: readonly ReconciliationLine[]): string {
  if (lines.length === 0) return '(every push was accepted)\n';
  const header = ['UPSTREAM', 'MONTH', ...NOT_ACCEPTED.map((s) => s.toUpperCase()), 'TOTAL'];
  const sum = (f: (l: ReconciliationLine) => number) => String(lines.reduce((n, l) => n + f(l), 0));
  const rows = [
    ...lines.map((l) => [l.upstream, l.month, ...NOT_ACCEPTED.map((s) => String(l.counts[s])), String(l.total)]),
    ['(total)', '', ...NOT_ACCEPTED.map((s) => sum((l) => l.counts[s])), sum((l) => l.total)],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  // Names left-aligned, counts right-aligned.
  const cell = (c: string, i: number) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]));
  return [header, ...rows].map((r) => `${r.map(cell).join('  ').trimEnd()}\n`).join('');
}

/** `report reconciliation`: 0 ok, 1 the store cannot be opened or read, 2 usage. */
async function runReconciliation(
  args: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  env: Readonly<Record<string, string | undefined>>,
  openStore: ((configDir: string) => Promise<DeliveryStore>) | undefined,
): Promise<number> {
  const usage = (message: string) => {
    io.stderr.write(`report reconciliation: ${message}\n${USAGE}`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        since: { type: 'string' },
        format: { type: 'string', default: 'table' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.format !== 'table' && values.format !== 'json') return usage('--format must be table or json');
  // Months are the store's UTC months, so --since is the first instant of a UTC month.
  const since = values.since === undefined ? undefined : boundary(values.since, 0, false);
  if (values.since !== undefined && (since === undefined || !/^\d{4}-\d{2}$/.test(values.since)))
    return usage(`bad --since ${values.since} (YYYY-MM)`);
  if (!openStore) return usage('no delivery store in this build');
  const dir = values.config ?? env.LGSP_CONFIG_DIR ?? 'config';
  let store: DeliveryStore;
  try {
    store = await openStore(dir);
  } catch (err) {
    io.stderr.write(`report reconciliation: cannot open the delivery store of ${dir}: ${firstLine(err)}\n`);
    return 1;
  }
  try {
    const lines = reconciliationLines(await store.reconciliation(since === undefined ? {} : { since }));
    if (values.format === 'json')
      io.stdout.write(`${JSON.stringify({ since: values.since ?? null, states: NOT_ACCEPTED, lines }, null, 2)}\n`);
    else io.stdout.write(formatReconciliation(lines));
    return 0;
  } catch (err) {
    io.stderr.write(`report reconciliation: the store failed: ${firstLine(err)}\n`);
    return 1;
  } finally {
    await store.close().catch(() => undefined);
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
