import { createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compileAuditKeyExtractor } from '../../src/consumers/audit.ts';
import { guardJsonBytes } from '../../src/pipeline/json-guard.ts';
import { compileBodyStage, createMappingDeps, createValidatorFactory, loadCatalogs, parseJsonBody } from '../../src/transform/index.ts';
const root = '/work/wt-pipeline';
const seed = JSON.parse(readFileSync(join(root, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as unknown[];
const records: unknown[] = [];
while (JSON.stringify(records).length < 4096) records.push(seed[records.length % seed.length]);
const buf = Buffer.from(JSON.stringify(records));
const mappings = parse(readFileSync(join(root, 'config/mappings/molisa.yaml'), 'utf8'), { merge: true });
const deps = { ...createMappingDeps(loadCatalogs(join(root, 'config/catalogs'))), validators: createValidatorFactory(join(root, 'schemas')) };
const stage = compileBodyStage(mappings.DongBoDVC.request, deps, ['bench']);
const extractKeys = compileAuditKeyExtractor({ hmacKey: createSecretKey(Buffer.alloc(32, 7)) });
for (let i = 0; i < 200000; i++) {
  if (guardJsonBytes(buf, 32)) throw new Error('guard');
  const r = parseJsonBody(buf, { maxDepth: 32 });
  if (!r.ok) throw new Error('parse');
  const out = stage(r.value);
  if (out.errors.length > 0) throw new Error('rej');
  Buffer.from(JSON.stringify(out.body));
  extractKeys(out.body);
}
