import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compileMapping, createMappingDeps, createValidatorFactory, loadCatalogs } from '../../src/transform/index.ts';
const root = '/work/wt-pipeline';
const seed = JSON.parse(readFileSync(join(root, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as unknown[];
const records: unknown[] = [];
while (JSON.stringify(records).length < 4096) records.push(seed[records.length % seed.length]);
const text = JSON.stringify(records);
const mappings = parse(readFileSync(join(root, 'config/mappings/molisa.yaml'), 'utf8'), { merge: true });
const mdeps = createMappingDeps(loadCatalogs(join(root, 'config/catalogs')));
const validate = createValidatorFactory(join(root, 'schemas')).compile('molisa/DongBoDVC.json', []);
const ops = mappings.DongBoDVC.request.mapping as Record<string, unknown>[];
const full = compileMapping(ops, mdeps, []);
const mapped = JSON.stringify(full(JSON.parse(text)).body);
const B = 2000;
function m(label: string, prep: () => unknown[], fn: (x: unknown) => void) {
  const xs: number[] = [];
  for (let r = 0; r < 7; r++) { const inp = prep(); const s = process.cpuUsage(); for (const x of inp) fn(x); const d = process.cpuUsage(s); xs.push((d.user + d.system) / B); }
  xs.sort((a, b) => a - b); console.log(label.padEnd(30), xs[3].toFixed(1), 'µs');
}
const P = () => Array.from({ length: B }, () => JSON.parse(text));
const M = () => Array.from({ length: B }, () => JSON.parse(mapped));
m('parse only (JSON.parse in prep)', () => [], () => {});
m('full mapping', P, (x) => full(x));
m('validate (reparsed mapped)', M, (x) => validate(x));
ops.forEach((op, i) => { const f = compileMapping([op], mdeps, []); m(`op ${i} ${op.op} ${op.field ?? ''}`, P, (x) => f(x)); });
