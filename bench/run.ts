/**
 * `npm run bench [-- --write] [--quick] [--only 1,3]`: the gateway against a bare Node proxy and a direct
 * call, in one run, on loopback. Each server (upstream + token server, bare proxy, gateway) runs in its own
 * child process, so CPU per request is the proxy process's own (process.cpuUsage() read over IPC).
 * Throughput and CPU come from autocannon runs alternating bare/gateway after a warm-up; latency from an
 * open-loop client at a fixed 1,000 req/s. Any non-2xx answer or transport error fails the scenario.
 * `--write` puts the results into docs/benchmarks.md (between the bench:results markers).
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryOf, type ChildStats } from './lib/child.ts';
import { prepareBenchConfig } from './lib/config.ts';
import { paced, type PacedResult } from './lib/paced.ts';
import { startChild, type BenchChild } from './lib/procs.ts';
import { extraScenarios, type ScenarioContext } from './scenarios.ts';

interface CannonResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  statusCodeStats?: Record<string, { count: number }>;
}
type Cannon = (options: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const write = argv.includes('--write');
/** `--profile`: run the gateway under `node --cpu-prof`; the .cpuprofile lands in bench/profiles/. */
const profile = argv.includes('--profile');
/**
 * The gateway runs its compiled build, as the image does (tsc into bench/.build at the start of the run;
 * Dockerfile ENTRYPOINT `dist/src/cli/main.js`, and the bin shim prefers `dist/` too), not its TypeScript
 * sources through Node's type stripping: stripping the ~250 source files keeps their texts and the
 * stripper's memory in the process, ~50 MB of scenario 3's peak RSS that a deployed gateway does not carry
 * (docs/benchmarks.md, "Memory"). The harness's own small .ts files (both proxies' wrappers) are still
 * stripped, alike for both. `--sources`: run the gateway from `src/` instead (the figures of issue 19's
 * first runs were taken so). `--compiled`, the option's former name, is accepted and changes nothing.
 */
const compiled = !argv.includes('--sources');
/** `--cpu-only`: throughput and CPU alternations only, no fixed-rate latency runs (quick checks of a fix). */
const cpuOnly = argv.includes('--cpu-only');
/** `--no-pin`: leave scheduling to the kernel instead of giving the measured proxy a core of its own. */
/** CPUs of the machine, read before this process pins itself (after that, availableParallelism() says 1). */
const CPU_COUNT = os.availableParallelism();
const pinning = !argv.includes('--no-pin') && CPU_COUNT >= 2 && hasTaskset();
const onlyArg = argv.find((a) => a.startsWith('--only'));
const only = onlyArg
  ? new Set((onlyArg.includes('=') ? onlyArg.split('=')[1] : argv[argv.indexOf(onlyArg) + 1]).split(','))
  : undefined;

/** Run lengths. Full run: about 4 minutes on 2 cores. */
const T = quick
  ? { warmS: 1, rounds: 2, cannonS: 2, pacedS: 2, connections: 32, manyS: 3, reloadS: 5 }
  : { warmS: 6, rounds: 5, cannonS: 3, pacedS: 3, connections: 32, manyS: 4, reloadS: 10 };
const RATE = 1000;

export const CONSUMER_KEY = 'bench-consumer-key-0123456789abcdef';
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';

export class ScenarioFailure extends Error {}

/** One way of reaching the upstream: directly, through the bare proxy, through the gateway. */
export interface Target {
  readonly name: 'direct' | 'bare' | 'gateway' | 'json floor';
  /** The process whose CPU and memory are measured. */
  readonly child: BenchChild;
  readonly url: string;
  readonly headers: Record<string, string>;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  readonly body?: Buffer;
  readonly contentType?: string;
}

interface CannonMeasure {
  rps: number;
  cpuUs: number;
  peakRssKb: number;
  requests: number;
}

const cpuOf = (s: ChildStats) => s.user + s.system;

function headersFor(target: Target, spec: RequestSpec): Record<string, string> {
  const h: Record<string, string> = { ...target.headers };
  if (spec.contentType) h['content-type'] = spec.contentType;
  return h;
}

/** autocannon against one target; CPU per request of the target's process; peak RSS sampled every 100 ms. */
export async function cannon(
  label: string,
  target: Target,
  spec: RequestSpec,
  seconds: number,
  connections = T.connections,
): Promise<CannonMeasure> {
  const before = await target.child.stats();
  let peak = memoryOf(target.child.pid).rssKb;
  const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(target.child.pid).rssKb)), 100);
  const r = await autocannon({
    url: target.url,
    method: spec.method,
    headers: headersFor(target, spec),
    body: spec.body,
    connections,
    duration: seconds,
    timeout: 10,
  });
  clearInterval(sampler);
  const after = await target.child.stats();
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) {
    const codes = Object.entries(r.statusCodeStats ?? {})
      .filter(([code]) => !code.startsWith('2'))
      .map(([code, v]) => `${v.count}× HTTP ${code}`);
    throw new ScenarioFailure(
      `${label}: ${target.name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts ${codes.join(', ')}`,
    );
  }
  const n = r['2xx'];
  if (n === 0) throw new ScenarioFailure(`${label}: ${target.name}: no request completed`);
  return { rps: n / r.duration, cpuUs: (cpuOf(after) - cpuOf(before)) / n, peakRssKb: peak, requests: n };
}

/** Fixed-rate run; CPU per request of the target's process too. */
export async function fixedRate(
  label: string,
  target: Target,
  spec: RequestSpec,
  seconds: number,
  during?: { everyMs: number; run(): Promise<void> },
): Promise<PacedResult & { cpuUs: number }> {
  // Latency at a light fixed rate is measured unpinned: with the paced client and the upstream on one core,
  // each answer waits for the other to be scheduled and the direct call's own p99 grows to milliseconds.
  setPinned(false);
  const before = await target.child.stats();
  const r = await paced({
    url: target.url,
    rate: RATE,
    durationMs: seconds * 1000,
    method: spec.method,
    headers: headersFor(target, spec),
    body: spec.body,
    during,
  }).finally(() => setPinned(true));
  const after = await target.child.stats();
  if (r.failed > 0) {
    throw new ScenarioFailure(
      `${label}: ${target.name}: ${r.failed} failed at ${RATE} req/s: ${r.failures.join('; ')}`,
    );
  }
  return { ...r, cpuUs: (cpuOf(after) - cpuOf(before)) / r.ok };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export interface ScenarioRow {
  scenario: string;
  target: string;
  rps?: number;
  cpuUs?: number;
  p50Us?: number;
  p99Us?: number;
  addedP99Us?: number;
  peakRssMb?: number;
  note?: string;
}
export interface Check {
  name: string;
  measured: string;
  limit: string;
  met: boolean;
}

/**
 * The comparison of one request shape: warm-up, then `rounds` alternations of bare and gateway under
 * autocannon (throughput, CPU), then of direct, bare and gateway at a fixed rate (latency).
 */
export async function compare(
  label: string,
  targets: { direct: Target; bare: Target; gateway: Target; floor?: Target },
  spec: RequestSpec,
  rows: ScenarioRow[],
): Promise<{ cpuRatio: number; addedP99Us: number; rpsRatio: number; floorRatio?: number }> {
  const { direct, bare, gateway, floor } = targets;
  log(`${label}: warm-up`);
  for (const t of [direct, bare, gateway, ...(floor ? [floor] : [])]) await cannon(label, t, spec, T.warmS);
  const thr: Record<string, CannonMeasure[]> = { bare: [], gateway: [], 'json floor': [] };
  // Throughput rounds: bare and gateway alternating (and the json floor, where given, rotating with them).
  const measured = floor ? [bare, gateway, floor] : [bare, gateway];
  for (let round = 0; round < T.rounds; round++) {
    const k = round % measured.length;
    const order = floor ? [...measured.slice(k), ...measured.slice(0, k)] : k === 0 ? [bare, gateway] : [gateway, bare];
    for (const t of order) thr[t.name].push(await cannon(label, t, spec, T.cannonS));
    log(
      `${label}: round ${round + 1}: ` +
        measured
          .map((t) => `${t.name} ${fmt(thr[t.name][round].rps)} req/s ${fmt(thr[t.name][round].cpuUs)} µs/req`)
          .join(', '),
    );
  }
  // Latency: direct, bare and gateway one after another at RATE, the order rotating each round. (Calling
  // them interleaved in one run, 3,000 req/s from this one client, measured the client: direct p50 0.6 ms.)
  const lat: Record<string, PacedResult[]> = { direct: [], bare: [], gateway: [] };
  for (let round = 0; round < (cpuOnly ? 0 : T.rounds); round++) {
    const all = [direct, bare, gateway];
    const order = [...all.slice(round % 3), ...all.slice(0, round % 3)];
    for (const t of order) lat[t.name].push(await fixedRate(label, t, spec, T.pacedS));
    log(
      `${label}: ${RATE} req/s round ${round + 1}: p99 direct ${fmt(lat.direct[round].p99)} µs, ` +
        `bare ${fmt(lat.bare[round].p99)} µs, gateway ${fmt(lat.gateway[round].p99)} µs`,
    );
  }
  const perRound = (f: (i: number) => number) =>
    median(Array.from({ length: T.rounds }, (_, i) => f(i)).filter((x) => !Number.isNaN(x)));
  const spread = (f: (i: number) => number) => {
    const xs = Array.from({ length: T.rounds }, (_, i) => f(i));
    return `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  };
  const cpuRatio = perRound((i) => thr.gateway[i].cpuUs / thr.bare[i].cpuUs);
  const rpsRatio = perRound((i) => thr.gateway[i].rps / thr.bare[i].rps);
  const added = (name: string) => perRound((i) => (lat[name][i]?.p99 ?? NaN) - (lat.direct[i]?.p99 ?? NaN));
  const floorRatio = floor ? perRound((i) => thr.gateway[i].cpuUs / thr['json floor'][i].cpuUs) : undefined;
  for (const t of [direct, bare, gateway]) {
    const m = lat[t.name];
    rows.push({
      scenario: label,
      target: t.name,
      rps: t.name === 'direct' ? undefined : median(thr[t.name].map((x) => x.rps)),
      cpuUs: t.name === 'direct' ? undefined : median(thr[t.name].map((x) => x.cpuUs)),
      p50Us: median(m.map((x) => x.p50)),
      p99Us: median(m.map((x) => x.p99)),
      addedP99Us: t.name === 'direct' ? undefined : added(t.name),
      note:
        t.name === 'gateway'
          ? `gateway/bare: CPU ${cpuRatio.toFixed(2)}x (rounds ${spread((i) => thr.gateway[i].cpuUs / thr.bare[i].cpuUs)}), ` +
            `req/s ${rpsRatio.toFixed(2)}x` +
            (cpuOnly
              ? ''
              : `, p99 ${perRound((i) => (lat.gateway[i]?.p99 ?? NaN) / (lat.bare[i]?.p99 ?? NaN)).toFixed(2)}x`) +
            (floorRatio === undefined
              ? ''
              : `; gateway/json floor: CPU ${floorRatio.toFixed(2)}x (rounds ${spread((i) => thr.gateway[i].cpuUs / thr['json floor'][i].cpuUs)})`)
          : undefined,
    });
  }
  if (floor) {
    // Throughput only: the floor is a reference for CPU per request, not a latency target.
    rows.push({
      scenario: label,
      target: floor.name,
      rps: median(thr[floor.name].map((x) => x.rps)),
      cpuUs: median(thr[floor.name].map((x) => x.cpuUs)),
      note: `json floor/bare: CPU ${perRound((i) => thr['json floor'][i].cpuUs / thr.bare[i].cpuUs).toFixed(2)}x (bench/servers/json-floor-proxy.ts)`,
    });
  }
  return { cpuRatio, addedP99Us: added('gateway'), rpsRatio, floorRatio };
}

function log(line: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}
export const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** A 2 KB JSON request body (a dossier status update). */
function jsonBody(bytes: number): Buffer {
  const records = [];
  let i = 0;
  while (JSON.stringify({ records }).length < bytes - 120) {
    records.push({ maHoSo: `H52.21-250701-${String(i).padStart(4, '0')}`, trangThai: 'DANG_XU_LY', buoc: i++ });
  }
  return Buffer.from(JSON.stringify({ records }));
}

/** Compiles the gateway into bench/.build (tsconfig.build.json); returns its app/gateway.js. */
function buildGateway(): string {
  const out = path.join(here, '.build');
  rmSync(out, { recursive: true, force: true });
  log('building the gateway into bench/.build (tsc -p tsconfig.build.json)');
  execSync(`"${process.execPath}" node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir bench/.build`, {
    cwd: root,
    stdio: 'inherit',
  });
  return path.join(out, 'src/app/gateway.js');
}

async function main() {
  const gatewayModule = compiled ? buildGateway() : undefined;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lgsp-bench-'));
  const benchConfig = prepareBenchConfig(tmp);
  const { configDir } = benchConfig;
  const children: BenchChild[] = [];
  const failures: string[] = [];
  const rows: ScenarioRow[] = [];
  const checks: Check[] = [];
  try {
    const upstream = await startChild('upstream', path.join(here, 'servers/upstream.ts'), {});
    children.push(upstream);
    const bare = await startChild(
      'bare',
      path.join(here, 'servers/bare-proxy.ts'),
      { BENCH_TARGET: upstream.url },
      undefined,
      profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(here, 'profiles', 'bare')}`] : [],
    );
    children.push(bare);
    const jsonFloor = await startChild(
      'json floor',
      path.join(here, 'servers/json-floor-proxy.ts'),
      { BENCH_TARGET: upstream.url },
      undefined,
      profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(here, 'profiles', 'json-floor')}`] : [],
    );
    children.push(jsonFloor);
    const gatewayLog = path.join(tmp, 'gateway.log');
    const gw = await startChild(
      'gateway',
      path.join(here, 'servers/gateway.ts'),
      {
        ...benchConfig.env,
        BENCH_UPSTREAM_URL: upstream.url,
        LOG_LEVEL: 'info',
        ...(gatewayModule ? { BENCH_GATEWAY_MODULE: gatewayModule } : {}),
      },
      gatewayLog,
      profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(here, 'profiles')}`] : [],
    );
    children.push(gw);
    if (pinning) {
      // The proxy being measured (bare or gateway: only one is loaded at a time) gets CPU 1 to itself; the
      // load generator (this process) and the upstream share CPU 0. Without this, the three busy processes
      // and their GC threads migrate between the two cores and CPU per request moves by ±40% between rounds.
      pins.push([process.pid, 0], [upstream.pid, 0], [bare.pid, 1], [jsonFloor.pid, 1], [gw.pid, 1]);
      setPinned(true);
    }
    log(
      `upstream ${upstream.url} (pid ${upstream.pid}), bare ${bare.url} (pid ${bare.pid}), gateway ${gw.url} (pid ${gw.pid})`,
    );

    const path1 = '/svc/1.0/lookup?maTinh=52';
    const targets = {
      direct: { name: 'direct', child: upstream, url: `${upstream.url}/plain${path1}`, headers: {} },
      bare: { name: 'bare', child: bare, url: `${bare.url}/plain${path1}`, headers: {} },
      gateway: { name: 'gateway', child: gw, url: `${gw.url}/ndxp${path1}`, headers: { 'x-api-key': CONSUMER_KEY } },
    } satisfies Record<string, Target>;

    const run = async (id: string, name: string, fn: () => Promise<void>) => {
      if (only && !only.has(id)) return;
      try {
        await fn();
      } catch (err) {
        if (!(err instanceof ScenarioFailure)) throw err;
        failures.push(`scenario ${id} (${name}) FAILED: ${err.message}`);
        log(failures.at(-1)!);
      }
    };

    await run('1', 'pass-through', async () => {
      const get = await compare('1a pass-through GET', targets, { method: 'GET' }, rows);
      const post = await compare(
        '1b pass-through POST 2 KB',
        targets,
        { method: 'POST', body: jsonBody(2048), contentType: 'application/json' },
        rows,
      );
      for (const [what, r] of [
        ['GET', get],
        ['POST 2 KB', post],
      ] as const) {
        checks.push({
          name: `pass-through ${what}: CPU per request, gateway/bare`,
          measured: `${r.cpuRatio.toFixed(2)}x`,
          limit: '≤ 1.3x',
          met: r.cpuRatio <= 1.3,
        });
        checks.push({
          name: `pass-through ${what}: p99 added over direct at ${RATE} req/s`,
          measured: `${(r.addedP99Us / 1000).toFixed(2)} ms`,
          limit: '≤ 1 ms',
          met: r.addedP99Us <= 1000,
        });
      }
    });

    const ctx: ScenarioContext = {
      upstream,
      bare,
      jsonFloor,
      gateway: gw,
      configDir,
      tmp,
      consumerKey: CONSUMER_KEY,
      rows,
      checks,
      compare,
      T,
    };
    for (const extra of extraScenarios) await run(extra.id, extra.name, () => extra.run(ctx));

    await run('3', '1,000 connections', async () => {
      const label = `3 GET, 1,000 keep-alive connections`;
      const spec: RequestSpec = { method: 'GET' };
      log(`${label}: warm-up`);
      for (const t of [targets.bare, targets.gateway]) await cannon(label, t, spec, T.warmS, 1000);
      const m: Record<string, CannonMeasure[]> = { bare: [], gateway: [] };
      for (let round = 0; round < 2; round++) {
        const order = round === 0 ? [targets.bare, targets.gateway] : [targets.gateway, targets.bare];
        for (const t of order) m[t.name].push(await cannon(label, t, spec, T.manyS, 1000));
        log(`${label}: round ${round + 1}: gateway peak RSS ${fmt(m.gateway[round].peakRssKb / 1024, 1)} MB`);
      }
      const hwm = (await gw.stats()).hwmKb;
      const peakMb = Math.max(...m.gateway.map((x) => x.peakRssKb)) / 1024;
      for (const name of ['bare', 'gateway'] as const) {
        rows.push({
          scenario: label,
          target: name,
          rps: median(m[name].map((x) => x.rps)),
          cpuUs: median(m[name].map((x) => x.cpuUs)),
          peakRssMb: Math.max(...m[name].map((x) => x.peakRssKb)) / 1024,
          note:
            name === 'gateway'
              ? `VmHWM over the whole run ${fmt(hwm / 1024, 1)} MB; CPU gateway/bare ${median(m.gateway.map((x, i) => x.cpuUs / m.bare[i].cpuUs)).toFixed(2)}x`
              : undefined,
        });
      }
      // Issue 19's goal: the gateway's peak within 5% of the bare proxy's, measured in the same run.
      const barePeakMb = Math.max(...m.bare.map((x) => x.peakRssKb)) / 1024;
      checks.push({
        name: 'peak RSS of the gateway with 1,000 connections, vs bare',
        measured: `${peakMb.toFixed(1)} vs ${barePeakMb.toFixed(1)} MB (${(peakMb / barePeakMb).toFixed(2)}x)`,
        limit: '≤ 1.05x',
        met: peakMb <= barePeakMb * 1.05,
      });
    });

    await run('4', 'hot reload every second', async () => {
      const label = '4 GET, hot reload every second';
      const routesFile = path.join(configDir, 'routes.yaml');
      const original = readFileSync(routesFile, 'utf8');
      let reloads = 0;
      const reload = async () => {
        // A real change every time (a route appears and disappears), so each reload rebuilds the runtime.
        const extra =
          reloads % 2 === 0
            ? `  - { id: bench-extra-${reloads}, methods: [GET], path: /ndxp-extra/${reloads}, upstream: ndxp, consumers: [bench] }\n`
            : '';
        writeFileSync(routesFile, original + extra);
        const res = await post(`${gw.url}/admin/reload`, { 'x-admin-key': ADMIN_KEY });
        if (res.status !== 200 || JSON.parse(res.body).result !== 'success') {
          throw new ScenarioFailure(`${label}: reload answered ${res.status} ${res.body.slice(0, 300)}`);
        }
        reloads++;
      };
      const during = { everyMs: 1000, run: reload };
      let reloadError: unknown;
      const guarded = {
        everyMs: 1000,
        run: () => during.run().catch((err) => void (reloadError ??= err)),
      };
      // Throughput under reloads: autocannon in the foreground, reloads every second in the background.
      const before = reloads;
      let stop = false;
      const loop = (async () => {
        while (!stop) {
          await new Promise((r) => setTimeout(r, 1000));
          if (!stop) await guarded.run();
        }
      })();
      const sat = await cannon(label, targets.gateway, { method: 'GET' }, T.reloadS);
      stop = true;
      await loop;
      const satReloads = reloads - before;
      const fixed = await fixedRate(label, targets.gateway, { method: 'GET' }, T.reloadS, guarded);
      if (reloadError) throw reloadError;
      const direct = await fixedRate(label, targets.direct, { method: 'GET' }, T.reloadS);
      rows.push({
        scenario: label,
        target: 'gateway',
        rps: sat.rps,
        cpuUs: sat.cpuUs,
        p50Us: fixed.p50,
        p99Us: fixed.p99,
        addedP99Us: fixed.p99 - direct.p99,
        note: `${reloads} successful reloads (${satReloads} under saturation, ${reloads - satReloads} at ${RATE} req/s), 0 failed requests`,
      });
      writeFileSync(routesFile, original);
    });

    const report = renderReport(rows, checks, failures);
    process.stdout.write(`\n${report}\n`);
    if (write) {
      if (failures.length > 0) log('not writing docs/benchmarks.md: a scenario failed');
      else writeResults(report);
    }
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(tmp, { recursive: true, force: true });
    if (gatewayModule) rmSync(path.join(here, '.build'), { recursive: true, force: true });
  }
  if (failures.length > 0) {
    process.stderr.write(`\n${failures.join('\n')}\n`);
    process.exit(1);
  }
}

function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': '0' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function hasTaskset(): boolean {
  try {
    execSync('taskset -V', { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Process → CPU for the saturated runs (empty when not pinning). */
const pins: [number, number][] = [];

/** Pins every thread of each process in `pins` to its CPU, or lets them run anywhere (threads started later inherit it). */
function setPinned(on: boolean): void {
  const all = `0-${CPU_COUNT - 1}`;
  for (const [pid, cpu] of pins) execSync(`taskset -a -p -c ${on ? cpu : all} ${pid}`, { stdio: 'ignore' });
}

function machine(): string {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  let nproc = String(CPU_COUNT);
  try {
    nproc = execSync('nproc --all', { encoding: 'utf8' }).trim();
  } catch {
    /* CPU_COUNT then */
  }
  return `nproc ${nproc}, ${cpu}, Node ${process.version}, ${os.type()} ${os.release()}`;
}

function renderReport(rows: ScenarioRow[], checks: Check[], failures: string[]): string {
  const ms = (us: number | undefined) => (us === undefined || Number.isNaN(us) ? '' : (us / 1000).toFixed(2));
  const lines = [
    `Machine: ${machine()}  `,
    `Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC  `,
    `Command: \`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}\` (${quick ? 'quick' : 'full'} run: ` +
      `${T.rounds} alternations, ${T.cannonS} s autocannon runs with ${T.connections} connections, ` +
      `${T.pacedS} s at ${RATE} req/s; gateway from ${compiled ? 'its compiled build' : 'its sources (type stripping)'}${pinning ? '; saturated runs: measured proxy pinned to CPU 1, load generator and upstream to CPU 0; fixed-rate runs unpinned' : ''})`,
    '',
    '| Scenario | Via | req/s (saturated) | CPU µs/req | p50 ms @1k/s | p99 ms @1k/s | p99 added ms | peak RSS MB | Notes |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.target} | ${fmt(r.rps)} | ${fmt(r.cpuUs)} | ${ms(r.p50Us)} | ${ms(r.p99Us)} | ` +
        `${ms(r.addedP99Us)} | ${r.peakRssMb === undefined ? '' : r.peakRssMb.toFixed(1)} | ${r.note ?? ''} |`,
    ),
    '',
    '| Target | Measured | Limit | Met |',
    '|---|--:|--:|---|',
    ...checks.map((c) =>
      c.measured.includes('NaN')
        ? `| ${c.name} | not measured (--cpu-only) | ${c.limit} | |`
        : `| ${c.name} | ${c.measured} | ${c.limit} | ${c.met ? 'yes' : '**no**'} |`,
    ),
  ];
  if (failures.length > 0) lines.push('', ...failures.map((f) => `- ${f}`));
  return lines.join('\n');
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

function writeResults(report: string) {
  const file = path.join(root, 'docs', 'benchmarks.md');
  const block = `${START}\n${report}\n${END}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n## Latest results\n\n${START}\n${END}\n`;
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  text = a === -1 || b === -1 ? `${text}\n${block}\n` : text.slice(0, a) + block + text.slice(b + END.length);
  writeFileSync(file, text);
  log(`results written to ${path.relative(process.cwd(), file)}`);
}

await main();
