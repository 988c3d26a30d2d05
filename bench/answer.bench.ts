/**
 * The end of an exchange, before and after the "answer" helper's changes, side by side in one process:
 * `node bench/answer.bench.ts [rounds]`. Each case runs its two variants interleaved (the order swapped
 * every round), 3,000 calls a round; the figure is CPU µs per call (process.cpuUsage), median of the rounds
 * and the median of the per-round ratios. The "before" variants are copies of the code the changes replaced.
 */
import { auditTime } from '../src/observability/audit.ts';
import { newExchangeRecord } from '../src/pipeline/exchange.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { isoTimestamp } from '../src/logging/logger.ts';
import { maskText, maskUrl, maskValue } from '../src/logging/mask.ts';
import { interleaved } from './lib/interleave.ts';

interface Case {
  readonly name: string;
  readonly before: (i: number) => unknown;
  readonly after: (i: number) => unknown;
}

const rounds = Number(process.argv[2] ?? 21);
const CALLS = 3000;
let sink = 0;

function time(fn: (i: number) => unknown): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) if (fn(i) === sink) sink++;
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / CALLS;
}

function run(c: Case): void {
  interleaved(c.name, { before: () => time(c.before), after: () => time(c.after) }, { rounds });
}

const base = Date.UTC(2026, 10, 27, 18, 0, 0);
const keys = { MaHoSo: ['000.00.18.G12-250701-0001', '000.00.18.G12-250701-0002'], 'CMND#hmac': ['abc', 'def'] };
const entryFields = (i: number) => ({
  requestId: 'Xb3kq9QwErTy1234',
  consumer: 'bench',
  route: 'molisa-dong-bo-dvc',
  upstream: 'molisa',
  method: 'POST',
  status: 200,
  durationMs: Math.round(i * 1.37 * 100) / 100,
  keys,
});
const officer: string | undefined = undefined;

const accessFields = (i: number) => ({
  requestId: 'Xb3kq9QwErTy1234',
  route: 'molisa-dong-bo-dvc' as string | undefined,
  consumer: 'bench' as string | undefined,
  upstream: 'molisa' as string | undefined,
  method: 'POST',
  path: maskUrl('/molisa/api/v1/Service/DongBoDVC'),
  status: 200 as number | string | undefined,
  errorCode: undefined as string | undefined,
  bytes: 2154,
  durationMs: Math.round(i * 1.37) / 100,
  upstreamMs: (Math.round(i * 0.91) / 100) as number | undefined,
});
let lines = '';
const push = (line: string) => {
  lines += line;
  if (lines.length > 64 * 1024) lines = '';
};
const HEAD = `{"level":"info","message":${JSON.stringify('access')}`;

const routeConfig = { id: 'molisa-dong-bo-dvc' };
/** The stores the stages make into an exchange's record on scenario 2's path, in their order. */
const fillRecord = (r: Record<string, unknown>, i: number) => {
  r.route = 'molisa-dong-bo-dvc';
  r.routeConfig = routeConfig;
  r.upstream = 'molisa';
  r.consumer = 'bench';
  r.body = routeConfig;
  r.upstreamMs = i * 0.37;
  r.status = 200;
  r.bytes = 2154;
  r.durationMs = i * 0.51;
  r.status ??= 0;
  return r;
};

/** countRequest before the remembered series: the key string made and looked up on every call. */
const flatTallies = new Map<string, { labels: Record<string, string>; count: number }>();
const countFlat = (route: string, consumer: string, upstream: string, statusClass: string) => {
  const key = `${route}\n${consumer}\n${upstream}\n${statusClass}`;
  const tally = flatTallies.get(key);
  if (tally === undefined)
    flatTallies.set(key, { labels: { route, consumer, upstream, status_class: statusClass }, count: 1 });
  else if (tally.labels.route === route && tally.labels.consumer === consumer) tally.count++;
};
const metrics = createMetrics({ defaultMetrics: false });
const ROUTES = ['molisa-dong-bo-dvc', 'ndxp-pass'];

const cases: Case[] = [
  {
    name: "maskValue of the access line's two durations (rounded to 0.01 ms)",
    before: (i) => {
      let n = 0;
      for (const v of [Math.round(i * 137) / 100, Math.round(i * 91) / 100]) {
        const text = String(v);
        const masked = maskText(text);
        if ((masked === text ? v : masked) === v) n++;
      }
      return n;
    },
    after: (i) => {
      let n = 0;
      for (const v of [Math.round(i * 137) / 100, Math.round(i * 91) / 100]) if (maskValue(v) === v) n++;
      return n;
    },
  },
  {
    name: 'requests_total tally (same series as the previous call 7 times in 8)',
    before: (i) => countFlat(ROUTES[(i & 7) === 0 ? 1 : 0], 'bench', 'molisa', '2xx'),
    after: (i) => metrics.countRequest(ROUTES[(i & 7) === 0 ? 1 : 0], 'bench', 'molisa', '2xx'),
  },
  {
    name: 'exchange record: made, then the stages store into it',
    before: (i) => fillRecord({ requestId: 'Xb3kq9QwErTy1234', method: 'POST', path: '/molisa', bytes: 0 }, i),
    after: (i) =>
      fillRecord(newExchangeRecord('Xb3kq9QwErTy1234', 'POST', '/molisa') as unknown as Record<string, unknown>, i),
  },
  {
    name: 'access line: mask + JSON',
    before: (i) => {
      const fields: Record<string, unknown> = accessFields(i);
      const line: Record<string, unknown> = { level: 'info', message: 'access' };
      for (const key in fields) {
        const value = fields[key];
        if (value !== undefined) line[key] = typeof value === 'string' ? maskText(value) : maskValue(value);
      }
      line.timestamp = isoTimestamp(base + i);
      push(`${JSON.stringify(line)}\n`);
      return lines.length;
    },
    after: (i) => {
      const fields: Record<string, unknown> = accessFields(i);
      for (const key in fields) {
        const value = fields[key];
        if (value !== undefined) fields[key] = typeof value === 'string' ? maskText(value) : maskValue(value);
      }
      const json = JSON.stringify(fields);
      push(`${HEAD},${json.slice(1, -1)},"timestamp":"${isoTimestamp(base + i)}"}\n`);
      return lines.length;
    },
  },
  {
    name: 'audit line: time + entry + JSON (no officer)',
    before: (i) => {
      const f = entryFields(i);
      return `${JSON.stringify({
        time: new Date(base + i * 3).toISOString(),
        requestId: f.requestId,
        consumer: f.consumer,
        route: f.route,
        upstream: f.upstream,
        method: f.method,
        status: f.status,
        durationMs: f.durationMs,
        keys: f.keys,
        ...(officer === undefined ? {} : { officer }),
      })}\n`;
    },
    after: (i) => {
      const f = entryFields(i);
      const entry: Record<string, unknown> = {
        time: auditTime(base + i * 3),
        requestId: f.requestId,
        consumer: f.consumer,
        route: f.route,
        upstream: f.upstream,
        method: f.method,
        status: f.status,
        durationMs: f.durationMs,
        keys: f.keys,
      };
      if (officer !== undefined) Object.assign(entry, { officer });
      return `${JSON.stringify(entry)}\n`;
    },
  },
];

const only = process.env.ONLY;
for (const c of cases) if (!only || c.name.includes(only)) run(c);
if (sink === -1) console.log(sink);
