import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import type { AuditEntry } from '../observability/audit.ts';
import { HMAC_SUFFIX } from '../observability/audit.ts';

/**
 * `lgsp-gateway report`: monthly statistics from the audit files (provinces report lookup counts per
 * month, domain.md §4). Reads every `*.jsonl` / `*.log` (and `.gz`) file of the audit directory, keeps
 * records whose `time` falls in [--from, --to] (whole days in --utc-offset, Vietnam's +07:00 by default).
 */

const USAGE = `usage: lgsp-gateway report --from YYYY-MM[-DD] --to YYYY-MM[-DD] [--by consumer|route|upstream|day|month]
                           [--format csv|json] [--dir AUDIT_DIR] [--utc-offset +07:00]
  --from/--to   inclusive; a month (2025-07) means its first/last day
  --dir         default: $LGSP_AUDIT_DIR, else ./audit
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
): Promise<number> {
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
