/**
 * The audit trail's business keys (src/observability/audit.ts compileAuditKeyExtractor) before and after
 * the issue-19 rewrite, side by side in one process: `node bench/audit-keys.bench.ts [rounds]`. The bodies
 * are the full-pipeline scenario's ~4 KB MOLISA DongBoDVC batch as the gateway walks it (mapped by the
 * shipped mapping + schema): the bench body (each citizen listed 3 times, 2 HMACs) and one citizen per
 * record (6 HMACs), each over 16 bodies reused (cache-hot) and 2,000 distinct ones (cache-cold). Each case
 * runs its two variants interleaved (the order swapped every round); the figure is CPU µs per body
 * (process.cpuUsage), median of the rounds, and the median of the per-round ratios. "before" is the
 * extractor as it was (test/helpers/reference-audit-extractor.ts).
 */
import { createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { compileAuditKeyExtractor } from '../src/observability/audit.ts';
import { compileBodyStage, createMappingDeps, createValidatorFactory, loadCatalogs } from '../src/transform/index.ts';
import { compileReferenceAuditKeyExtractor } from '../test/helpers/reference-audit-extractor.ts';
import { interleaved } from './lib/interleave.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seed = JSON.parse(readFileSync(join(root, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as Record<
  string,
  unknown
>[];
// As bench/scenarios.ts dongBoDvcBody builds it: the seed's records repeated with distinct MaHoSo, ~4 KB.
const records: Record<string, unknown>[] = [];
for (let i = 0; Buffer.byteLength(JSON.stringify(records)) < 4096 - 600; i++) {
  records.push({ ...seed[i % seed.length], MaHoSo: `000.00.18.G12-250701-${String(i + 1).padStart(4, '0')}` });
}
const text = JSON.stringify(records);
const mappings = parse(readFileSync(join(root, 'config/mappings/molisa.yaml'), 'utf8'), { merge: true });
const deps = {
  ...createMappingDeps(loadCatalogs(join(root, 'config/catalogs'))),
  validators: createValidatorFactory(join(root, 'schemas')),
};
const stage = compileBodyStage(mappings.DongBoDVC.request, deps, ['bench']);
const mapped = (distinct: boolean) => {
  const out = stage(JSON.parse(text));
  if (out.errors.length > 0) throw new Error(`bench body does not validate: ${JSON.stringify(out.errors)}`);
  if (distinct)
    (out.body as { CMND: string }[]).forEach((r, i) => (r.CMND = `0012340000${String(i).padStart(2, '0')}`));
  return out.body;
};

const hmacKey = createSecretKey(Buffer.alloc(32, 7));
const before = compileReferenceAuditKeyExtractor({ hmacKey });
const after = compileAuditKeyExtractor({ hmacKey });
const check = mapped(false);
if (JSON.stringify(before(check)) !== JSON.stringify(after(check))) throw new Error('the two extractors disagree');

const rounds = Number(process.argv[2] ?? 21);
const CALLS = 2000;
let sink = 0;
function time(fn: (b: unknown) => Record<string, unknown>, bodies: unknown[]): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) if (fn(bodies[i % bodies.length]) === undefined) sink++;
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / CALLS;
}

function run(name: string, bodies: unknown[]): void {
  interleaved(name, { before: () => time(before, bodies), after: () => time(after, bodies) }, { rounds, digits: 2 });
}

console.log(`body: ${records.length} records, ${text.length} characters; ${rounds} rounds of ${CALLS} bodies`);
for (const distinct of [false, true]) {
  const label = distinct ? 'one citizen per record (6 HMACs)' : 'bench body (2 HMACs)';
  run(
    `${label}, hot (16 bodies)`,
    Array.from({ length: 16 }, () => mapped(distinct)),
  );
  run(
    `${label}, cold (2,000 bodies)`,
    Array.from({ length: CALLS }, () => mapped(distinct)),
  );
}
if (sink > 0) console.log('');
