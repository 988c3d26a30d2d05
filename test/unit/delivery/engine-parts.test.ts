import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { compileAcceptance } from '../../../src/delivery/acceptance.ts';
import { backoffDelay } from '../../../src/delivery/backoff.ts';
import { compileBusinessKey } from '../../../src/delivery/business-key.ts';
import { Circuit } from '../../../src/delivery/circuit.ts';
import { keyPathProblem } from '../../../src/delivery/key-schema.ts';
import { createSealer, parseKey, payloadHash, type SealedRequest } from '../../../src/delivery/seal.ts';

const KEY_A = Buffer.alloc(32, 1);
const KEY_B = Buffer.alloc(32, 2);
const request: SealedRequest = {
  method: 'POST',
  path: '/api/v1/Service/DongBoDVC',
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1' },
  body: Buffer.from('[{"MaHoSo":"HS-1","CMND":"001099012345"}]'),
};

describe('delivery sealing (issue 17)', () => {
  it('seals with AES-256-GCM: nothing of the payload in clear, and it opens to the same request', () => {
    const sealer = createSealer(KEY_A);
    const blob = sealer.seal(request);
    expect(blob.includes(Buffer.from('001099012345'))).to.equal(false);
    expect(blob.includes(Buffer.from('DongBoDVC'))).to.equal(false);
    expect(sealer.open(blob)).to.deep.equal(request);
    expect(sealer.seal(request).equals(blob), 'a fresh IV each time').to.equal(false);
  });

  it('refuses a tampered blob, a flipped key id and a blob sealed under a key it does not hold', () => {
    const sealer = createSealer(KEY_A);
    const blob = sealer.seal(request);
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 1] ^= 1;
    expect(() => sealer.open(flipped)).to.throw();
    const otherId = Buffer.from(blob);
    otherId[1] ^= 1;
    expect(() => sealer.open(otherId)).to.throw(/unknown key/);
    expect(() => createSealer(KEY_B).open(blob)).to.throw(/unknown key/);
  });

  it('rotates: a new key seals, the previous one still opens what it sealed; the key id names the key', () => {
    const old = createSealer(KEY_A);
    const blob = old.seal(request);
    const rotated = createSealer(KEY_B, [KEY_A]);
    expect(rotated.open(blob)).to.deep.equal(request);
    expect(rotated.keyId).to.not.equal(old.keyId);
    expect(() => old.open(rotated.seal(request))).to.throw(/unknown key/);
  });

  it('business keys become keyed HMACs (stable per key, different per key, never the value)', () => {
    const a = createSealer(KEY_A);
    expect(a.orderKey('HS-1')).to.equal(a.orderKey('HS-1'));
    expect(a.orderKey('HS-1')).to.not.equal(a.orderKey('HS-2'));
    expect(createSealer(KEY_B).orderKey('HS-1')).to.not.equal(a.orderKey('HS-1'));
    expect(a.orderKey('HS-1')).to.not.include('HS-1');
  });

  it('the payload hash covers method, path and body, not the headers', () => {
    expect(payloadHash(request)).to.equal(payloadHash({ ...request, headers: {} }));
    expect(payloadHash(request)).to.not.equal(payloadHash({ ...request, path: '/other' }));
    expect(payloadHash(request)).to.not.equal(payloadHash({ ...request, body: Buffer.from('[]') }));
  });

  it('keys are 32 bytes as hex or base64; a passphrase is refused', () => {
    expect(parseKey('ab'.repeat(32))).to.have.length(32);
    expect(parseKey(KEY_A.toString('base64'))).to.deep.equal(KEY_A);
    expect(parseKey('correct horse battery staple')).to.equal(undefined);
    expect(parseKey('ab'.repeat(16))).to.equal(undefined);
  });
});

describe('delivery acceptance rules (issue 17)', () => {
  const molisa = compileAcceptance({
    accepted: { statuses: ['2xx'], json: [{ path: 'error_code', in: [0, '0'] }] },
    refused: { statuses: [400, 422], json: [{ path: 'error_code', in: [4] }] },
  });
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('MOLISA: 200 with error_code 0 is accepted; 200 with another code is retried, coded without the message', () => {
    expect(molisa(200, body({ error_code: 0 })).judgement).to.equal('accepted');
    expect(molisa(200, body({ error_code: '0' })).judgement).to.equal('accepted');
    const busy = molisa(200, body({ error_code: 5, message: 'Công dân 001099012345 ...' }));
    expect(busy).to.deep.equal({ judgement: 'retry', reason: 'HTTP 200 error_code=5' });
    expect(molisa(200, Buffer.from('not json')).judgement).to.equal('retry');
  });

  it('refusals: a listed status or code is refused for good; 408, 429 and 5xx are retried', () => {
    expect(molisa(200, body({ error_code: 4 })).judgement).to.equal('refused');
    expect(molisa(422, body({})).judgement).to.equal('refused');
    for (const status of [408, 429, 500, 502, 503])
      expect(molisa(status, body({})).judgement, String(status)).to.equal('retry');
  });

  it('a code that looks like an ID number is not written into the reason', () => {
    expect(molisa(200, body({ error_code: 123456789012 })).reason).to.equal('HTTP 200');
  });
});

describe('delivery backoff, circuit, business key (issue 17)', () => {
  const retry = { initialMs: 1000, maxMs: 60000, maxAttempts: 10, maxAgeMs: 86400000 };

  it('full jitter: a uniform draw under min(maxMs, initialMs · 2^(n-1))', () => {
    expect(backoffDelay(retry, 1, () => 0.999)).to.equal(999);
    expect(backoffDelay(retry, 4, () => 0.5)).to.equal(4000);
    expect(backoffDelay(retry, 30, () => 0.999)).to.equal(59940);
    expect(backoffDelay(retry, 3, () => 0)).to.equal(0);
  });

  it('the circuit opens after N failures in a row, lets one probe through after the cool-down, closes on success', () => {
    const c = new Circuit({ failures: 3, coolDownMs: 1000 });
    expect(c.failed(0)).to.equal(false);
    c.succeeded();
    c.failed(0);
    c.failed(1);
    expect(c.failed(2)).to.equal(true);
    expect(c.state(500)).to.equal('open');
    expect(c.allowance(500)).to.equal(0);
    expect(c.allowance(1002)).to.equal(1);
    c.started(1002);
    expect(c.allowance(1003), 'one probe at a time').to.equal(0);
    expect(c.failed(1004), 'a failed probe opens it again').to.equal(true);
    expect(c.state(1500)).to.equal('open');
    c.started(2004);
    c.succeeded();
    expect(c.state(2005)).to.equal('closed');
    expect(c.allowance(2005)).to.equal(Infinity);
  });

  it('the business key of a record list is its records’ distinct keys; none is undefined', () => {
    const key = compileBusinessKey('MaHoSo');
    expect(key([{ MaHoSo: 'B' }, { MaHoSo: 'A' }, { MaHoSo: 'A' }])).to.equal('A\u001eB');
    expect(key({ MaHoSo: ' A ' })).to.equal('A');
    expect(key([{ other: 1 }])).to.equal(undefined);
    expect(compileBusinessKey(['maHoSoMCDT', 'module'])({ maHoSoMCDT: 'X', module: 'KT' })).to.equal('X\u001fKT');
  });
});

describe('delivery business key against the request schema (issue 17)', () => {
  const shipped = (file: string) =>
    JSON.parse(readFileSync(new URL(`../../../schemas/${file}`, import.meta.url), 'utf8')) as unknown;

  it('the shipped keys make sense of the shipped schemas (MOLISA record lists through $ref, the civil-status push)', () => {
    for (const file of ['molisa/DongBoDVC.json', 'molisa/XuLyHoSo.json', 'molisa/FileQuyetDinh.json'])
      expect(keyPathProblem(shipped(file), 'MaHoSo'), file).to.equal(undefined);
    expect(keyPathProblem(shipped('hotich/push.json'), 'maHoSoMCDT')).to.equal(undefined);
  });

  it('a misspelt key, or one naming an object, is a problem that names the field', () => {
    expect(keyPathProblem(shipped('molisa/DongBoDVC.json'), 'MaHS')).to.match(/no field "MaHS"/);
    expect(keyPathProblem({ type: 'object', properties: { a: { type: 'object' } } }, 'a')).to.match(/an object/);
    expect(keyPathProblem({ type: 'object', properties: { a: {} } }, 'b'), 'other fields allowed').to.equal(undefined);
  });
});
