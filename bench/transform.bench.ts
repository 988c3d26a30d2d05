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
function run(label: string, prepare: () => unknown[], op: (x: unknown) => void): void {
  for (let i = 0; i < 2; i++) prepare().forEach(op); // warm-up: let V8 optimise
  let total = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const inputs = prepare(); // fresh bodies, not timed: mapping edits its (per-request) input
    total += cpuMicros(() => inputs.forEach(op));
  }
  console.log(`${label.padEnd(34)} ${(total / (BATCH * ROUNDS)).toFixed(1).padStart(7)} µs/op`);
}

console.log(`body: ${records.length} records, ${buf.length} bytes`);
const fresh = () => Array.from({ length: BATCH }, () => JSON.parse(text) as unknown);
const buffers = () => Array.from({ length: BATCH }, () => buf as unknown);
run('parseJsonBody', buffers, (b) => void parseJsonBody(b as Buffer, { maxDepth: 32 }));
run('map + validate (compileBodyStage)', fresh, (b) => void stage(b));
run('parse + map + validate', buffers, (b) => {
  const r = parseJsonBody(b as Buffer, { maxDepth: 32 });
  if (r.ok) stage(r.value);
});
