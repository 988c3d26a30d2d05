import { readFileSync } from 'node:fs';
const text = JSON.stringify(JSON.parse(readFileSync('/work/wt-pipeline/test/fixtures/molisa/DongBoDVC.seed.json', 'utf8')).concat(JSON.parse(readFileSync('/work/wt-pipeline/test/fixtures/molisa/DongBoDVC.seed.json', 'utf8'))).concat(JSON.parse(readFileSync('/work/wt-pipeline/test/fixtures/molisa/DongBoDVC.seed.json', 'utf8'))));
const obj = JSON.parse(text);
const t = (label: string, n: number, fn: () => void) => { for (let i = 0; i < n / 10; i++) fn(); const s = process.cpuUsage(); for (let i = 0; i < n; i++) fn(); const d = process.cpuUsage(s); console.log(label.padEnd(40), ((d.user + d.system) / n).toFixed(2), 'µs'); };
const enc = new TextEncoder();
const s = JSON.stringify(obj);
console.log(s.length, Buffer.byteLength(s));
for (let k = 0; k < 2; k++) {
t('Buffer.from(s)', 50000, () => Buffer.from(s));
t('enc.encode(s)', 50000, () => enc.encode(s));
t('Buffer.byteLength(s)', 50000, () => Buffer.byteLength(s));
const target = Buffer.allocUnsafe(16384);
t('encodeInto', 50000, () => enc.encodeInto(s, target));
t('buf.write', 50000, () => target.write(s));
t('latin1 check /[^\\x00-\\x7f]/', 50000, () => /[^\x00-\x7f]/.test(s));
}
