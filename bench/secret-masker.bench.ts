/**
 * Micro-benchmark (not a test): CPU cost of masking injected secrets in a relayed answer (issue 13.5), per
 * ~4 KB JSON body, outside the sockets. Cases: one OAuth2 bearer token (an ~800-character JWT, as NDXP
 * issues), and the heaviest shipped shape (a token plus a static `lgspaccesstoken` base64 JSON header with
 * its AccessKey/SecretKey); each on a body without any secret (every answer) and with the token quoted
 * once. Also the response head (10 headers) and the stream masker over the body cut in 3 chunks.
 * Run: node bench/secret-masker.bench.ts [rounds]   (µs/op from process.cpuUsage; median of `rounds`)
 */
import { randomBytes } from 'node:crypto';
import { scrubRelayedHeaders } from '../src/credentials/relay-scrub.ts';
import { createSecretMasker, type SecretMasker } from '../src/logging/secret-masker.ts';
import { cpuMicros } from './lib/cpu.ts';

const jwt = [
  Buffer.from('{"alg":"RS256","typ":"JWT","kid":"ndxp-2026"}').toString('base64url'),
  Buffer.from(
    JSON.stringify({ sub: 'ubnd-tinh-52', aud: 'ndxp', scope: 'dancu hotich', pad: 'x'.repeat(300) }),
  ).toString('base64url'),
  randomBytes(256).toString('base64url'),
].join('.');
const accessKey = randomBytes(16).toString('hex');
const secretKey = `${randomBytes(12).toString('base64')}+/=`;
const lgsp = Buffer.from(JSON.stringify({ AccessKey: accessKey, SecretKey: secretKey, AppName: 'motcua' })).toString(
  'base64',
);

const records: unknown[] = [];
for (let i = 0; records.length === 0 || JSON.stringify(records).length < 4096; i++) {
  records.push({ maHoSo: `H52.${i}`, hoTen: 'Nguyễn Văn Minh', ngaySinh: '19750314', trangThai: 'DA_TIEP_NHAN' });
}
const plain = Buffer.from(JSON.stringify({ responseCode: '200', data: records }));
const quoted = Buffer.from(JSON.stringify({ responseCode: '401', message: `token ${jwt} refused`, data: records }));

const cases: [string, SecretMasker][] = [
  ['1 bearer token', createSecretMasker([jwt])!],
  ['token + lgspaccesstoken', createSecretMasker([jwt, lgsp, accessKey, secretKey])!],
];

const BATCH = 5000;
function measure(op: () => void): number {
  for (let i = 0; i < BATCH; i++) op(); // warm-up
  return (
    cpuMicros(() => {
      for (let i = 0; i < BATCH; i++) op();
    }) / BATCH
  );
}

const rounds = Number(process.argv[2] ?? 5);
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const head = () => ({
  'content-type': 'application/json; charset=utf-8',
  'content-length': '4210',
  date: new Date().toUTCString(),
  server: 'WSO2 API Manager',
  'x-request-id': 'abc123',
  'x-ratelimit-remaining': '99',
  'cache-control': 'no-store',
  vary: 'Accept-Encoding',
  'strict-transport-security': 'max-age=31536000',
  'set-cookie': ['a=b'],
});

console.log(`body ${plain.length} B; patterns: ${cases.map(([n, m]) => `${n} ${m.patterns.length}`).join(', ')}`);
for (const [name, masker] of cases) {
  const rows: [string, () => void][] = [
    // No secret: nothing is written, so the same buffer serves every round (no copy in the figure).
    ['maskInPlace, no secret', () => void masker.maskInPlace(plain)],
    ['maskInPlace, token quoted (incl. copy)', () => void masker.maskInPlace(Buffer.from(quoted))],
    [
      'stream (3 chunks, Content-Length)',
      () => {
        const s = masker.stream(plain.length);
        s.push(plain.subarray(0, 1500));
        s.push(plain.subarray(1500, 3000));
        s.push(plain.subarray(3000));
        s.flush();
      },
    ],
    [
      'stream (1 chunk, chunked)',
      () => {
        const s = masker.stream();
        s.push(plain);
        s.flush();
      },
    ],
    ['response head, 10 headers', () => scrubRelayedHeaders(head(), masker, false)],
    ['response head alone (baseline)', () => void head()],
    ['Buffer.from copy alone (baseline)', () => void Buffer.from(plain)],
  ];
  for (const [label, op] of rows) {
    const us = median(Array.from({ length: rounds }, () => measure(op)));
    console.log(`${name.padEnd(24)} ${label.padEnd(36)} ${us.toFixed(2)} µs/op`);
  }
}
