import { createHmac, createSecretKey, hash, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { compileBodyStage, createMappingDeps, createValidatorFactory, loadCatalogs } from '../../src/transform/index.ts';
const root = '/work/wt-pipeline';
const seed = JSON.parse(readFileSync(join(root, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as unknown[];
console.log('seed records', seed.length);
const records: unknown[] = [];
while (JSON.stringify(records).length < 4096) records.push(seed[records.length % seed.length]);
const text = JSON.stringify(records);
const mappings = parse(readFileSync(join(root, 'config/mappings/molisa.yaml'), 'utf8'), { merge: true });
const deps = { ...createMappingDeps(loadCatalogs(join(root, 'config/catalogs'))), validators: createValidatorFactory(join(root, 'schemas')) };
const stage = compileBodyStage(mappings.DongBoDVC.request, deps, ['bench']);
const t = (label: string, n: number, fn: () => void) => { for (let i = 0; i < n / 10; i++) fn(); const s = process.cpuUsage(); for (let i = 0; i < n; i++) fn(); const d = process.cpuUsage(s); console.log(label.padEnd(40), ((d.user + d.system) / n).toFixed(2), 'µs'); };
const parsed = JSON.parse(text);
const mapped = stage(JSON.parse(text)).body;
const reparsed = JSON.parse(JSON.stringify(mapped));
for (let k = 0; k < 2; k++) {
t('stringify parsed', 20000, () => JSON.stringify(parsed));
t('stringify mapped', 20000, () => JSON.stringify(mapped));
t('stringify reparsed mapped', 20000, () => JSON.stringify(reparsed));
t('Buffer.from(stringify mapped)', 20000, () => Buffer.from(JSON.stringify(mapped)));
const key = createSecretKey(Buffer.alloc(32, 7));
t('createHmac KeyObject', 100000, () => createHmac('sha256', key).update('122234567890', 'utf8').digest('base64url'));
const raw = Buffer.alloc(32, 7);
const ipad = Buffer.alloc(64, 0x36), opad = Buffer.alloc(64, 0x5c);
for (let i = 0; i < 32; i++) { ipad[i] ^= raw[i]; opad[i] ^= raw[i]; }
const ipadS = ipad.toString('latin1');
const hm = (m: string) => { const inner = hash('sha256', Buffer.concat([ipad, Buffer.from(m, 'utf8')]), 'buffer'); return hash('sha256', Buffer.concat([opad, inner]), 'base64url'); };
console.log(hm('122234567890') === createHmac('sha256', key).update('122234567890', 'utf8').digest('base64url'));
t('one-shot hash hmac', 100000, () => hm('122234567890'));
}
