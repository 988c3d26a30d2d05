/**
 * Micro-benchmark (not a test): map + validate of the full-pipeline body (~4.6 KB MOLISA DongBoDVC, shipped
 * mapping and schema, as bench/transform.bench.ts) by two checkouts loaded side by side in one process,
 * interleaved round by round, so a shared machine's load falls on both alike.
 * Run:
 *   git worktree add --detach /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   node bench/transform-ab.bench.ts /tmp/base [rounds]          # bodies parsed before each timed batch
 *   HOT=1 node bench/transform-ab.bench.ts /tmp/base [rounds]    # each body parsed just before its call, as
 *                                                                # in the gateway; parse timed on its own
 * Prints CPU µs per body (process.cpuUsage; median and quartiles of the rounds) and the median of the
 * per-round ratios this checkout / base.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { cpuMicros } from './lib/cpu.ts';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const base = process.argv[2];
if (!base) throw new Error('usage: node bench/transform-ab.bench.ts <base checkout> [rounds]');
const rounds = Number(process.argv[3] ?? 60);
const hot = process.env.HOT !== undefined;

const seed = JSON.parse(readFileSync(join(here, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as unknown[];
const records: unknown[] = [];
while (JSON.stringify(records).length < 4096) records.push(seed[records.length % seed.length]);
const text = JSON.stringify(records);
const mappings = parse(readFileSync(join(here, 'config/mappings/molisa.yaml'), 'utf8'), { merge: true });

type Stage = (body: unknown) => { errors: unknown[] };
const variants: [string, Stage][] = [];
for (const [name, root] of [
  ['base', base],
  ['this', here],
] as const) {
  const T = await import(join(root, 'src/transform/index.ts'));
  const deps = {
    ...T.createMappingDeps(T.loadCatalogs(join(root, 'config/catalogs'))),
    validators: T.createValidatorFactory(join(root, 'schemas')),
  };
  const stage = T.compileBodyStage(mappings.DongBoDVC.request, deps, ['bench']) as Stage;
  if (stage(JSON.parse(text)).errors.length > 0) throw new Error(`${name}: bench body rejected`);
  variants.push([`${name} map + validate`, stage]);
}
if (hot) variants.push(['JSON.parse alone', (b) => ({ errors: b === undefined ? [1] : [] })]);

const BATCH = 400;
const results = variants.map(() => [] as number[]);
for (let r = 0; r < rounds + 5; r++) {
  variants.forEach(([, stage], i) => {
    const bodies = hot ? [] : Array.from({ length: BATCH }, () => JSON.parse(text) as unknown);
    const us = cpuMicros(() => {
      if (hot) for (let k = 0; k < BATCH; k++) stage(JSON.parse(text));
      else for (let k = 0; k < BATCH; k++) stage(bodies[k]);
    });
    if (r >= 5) results[i].push(us / BATCH); // the first rounds warm V8 up
  });
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];
console.log(`body ${text.length} bytes; ${rounds} rounds of ${BATCH} calls; ${hot ? 'HOT (parse included)' : 'cold'}`);
variants.forEach(([name], i) => {
  const xs = results[i];
  console.log(
    `${name.padEnd(22)} median ${q(xs, 0.5).toFixed(1)} µs  (p25 ${q(xs, 0.25).toFixed(1)}, p75 ${q(xs, 0.75).toFixed(1)})`,
  );
});
const ratios = results[1].map((x, r) => x / results[0][r]);
console.log(
  `this / base per round: median ${q(ratios, 0.5).toFixed(3)} (p25 ${q(ratios, 0.25).toFixed(3)}, p75 ${q(ratios, 0.75).toFixed(3)})`,
);
