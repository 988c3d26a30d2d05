/**
 * Micro-benchmark (not a test): CPU cost of one audit HMAC of a 12-digit citizen ID, `createHmac` with a
 * `KeyObject` (what the trail did) against `compileSubjectHmac` (precomputed key blocks, two SHA-256
 * compressions in JavaScript), interleaved in one process, order swapped each round.
 * Run: node bench/subject-hmac.bench.ts [rounds]   (CPU µs per ID: median and minimum of `rounds`, default 21)
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { compileSubjectHmac } from '../src/observability/subject-hmac.ts';

const rounds = Number(process.argv[2] ?? 21);
const key = createSecretKey(randomBytes(40));
const compiled = compileSubjectHmac(key);
const native = (id: string) => createHmac('sha256', key).update(id, 'utf8').digest('base64url');
const ids = Array.from({ length: 2000 }, (_, i) => String(1_222_345_67890 + i * 7919));
for (const id of ids) if (compiled(id) !== native(id)) throw new Error(`digests differ for ${id}`);

let sink = 0;
const time = (hmac: (id: string) => string): number => {
  const start = process.cpuUsage();
  for (let r = 0; r < 10; r++) for (const id of ids) sink += hmac(id).length;
  const d = process.cpuUsage(start);
  return (d.user + d.system) / (10 * ids.length);
};
for (let i = 0; i < 3; i++) {
  time(native);
  time(compiled);
}
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < rounds; i++) {
  if (i % 2 === 0) {
    a.push(time(native));
    b.push(time(compiled));
  } else {
    b.push(time(compiled));
    a.push(time(native));
  }
}
const median = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
const show = (x: number[]) => `${median(x).toFixed(2)} (min ${Math.min(...x).toFixed(2)})`;
console.log(`createHmac + KeyObject: ${show(a)} µs per ID`);
console.log(`compileSubjectHmac:     ${show(b)} µs per ID`);
if (sink === 0) console.log('');
