/**
 * Micro-benchmark (not a test): CPU cost of the per-request work around the body (issue 19, "overhead"):
 * the access line, the byte guard of a 4 KB body, the outgoing and relayed headers, the API key's SHA-256,
 * the request counters. Loads this tree and,
 * with BEFORE=<another checkout's root>, the same modules of that tree, and runs them interleaved
 * (median of 21 rounds of 3,000 calls, CPU µs per call with process.cpuUsage), so both see the same load.
 * Run: BEFORE=/path/to/base node bench/overhead.bench.ts
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuMicros } from './lib/cpu.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const trees = { after: root, ...(process.env.BEFORE ? { before: process.env.BEFORE } : {}) };

const seed = JSON.parse(readFileSync(join(root, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as unknown[];
const records: unknown[] = [];
while (JSON.stringify(records).length < 4096) records.push(seed[records.length % seed.length]);
const body = Buffer.from(JSON.stringify(records));

const load = (tree: string, file: string) => import(pathToFileURL(join(tree, file)).href);
const sink = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
/** A caller's request as the pass-through scenario sends it (autocannon, keep-alive, API key). */
const request = {
  url: '/ndxp/svc/1.0/lookup?maTinh=52',
  headers: {
    host: '127.0.0.1:41737',
    connection: 'keep-alive',
    'x-api-key': 'bench-consumer-key-0123456789abcdef',
    'user-agent': 'autocannon',
    accept: '*/*',
  },
  socket: { remoteAddress: '127.0.0.1' },
};
const answerHeaders = {
  'content-type': 'application/json; charset=utf-8',
  'content-length': '2048',
  date: 'Fri, 27 Nov 2026 16:00:00 GMT',
  connection: 'keep-alive',
  'keep-alive': 'timeout=5',
};

type Case = Record<string, () => unknown>;
const cases: Record<string, Case> = {};
for (const [name, tree] of Object.entries(trees)) {
  const { guardJsonBody } = await load(tree, 'src/transform/json-guard.ts');
  const { createLogger, createLineWriter } = await load(tree, 'src/logging/logger.ts');
  const { maskUrl } = await load(tree, 'src/logging/mask.ts');
  const headers = await load(tree, 'src/upstream/headers.ts');
  const writeAccess = createLineWriter(createLogger({ stream: sink() }), 'access');
  const limits = { maxDepth: 32, maxKeys: 1000 };
  const add = (what: string, fn: () => unknown) => ((cases[what] ??= {})[name] = fn);
  add('guardJsonBody 4.6 KB', () => guardJsonBody(body, limits));
  add('access line', () =>
    writeAccess({
      requestId: 'q0d3Zx1fT2aB9cKe',
      route: 'ndxp-pass',
      consumer: 'bench',
      upstream: 'ndxp',
      method: 'GET',
      path: maskUrl(request.url),
      status: 200,
      errorCode: undefined,
      bytes: 2048,
      durationMs: 1.37,
      upstreamMs: 0.81,
    }),
  );
  add('outgoingHeaders', () =>
    headers.outgoingHeaders(request, { requestId: 'q0d3Zx1fT2aB9cKe', proto: 'http', dropAuthorization: false }),
  );
  add('relayableResponseHeaders', () => headers.relayableResponseHeaders(answerHeaders));
  const { sha256 } = await load(tree, 'src/auth/api-keys.ts');
  add('API-key SHA-256', () => sha256('bench-consumer-key-0123456789abcdef'));
  const { createMetrics } = await load(tree, 'src/observability/metrics.ts');
  const m = createMetrics({ defaultMetrics: false });
  const route = 'ndxp-pass';
  // What one exchange counts besides the two histograms: requests_total, in-flight +1 and -1.
  add(
    'requests + in-flight',
    m.countRequest
      ? () => {
          m.moveInFlight(route, 1);
          m.moveInFlight(route, -1);
          m.countRequest(route, 'bench', 'ndxp', '2xx');
        }
      : () => {
          m.inFlight.inc({ route }, 1);
          m.inFlight.inc({ route }, -1);
          m.requests.inc({ route, consumer: 'bench', upstream: 'ndxp', status_class: '2xx' });
        },
  );
}

const N = 3000;
const ROUNDS = Number(process.argv[2] ?? 21);
for (const [what, variants] of Object.entries(cases)) {
  const times: Record<string, number[]> = {};
  for (const [k, fn] of Object.entries(variants)) {
    times[k] = [];
    for (let i = 0; i < 2 * N; i++) fn();
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, fn] of Object.entries(variants)) {
      times[k].push(
        cpuMicros(() => {
          for (let i = 0; i < N; i++) fn();
        }) / N,
      );
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const line = Object.entries(times).map(([k, t]) => `${k} ${med(t).toFixed(2)}`);
  console.log(`${what.padEnd(26)} µs/call: ${line.join(', ')}`);
}
