import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { auditTime, createAuditTrail, extractAuditKeys, hashSubject } from '../../../src/observability/audit.ts';
import { makeConfig, memoryLogger, sink } from './helpers.ts';

const hmacKey = Buffer.from('k'.repeat(40));
const ID1 = '001099012345';
const ID2 = '079204000111';
const CMND9 = '123456789';

/** DongBoDVC body as MOLISA receives it (seed 004 §IV.3): an array of records. */
const molisaBody = [
  { MaHoSo: 'H52.21-250701-0001', HoVaTen: 'Nguyễn Văn A', CMND: ID1, SoDienThoai: '0912345678' },
  { MaHoSo: 'H52.21-250701-0002', HoVaTen: 'Trần Thị B', CMND: ID2 },
];

describe('audit keys', () => {
  it('keeps dossier codes and replaces personal IDs by their HMAC, from array bodies', () => {
    const keys = extractAuditKeys(molisaBody, { hmacKey });
    expect(keys).to.deep.equal({
      MaHoSo: ['H52.21-250701-0001', 'H52.21-250701-0002'],
      'CMND#hmac': [hashSubject(ID1, hmacKey), hashSubject(ID2, hmacKey)],
    });
    expect(JSON.stringify(keys)).to.not.contain(ID1);
    expect(JSON.stringify(keys)).to.not.contain('Nguyễn');
  });

  it('finds keys in nested objects, arrays of codes and JSON carried as a string', () => {
    const civilStatus = {
      module: 'LTKT',
      maHoSoMCDT: 'G01.52-250701-0003',
      data: JSON.stringify({ nguoiKhai: { soDinhDanh: ID1 }, nguoiChet: { SoDinhDanh: ID2 } }),
    };
    expect(extractAuditKeys(civilStatus, { hmacKey })).to.deep.equal({
      maHoSoMCDT: 'G01.52-250701-0003',
      'soDinhDanh#hmac': [hashSubject(ID1, hmacKey), hashSubject(ID2, hmacKey)],
    });
    const query = { maDinhDanhHoSo: ['H08.37.80-240705-0015', 'H08.37.80-240705-0016'], maTinh: '52', module: 'LTKT' };
    expect(extractAuditKeys(query, { hmacKey })).to.deep.equal({
      maDinhDanhHoSo: ['H08.37.80-240705-0015', 'H08.37.80-240705-0016'],
    });
    const vneid = { responseCode: '0', data: { soDinhDanh: ID1, hoVaTen: 'X' } };
    expect(extractAuditKeys(vneid, { hmacKey })).to.deep.equal({ 'soDinhDanh#hmac': hashSubject(ID1, hmacKey) });
  });

  it('depends on the key: another key gives other hashes; numbers hash like strings', () => {
    const other = extractAuditKeys({ CMND: ID1 }, { hmacKey: Buffer.from('z'.repeat(40)) });
    expect(other['CMND#hmac']).to.not.equal(hashSubject(ID1, hmacKey));
    expect(extractAuditKeys({ CMND: 123456789 }, { hmacKey })['CMND#hmac']).to.equal(hashSubject(CMND9, hmacKey));
  });

  it('records a number carried as its source text (beyond a double) by that exact text', () => {
    const raw = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON('12345678901234567890123');
    const keys = extractAuditKeys({ MaHoSo: raw, CMND: [raw] }, { hmacKey });
    expect(keys).to.deep.equal({
      'MaHoSo#hmac': hashSubject('12345678901234567890123', hmacKey),
      'CMND#hmac': hashSubject('12345678901234567890123', hmacKey),
    });
  });

  it('ignores bodies without keys (SOAP strings, null, numbers)', () => {
    for (const body of ['<soap:Envelope/>', null, 42, undefined, {}])
      expect(extractAuditKeys(body, { hmacKey })).to.deep.equal({});
  });

  it('honours configured field lists', () => {
    const keys = extractAuditKeys(
      { MaHoSo: 'X', maYeuCau: 'REQ-1', soCMND: CMND9 },
      {
        hmacKey,
        dossierFields: ['maYeuCau'],
        subjectFields: ['soCMND'],
      },
    );
    expect(keys).to.deep.equal({ maYeuCau: 'REQ-1', 'soCMND#hmac': hashSubject(CMND9, hmacKey) });
  });
});

describe('audit line time (auditTime)', () => {
  it('is new Date(now).toISOString(), for whole and fractional milliseconds, across seconds, years and signs', () => {
    const edges = [
      0,
      -0,
      0.5,
      -0.5,
      999.999,
      -999.999,
      1000.4,
      -1000.4,
      1.7e12 + 0.25,
      8.64e15,
      -8.64e15,
      8.64e15 + 0.5,
    ];
    for (const t of edges) expect(auditTime(t), String(t)).to.equal(new Date(t).toISOString());
    fc.assert(
      fc.property(fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }), (t) => {
        expect(auditTime(t)).to.equal(new Date(t).toISOString());
      }),
      { numRuns: 3000 },
    );
  });

  it('throws the RangeError Date throws for a time it cannot hold (a broken clock is not written as a date)', () => {
    for (const t of [NaN, Infinity, -Infinity, 8.64e15 + 1, -8.64e15 - 1, Number.MAX_VALUE]) {
      expect(() => new Date(t).toISOString(), String(t)).to.throw(RangeError);
      expect(() => auditTime(t), String(t)).to.throw(RangeError);
    }
  });
});

describe('audit trail', () => {
  const entry = (i: number, keys: Record<string, string | string[]>) => ({
    time: new Date(Date.UTC(2025, 6, 1, 2, 0, i)).toISOString(),
    requestId: `req-${i}`,
    consumer: 'mcdt',
    route: 'molisa-dongbo',
    upstream: 'molisa',
    method: 'POST',
    status: 200,
    durationMs: 12,
    keys,
  });

  it('refuses to start without an HMAC key, or with a short one', () => {
    expect(() => createAuditTrail(makeConfig({ audit: { enabled: true } }), { logger: memoryLogger() })).to.throw(
      ConfigPathError,
    );
    expect(() =>
      createAuditTrail(makeConfig({ audit: { enabled: true, hmacKey: 'short' } }), { logger: memoryLogger() }),
    ).to.throw(ConfigPathError);
  });

  it('writes JSON lines to daily files with hashes, and no 12- or 9-digit ID in clear anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lgsp-audit-'));
    const config = makeConfig({ audit: { enabled: true, output: 'file', dir, hmacKey: { env: 'AUDIT_KEY' } } });
    const trail = createAuditTrail(config, { logger: memoryLogger(), env: { AUDIT_KEY: hmacKey.toString() } });
    const keys = trail.extractKeys(molisaBody, { audit: {} });
    trail.record(entry(1, keys));
    trail.record(entry(2, trail.extractKeys({ data: { soDinhDanh: ID2 }, CMND: CMND9 })));
    trail.record(entry(3, trail.extractKeys(molisaBody, { audit: { keys: false } })));
    await trail.close();

    const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    expect(files).to.have.length(1);
    expect(files[0]).to.match(/^audit-\d{4}-\d{2}-\d{2}\.jsonl$/);
    // "grep" every audit file of the directory for an ID number in clear.
    const text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    expect(text).to.contain('H52.21-250701-0001');
    expect(text).to.not.match(/(?<!\d)\d{12}(?!\d)/);
    expect(text).to.not.match(/(?<![\d])\d{9}(?![\d])/);
    const lines = readFileSync(join(dir, files[0]), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).to.have.length(3);
    expect(lines[0]).to.deep.equal(entry(1, keys));
    expect(lines[0].keys['CMND#hmac'][0]).to.equal(hashSubject(ID1, hmacKey));
    expect(lines[1].keys['CMND#hmac']).to.equal(hashSubject(CMND9, hmacKey));
    expect(lines[2].keys).to.deep.equal({});
    // An officer whose account code holds an ID number: the trail's own HMAC, as hashSubject computes it.
    expect(trail.officerEntry(` cb-${ID1} `)).to.deep.equal({ 'officer#hmac': hashSubject(`cb-${ID1}`, hmacKey) });
    expect(trail.officerEntry(`cán bộ ${ID1}`)).to.deep.equal({
      'officer#hmac': hashSubject(`cán bộ ${ID1}`, hmacKey),
    });
    expect(trail.officerEntry('cb-0077')).to.deep.equal({ officer: 'cb-0077' });
  });

  it('writes to stdout for containers, and does nothing when disabled', async () => {
    const out = sink();
    const trail = createAuditTrail(
      makeConfig({ audit: { enabled: true, output: 'stdout', hmacKey: 'x'.repeat(32) } }),
      {
        logger: memoryLogger(),
        stdout: out,
      },
    );
    trail.record(entry(1, {}));
    await trail.close();
    expect(JSON.parse(out.text().trim())).to.deep.equal(entry(1, {}));
    const off = createAuditTrail(makeConfig({ audit: { enabled: false } }), { logger: memoryLogger() });
    off.record(entry(1, {}));
    expect(off.extractKeys(molisaBody)).to.deep.equal({});
    await off.close();
  });
});
