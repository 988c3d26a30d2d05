/**
 * Micro-benchmark (not a test): CPU cost of the per-body work of the "full pipeline" scenario outside the
 * sockets, on a ~4 KB MOLISA DongBoDVC body with the shipped mapping (config/mappings/molisa.yaml) and
 * schema: the byte guard, parsing, map + validate, the audit trail's business keys (with one HMAC per
 * citizen ID) and re-serialisation. Issue 4 budget for map + validate: well under 100 µs per body.
 * Run: node bench/transform.bench.ts [rounds]   (prints µs/op measured with process.cpuUsage; median of
 * `rounds` repetitions, default 5, because the machine is shared)
 */
import { createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { compileAuditKeyExtractor } from '../src/observability/audit.ts';
import { guardJsonBytes } from '../src/transform/json-guard.ts';
import {
  compileBodyStage,
  createMappingDeps,
  createValidatorFactory,
  loadCatalogs,
  parseJsonBody,
} from '../src/transform/index.ts';
import { cpuMicros } from './lib/cpu.ts';

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
const mapped = check.body;
const extractKeys = compileAuditKeyExtractor({ hmacKey: createSecretKey(Buffer.alloc(32, 7)) });
const keys = extractKeys(mapped);
if (!keys['CMND#hmac'] || !keys.MaHoSo) throw new Error(`audit keys missing: ${JSON.stringify(keys)}`);

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

// Inputs are the raw Buffer (as the pipeline gets it) or, for the later steps, a mapped body per call
// produced outside the timed loop.
const buffers = () => Array.from({ length: BATCH }, () => buf as unknown);
const parsed = () => Array.from({ length: BATCH }, () => JSON.parse(text) as unknown);
const mappedBodies = () => Array.from({ length: BATCH }, () => stage(JSON.parse(text)).body);

// The seed has 2 records, so the grown body lists each citizen 3 times; real batches list distinct ones.
const distinctBodies = () =>
  mappedBodies().map((b) => {
    (b as { CMND: string }[]).forEach((r, i) => (r.CMND = `0012340000${String(i).padStart(2, '0')}`));
    return b;
  });

const steps: [string, () => number][] = [
  ['guardJsonBytes', () => measure(buffers, (b) => void guardJsonBytes(b as Buffer, { maxDepth: 32, maxKeys: 1000 }))],
  [
    'parseJsonBody (UTF-8 + JSON.parse + inspect)',
    () => measure(buffers, (b) => void parseJsonBody(b as Buffer, { maxDepth: 32, exactNumbers: false })),
  ],
  [
    'map + validate',
    () =>
      measure(parsed, (b) => {
        if (stage(b).errors.length > 0) throw new Error('bench body rejected');
      }),
  ],
  ['audit keys + HMAC', () => measure(mappedBodies, (b) => void extractKeys(b))],
  ['audit keys + HMAC, 6 distinct citizen IDs', () => measure(distinctBodies, (b) => void extractKeys(b))],
  ['serialise (JSON.stringify + Buffer.from)', () => measure(mappedBodies, (b) => void Buffer.from(JSON.stringify(b)))],
  [
    'whole body (all of the above)',
    () =>
      measure(buffers, (b) => {
        const raw = b as Buffer;
        if (guardJsonBytes(raw, { maxDepth: 32, maxKeys: 1000 })) throw new Error('guard');
        const r = parseJsonBody(raw, { maxDepth: 32, exactNumbers: false });
        if (!r.ok) throw new Error('parse');
        const out = stage(r.value);
        if (out.errors.length > 0) throw new Error('bench body rejected');
        Buffer.from(JSON.stringify(out.body));
        extractKeys(out.body);
      }),
  ],
];

const reps = Number(process.argv[2] ?? 5);
console.log(`body: ${records.length} records, ${buf.length} bytes (DongBoDVC, shipped mapping + schema)`);
console.log(`median of ${reps} runs, each ${ROUNDS} x ${BATCH} calls; CPU µs per body`);
const results: number[][] = steps.map(() => []);
for (let r = 0; r < reps; r++) steps.forEach(([, run], i) => results[i].push(run()));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (let i = 0; i < steps.length; i++) {
  const xs = results[i];
  console.log(
    `${steps[i][0].padEnd(46)} ${median(xs).toFixed(1).padStart(7)} µs  (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`,
  );
}
