/**
 * `node bench/alloc.ts [requests] [connections] [--profile]`: V8 heap allocated per pass-through GET (scenario
 * 1a/3's request) by the bare proxy and by the gateway, each in its own child, as bench/run.ts deploys them.
 * Each child runs with `--trace-gc-nvp`; after a warm-up, `requests` GETs are sent with autocannon over
 * `connections` keep-alive connections, and the `allocated=` and `promoted=` of the collections in that window
 * are summed and divided by the requests (the bytes allocated after the last collection are not counted:
 * with tens of collections in a window, a few percent at most). Peak RSS of the window, sampled every 50 ms.
 * `--full`: scenario 2's request instead (POST of the ~4 KB DongBoDVC body: the gateway maps, validates, audits and
 * serialises it; the bare proxy pipes it).
 * `--profile`: also a sampling heap profile of the window (collected objects included), written to
 * bench/profiles/alloc-<target>.heapprofile and summarised by allocating function (self bytes per request).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryOf } from './lib/child.ts';
import { prepareBenchConfig } from './lib/config.ts';
import { startChild } from './lib/procs.ts';
import { dongBoDvcBody } from './scenarios.ts';

type Cannon = (options: Record<string, unknown>) => Promise<{ '2xx': number; non2xx: number; errors: number }>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const requests = Number(args[0] ?? 20000);
const connections = Number(args[1] ?? 1000);
const profile = process.argv.includes('--profile');
const full = process.argv.includes('--full');
const fullBody = full ? dongBoDvcBody() : undefined;
const profileDir = path.join(here, 'profiles');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lgsp-alloc-'));
const KEY = 'bench-consumer-key-0123456789abcdef';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Self bytes by allocating function (name, file:line), largest first. */
function summarise(file: string, n: number): string[] {
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode };
  const by = new Map<string, number>();
  const walk = (node: ProfileNode) => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${f.lineNumber + 1}`;
    by.set(key, (by.get(key) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(head);
  const total = [...by.values()].reduce((a, b) => a + b, 0);
  return [
    `sampled ${(total / n / 1024).toFixed(1)} KB per request`,
    ...[...by.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 40)
      .map(([k, v]) => `${(v / n).toFixed(0).padStart(7)} B  ${k}`),
  ];
}

interface Snap {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  spaces: Record<string, { size: number; used: number }>;
}

/** The heap at the start of the window, at its largest resident set, and at its end (MB, size/used). */
function spaces(file: string): string[] {
  const s = JSON.parse(readFileSync(file, 'utf8')) as { start: Snap; peak: Snap; end: Snap };
  const mb = (b: number) => (b / 1048576).toFixed(1);
  const row = (label: string, f: (x: Snap) => string) =>
    `${label.padEnd(22)} ${[s.start, s.peak, s.end].map(f).join(' | ')}`;
  return [
    row('rss', (x) => mb(x.rss)),
    row('heap total/used', (x) => `${mb(x.heapTotal)}/${mb(x.heapUsed)}`),
    row('external', (x) => mb(x.external)),
    ...Object.keys(s.peak.spaces).map((k) => row(k, (x) => `${mb(x.spaces[k].size)}/${mb(x.spaces[k].used)}`)),
  ];
}

function gcSums(
  log: string,
  from: number,
): { allocated: number; promoted: number; scavenges: number; marks: number; pauseMs: number } {
  const text = readFileSync(log, 'utf8').slice(from);
  let allocated = 0;
  let promoted = 0;
  let scavenges = 0;
  let marks = 0;
  let pauseMs = 0;
  for (const m of text.matchAll(/pause=([\d.]+) .*?gc=(\w+) .*? allocated=(\d+) promoted=(\d+)/g)) {
    pauseMs += Number(m[1]);
    allocated += Number(m[3]);
    promoted += Number(m[4]);
    if (m[2] === 's') scavenges++;
    else marks++;
  }
  return { allocated, promoted, scavenges, marks, pauseMs };
}

const children: { stop(): Promise<void> }[] = [];
try {
  const upstream = await startChild('upstream', path.join(here, 'servers/upstream.ts'), {});
  children.push(upstream);
  const bench = prepareBenchConfig(tmp);
  mkdirSync(profileDir, { recursive: true });
  const targets: {
    name: string;
    script: string;
    env: Record<string, string>;
    url: string;
    headers: Record<string, string>;
  }[] = [
    {
      name: 'bare',
      script: 'servers/bare-proxy.ts',
      env: { BENCH_TARGET: upstream.url },
      url: '/plain',
      headers: {},
    },
    {
      name: 'gateway',
      script: 'servers/gateway.ts',
      env: {
        ...bench.env,
        BENCH_UPSTREAM_URL: upstream.url,
        LOG_LEVEL: 'info',
        ...(process.env.BENCH_GATEWAY_MODULE ? { BENCH_GATEWAY_MODULE: process.env.BENCH_GATEWAY_MODULE } : {}),
      },
      url: full ? '/molisa' : '/ndxp',
      headers: { 'x-api-key': KEY },
    },
  ];
  for (const t of targets) {
    const log = path.join(tmp, `${t.name}.log`);
    const heapFile = path.join(profileDir, `alloc-${t.name}`);
    for (const ext of ['.json', '.heapprofile']) rmSync(heapFile + ext, { force: true });
    const child = await startChild(
      t.name,
      path.join(here, t.script),
      { ...t.env, BENCH_HEAP_FILE: heapFile, ...(profile ? { BENCH_HEAP_PROFILE: '1' } : {}) },
      log,
      ['--trace-gc-nvp', '--import', path.join(here, 'lib/heap-sample.ts')],
    );
    children.push(child);
    const url = full
      ? `${child.url}${t.url}/api/v1/Service/DongBoDVC`
      : `${child.url}${t.url}/svc/1.0/lookup?maTinh=52`;
    const request = full
      ? { method: 'POST', body: fullBody, headers: { ...t.headers, 'content-type': 'application/json' } }
      : { headers: t.headers };
    const load = (amount: number) =>
      autocannon({ url, ...request, connections, amount, timeout: 10 }).then((r) => {
        if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        return r['2xx'];
      });
    await load(Math.max(5000, requests / 2)); // warm-up
    const from = statSync(log).size;
    const atRest = memoryOf(child.pid).rssKb;
    process.kill(child.pid, 'SIGUSR2');
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(child.pid).rssKb)), 50);
    const n = await load(requests);
    clearInterval(sampler);
    const g = gcSums(log, from);
    console.log(
      `${t.name}: ${n} ${full ? 'full-pipeline POSTs' : 'GETs'} over ${connections} connections: allocated ${(g.allocated / n / 1024).toFixed(1)} KB/req, ` +
        `promoted ${(g.promoted / n / 1024).toFixed(2)} KB/req, ${g.scavenges} scavenges, ${g.marks} mark-compacts ` +
        `(main-thread pauses ${((g.pauseMs * 1000) / n).toFixed(1)} µs/req), ` +
        `peak RSS ${(peak / 1024).toFixed(0)} MB`,
    );
    process.kill(child.pid, 'SIGUSR2');
    for (let i = 0; i < 600 && !existsSync(`${heapFile}.json`); i++) await new Promise((r) => setTimeout(r, 100));
    console.log(
      `  RSS after the warm-up ${(atRest / 1024).toFixed(0)} MB; heap at the start, at the peak, at the end:`,
    );
    for (const line of spaces(`${heapFile}.json`)) console.log(`  ${line}`);
    if (profile) for (const line of summarise(`${heapFile}.heapprofile`, n)) console.log(`  ${line}`);
    await child.stop();
    children.pop();
  }
} finally {
  for (const c of children.reverse()) await c.stop();
  rmSync(tmp, { recursive: true, force: true });
}
