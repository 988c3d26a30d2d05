/**
 * Micro-benchmark (not a test): CPU cost of mapping + validating a ~4 KB MOLISA DongBoDVC body with the
 * shipped mapping (config/mappings/molisa.yaml) and schema. Issue 4 budget: well under 100 µs per body.
 * Run: node bench/transform.bench.ts   (prints µs/op measured with process.cpuUsage)
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import {
  compileBodyStage,
  createMappingDeps,
  createValidatorFactory,
  loadCatalogs,
  parseJsonBody,
} from '../src/transform/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seed = JSON.parse(readFileSync(join(root, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as unknown[];
const records: unknown[] = [];
while (JSON.stringify(records).length < 4096) records.push(seed[records.length % seed.length]);
const text = JSON.stringify(records);
const buf = Buffer.from(text);

const mappings = parse(readFileSync(join(root, 'config/mappings/molisa.yaml'), 'utf8'), { merge: true });
const deps = {
  ...createMappingDeps(loadCatalogs(join(root, 'config/catalogs'))),
  validators: createValidatorFactory(join(root, 'schemas')),
};
const stage = compileBodyStage(mappings.DongBoDVC.request, deps, ['bench']);
const check = stage(JSON.parse(text));
if (check.errors.length > 0) throw new Error(`bench body does not validate: ${JSON.stringify(check.errors)}`);

function cpuMicros(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

const BATCH = 2000;
const ROUNDS = 10;
/** CPU µs per call of `op` over fresh inputs (prepared outside the timed loop). */
function measure(prepare: () => unknown[], op: (x: unknown) => void): number {
  for (let i = 0; i < 2; i++) prepare().forEach(op); // warm-up: let V8 optimise
  let total = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const inputs = prepare();
    total += cpuMicros(() => inputs.forEach(op));
  }
  return total / (BATCH * ROUNDS);
}
const show = (label: string, us: number) => console.log(`${label.padEnd(36)} ${us.toFixed(1).padStart(7)} µs/op`);

console.log(`body: ${records.length} records, ${buf.length} bytes (DongBoDVC, shipped mapping + schema)`);
// Inputs are the raw Buffer (as the pipeline gets it), so no large heap of pre-parsed bodies skews GC;
// map + validate is the difference between the two runs.
const buffers = () => Array.from({ length: BATCH }, () => buf as unknown);
const parseOnly = measure(buffers, (b) => void parseJsonBody(b as Buffer, { maxDepth: 32 }));
const all = measure(buffers, (b) => {
  const r = parseJsonBody(b as Buffer, { maxDepth: 32 });
  if (!r.ok || stage(r.value).errors.length > 0) throw new Error('bench body rejected');
});
show('parseJsonBody', parseOnly);
show('parse + map + validate', all);
show('map + validate (difference)', all - parseOnly);
