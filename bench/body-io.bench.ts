/**
 * Micro-benchmark (not a test): the body's way in and out on the full-pipeline request (~4.6 KB MOLISA
 * DongBoDVC body, shipped mapping): the byte guard, guard + parse (as parseGuarded does it), and the
 * serialisation of the mapped body into the bytes sent (credentials/call-body.ts `callBody`), by this
 * checkout and another loaded side by side in one process, interleaved round by round (the order swapped
 * each round), so a shared machine's load falls on both alike.
 * Run:
 *   git worktree add --detach /tmp/base <commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   node bench/body-io.bench.ts /tmp/base [rounds]
 * Prints CPU µs per body (process.cpuUsage; median and minimum of the rounds) and the median and range of
 * the per-round ratios this checkout / base. Serialisation runs on fresh mapped bodies (each serialised
 * once, as in the gateway) and, with HOT=1, on one body serialised over and over.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { cpuMicros } from './lib/cpu.ts';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const base = process.argv[2];
if (!base) throw new Error('usage: node bench/body-io.bench.ts <base checkout> [rounds]');
const rounds = Number(process.argv[3] ?? 41);
const hot = process.env.HOT !== undefined;

const seed = JSON.parse(readFileSync(join(here, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as unknown[];
const records: unknown[] = [];
while (JSON.stringify(records).length < 4096) records.push(seed[records.length % seed.length]);
const text = JSON.stringify(records);
const buf = Buffer.from(text);

interface Tree {
  guardJsonBody(b: Buffer, limits: { maxDepth: number; maxKeys?: number }): unknown;
  parseJsonBody(b: Buffer, limits: { maxDepth: number; exactNumbers?: boolean; guarded?: boolean }): unknown;
  callBody(call: { json?: unknown }, passthrough: Buffer | undefined): Buffer | undefined;
}
async function load(root: string): Promise<Tree> {
  const guard = await import(join(root, 'src/transform/json-guard.ts'));
  const body = await import(join(root, 'src/transform/json-body.ts'));
  const call = await import(join(root, 'src/credentials/call-body.ts'));
  return { guardJsonBody: guard.guardJsonBody, parseJsonBody: body.parseJsonBody, callBody: call.callBody };
}
const trees: [string, Tree][] = [
  ['base', await load(base)],
  ['this', await load(here)],
];

const transform = await import(join(here, 'src/transform/index.ts'));
const mappings = parse(readFileSync(join(here, 'config/mappings/molisa.yaml'), 'utf8'), { merge: true });
const deps = {
  ...transform.createMappingDeps(transform.loadCatalogs(join(here, 'config/catalogs'))),
  validators: transform.createValidatorFactory(join(here, 'schemas')),
};
const stage = transform.compileBodyStage(mappings.DongBoDVC.request, deps, ['bench']);
const mapped = (): unknown => stage(JSON.parse(text)).body;
for (const [name, t] of trees) {
  const sent = t.callBody({ json: mapped() }, undefined)!;
  if (!sent.equals(Buffer.from(JSON.stringify(mapped())))) throw new Error(`${name}: callBody differs`);
}

const limits = { maxDepth: 64, maxKeys: 1000 };
const BATCH = 400;
const cases: [string, (t: Tree) => (x: unknown) => void, () => unknown][] = [
  ['guardJsonBody', (t) => () => void t.guardJsonBody(buf, limits), () => buf],
  [
    'guard + parse',
    (t) => () => {
      const f = t.guardJsonBody(buf, limits) as { exactNumbers: boolean; checked: boolean };
      t.parseJsonBody(buf, { maxDepth: 64, exactNumbers: f.exactNumbers, guarded: f.checked });
    },
    () => buf,
  ],
  [
    'callBody (serialise)',
    (t) => (x) => void t.callBody({ json: x }, undefined),
    hot
      ? (
          (b) => () =>
            b
        )(mapped())
      : mapped,
  ],
];

for (const [label, op, input] of cases) {
  const times: Record<string, number[]> = { base: [], this: [] };
  for (let r = 0; r < rounds + 3; r++) {
    const order = r % 2 ? trees : [...trees].reverse();
    for (const [name, t] of order) {
      const inputs = Array.from({ length: BATCH }, input);
      const f = op(t);
      const us = cpuMicros(() => inputs.forEach(f)) / BATCH;
      if (r >= 3) times[name].push(us); // the first rounds warm both up
    }
  }
  const ratios = times.this.map((x, i) => x / times.base[i]).sort((a, b) => a - b);
  const show = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return `${s[s.length >> 1].toFixed(2)} (min ${s[0].toFixed(2)})`;
  };
  console.log(
    `${label.padEnd(22)} base ${show(times.base)}  this ${show(times.this)}  this/base median ${ratios[ratios.length >> 1].toFixed(3)} (${ratios[0].toFixed(2)}-${ratios.at(-1)!.toFixed(2)})`,
  );
}
