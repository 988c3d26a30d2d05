/**
 * The end of an exchange (src/app/gateway.ts onExchange) before and after the issue-19 "audit" helper's
 * changes, side by side in one process: `node bench/exchange-end.bench.ts [rounds]`. Each case runs its two
 * variants interleaved (the order swapped every round), 2,000 calls a round, in two rhythms: back to back
 * (a loop), and one call between the mapping of a 4 KB MOLISA body (the shipped mapping + schema), as in
 * the gateway, where a request's other work runs between two ends of exchanges and leaves the code and
 * data of this one cold. The figure is the time of the calls alone (hrtime around each), µs per call,
 * median of the rounds, and the median of the per-round ratios. "before" is the code the change replaced.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createMetrics } from '../src/observability/metrics.ts';
import { compileBodyStage, createMappingDeps, createValidatorFactory, loadCatalogs } from '../src/transform/index.ts';
import { interleaved } from './lib/interleave.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seed = JSON.parse(readFileSync(join(root, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as unknown[];
const records: unknown[] = [];
while (JSON.stringify(records).length < 3500) records.push(seed[records.length % seed.length]);
const text = JSON.stringify(records);
const mappings = parse(readFileSync(join(root, 'config/mappings/molisa.yaml'), 'utf8'), { merge: true });
const deps = {
  ...createMappingDeps(loadCatalogs(join(root, 'config/catalogs'))),
  validators: createValidatorFactory(join(root, 'schemas')),
};
const stage = compileBodyStage(mappings.DongBoDVC.request, deps, ['bench']);

interface Case {
  readonly name: string;
  readonly before: (i: number) => unknown;
  readonly after: (i: number) => unknown;
}

const rounds = Number(process.argv[2] ?? 21);
const CALLS = 2000;
let sink = 0;

function time(fn: (i: number) => unknown, between: boolean): number {
  let ns = 0n;
  for (let i = 0; i < CALLS; i++) {
    if (between && stage(JSON.parse(text)).errors.length > 0) sink++;
    const t0 = process.hrtime.bigint();
    if (fn(i) === sink) sink++;
    ns += process.hrtime.bigint() - t0;
  }
  return Number(ns) / 1000 / CALLS;
}

function run(c: Case, between: boolean): void {
  interleaved(
    `${c.name}, ${between ? 'between mappings' : 'in a loop'}`,
    { before: () => time(c.before, between), after: () => time(c.after, between) },
    { rounds, warmUps: 2 },
  );
}

const beforeMetrics = createMetrics({ defaultMetrics: false });
const afterMetrics = createMetrics({ defaultMetrics: false });
const ROUTE = 'molisa-dong-bo-dvc';
const cases: Case[] = [
  {
    name: 'nothing (the timer alone)',
    before: (i) => i,
    after: (i) => i,
  },
  {
    name: 'the two duration histograms',
    before: (i) => {
      beforeMetrics.duration.observe({ route: ROUTE, upstream: 'molisa', status_class: '2xx' }, (i * 0.51) / 1000);
      beforeMetrics.upstreamDuration.observe({ route: ROUTE, upstream: 'molisa' }, (i * 0.37) / 1000);
    },
    after: (i) => {
      afterMetrics.observeDuration(ROUTE, 'molisa', '2xx', (i * 0.51) / 1000);
      afterMetrics.observeUpstreamDuration(ROUTE, 'molisa', (i * 0.37) / 1000);
    },
  },
];

for (const c of cases) for (const between of [false, true]) run(c, between);
// A scrape reads both the same (the queues are handed over first).
const scrape = async (m: ReturnType<typeof createMetrics>) =>
  (await m.registry.metrics()).split('\n').filter((l) => l.includes('duration_seconds_count'));
if ((await scrape(beforeMetrics)).join() !== (await scrape(afterMetrics)).join()) throw new Error('scrapes differ');
if (sink < 0) console.log(sink);
