/**
 * Two gateways side by side, scenario 2's request (API key, MOLISA AccessKey, DongBoDVC mapping + schema,
 * the 2 KB answer), CPU per request of each gateway process, rounds alternating which goes first:
 *
 *   node bench/gateway-ab.ts <root of the "before" checkout> [rounds] [requests per round]
 *
 * No bare proxy: the two gateways are compared with each other, in the same run and under the same load,
 * which on a shared machine tells a few per cent apart where bench/run.ts's gateway/bare ratio (±30%
 * between rounds) cannot. Both run from their TypeScript sources; the "before" checkout needs its own
 * node_modules (a symlink to this one's will do). Each round sends a fixed number of requests over 8
 * keep-alive connections; the figure is the gateway's process.cpuUsage() over the round divided by the
 * requests (the harness's own CPU is not counted).
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareBenchConfig } from './lib/config.ts';
import { startChild, type BenchChild } from './lib/procs.ts';
import { dongBoDvcBody } from './scenarios.ts';

const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<{
  '2xx': number;
  non2xx: number;
  errors: number;
}>;
const here = path.dirname(fileURLToPath(import.meta.url));
const [beforeRoot, roundsArg, perRoundArg] = process.argv.slice(2);
if (!beforeRoot) throw new Error('usage: node bench/gateway-ab.ts <before checkout root> [rounds] [requests]');
const rounds = Number(roundsArg ?? 12);
const perRound = Number(perRoundArg ?? 4000);
const CONSUMER_KEY = 'bench-consumer-key-0123456789abcdef';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'lgsp-ab-'));
const children: BenchChild[] = [];
try {
  const upstream = await startChild('upstream', path.join(here, 'servers/upstream.ts'), {});
  children.push(upstream);
  const start = async (name: string, module: string) => {
    const { env } = prepareBenchConfig(path.join(tmp, name));
    const child = await startChild(name, path.join(here, 'servers/gateway.ts'), {
      ...env,
      BENCH_UPSTREAM_URL: upstream.url,
      BENCH_GATEWAY_MODULE: module,
      LOG_LEVEL: 'info',
    });
    children.push(child);
    return child;
  };
  const before = await start('before', path.resolve(beforeRoot, 'src/app/gateway.ts'));
  const after = await start('after', path.resolve(here, '../src/app/gateway.ts'));
  const body = dongBoDvcBody();
  const run = async (gw: BenchChild, amount: number) => {
    const s0 = await gw.stats();
    const r = await autocannon({
      url: `${gw.url}/molisa/api/v1/Service/DongBoDVC`,
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json; charset=utf-8' },
      body,
      connections: 8,
      amount,
      timeout: 10,
    });
    const s1 = await gw.stats();
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${gw.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return (s1.user + s1.system - s0.user - s0.system) / r['2xx'];
  };
  for (const gw of [before, after, before, after]) await run(gw, perRound);
  const b: number[] = [];
  const a: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [before, after] : [after, before];
    const cpu: Record<string, number> = {};
    for (const gw of order) cpu[gw.name] = await run(gw, perRound);
    b.push(cpu.before);
    a.push(cpu.after);
    ratios.push(cpu.after / cpu.before);
    process.stderr.write(
      `round ${i + 1}: before ${cpu.before.toFixed(1)} µs/req, after ${cpu.after.toFixed(1)} µs/req, ` +
        `after/before ${(cpu.after / cpu.before).toFixed(3)}\n`,
    );
  }
  const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) * p)];
  const show = (xs: number[], d = 1) =>
    `${q(xs, 0.5).toFixed(d)} (p25 ${q(xs, 0.25).toFixed(d)}, p75 ${q(xs, 0.75).toFixed(d)})`;
  console.log(`before ${show(b)} µs/req; after ${show(a)} µs/req; after/before ${show(ratios, 3)}`);
} finally {
  for (const c of children.reverse()) await c.stop();
  rmSync(tmp, { recursive: true, force: true });
}
