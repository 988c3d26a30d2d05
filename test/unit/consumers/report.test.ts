import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runReport } from '../../../src/cli/report.ts';
import { sink } from './helpers.ts';

const rec = (time: string, consumer: string, route: string, status: number, durationMs: number, keys = {}) =>
  JSON.stringify({
    time,
    requestId: `r-${time}`,
    consumer,
    route,
    upstream: 'molisa',
    method: 'POST',
    status,
    durationMs,
    keys,
  });

function auditDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lgsp-report-'));
  writeFileSync(
    join(dir, 'audit-2025-07-01.jsonl'),
    [
      rec('2025-07-01T01:00:00.000Z', 'mcdt', 'molisa-dongbo', 200, 10, { MaHoSo: 'H1', 'CMND#hmac': 'aaa' }),
      rec('2025-07-01T02:00:00.000Z', 'mcdt', 'molisa-dongbo', 400, 20, {
        MaHoSo: ['H1', 'H2'],
        'CMND#hmac': ['aaa', 'bbb'],
      }),
      rec('2025-07-01T03:00:00.000Z', 'portal', 'c06-xacthuc', 502, 30),
      'not json',
    ].join('\n') + '\n',
  );
  // 2025-07-31T18:00Z is already 1 August in Vietnam (+07:00): outside July.
  writeFileSync(
    join(dir, 'audit-2025-07-31.jsonl'),
    [
      rec('2025-07-31T16:00:00.000Z', 'portal', 'c06-xacthuc', 200, 40),
      rec('2025-07-31T18:00:00.000Z', 'portal', 'c06-xacthuc', 200, 50),
    ].join('\n') + '\n',
  );
  writeFileSync(
    join(dir, 'audit-2025-06-30.jsonl.gz'),
    gzipSync(rec('2025-06-30T17:30:00.000Z', 'mcdt', 'molisa-dongbo', 200, 60) + '\n'),
  );
  writeFileSync(
    join(dir, 'audit-2025-09-01.jsonl'),
    rec('2025-09-01T01:00:00.000Z', 'mcdt', 'molisa-dongbo', 200, 1) + '\n',
  );
  writeFileSync(join(dir, '.audit-rotation.json'), '{}');
  return dir;
}

async function run(args: string[]) {
  const stdout = sink();
  const stderr = sink();
  const code = await runReport(args, { stdout, stderr }, {});
  return { code, out: stdout.text(), err: stderr.text() };
}

describe('report command', () => {
  const dir = auditDir();

  it('counts July by consumer as CSV (Vietnam days, gz files read, malformed lines reported)', async () => {
    const { code, out, err } = await run(['--from', '2025-07', '--to', '2025-07', '--dir', dir]);
    expect(code).to.equal(0);
    expect(out.trim().split('\n')).to.deep.equal([
      'consumer,requests,errors,clientErrors,serverErrors,dossiers,subjects,avgDurationMs',
      'mcdt,3,1,1,0,2,2,30',
      'portal,2,1,0,1,0,0,35',
      '(total),5,2,1,1,2,2,32',
    ]);
    expect(err).to.contain('skipped 1 malformed line');
  });

  it('groups by route and by day as JSON', async () => {
    const byRoute = JSON.parse(
      (await run(['--from', '2025-07-01', '--to', '2025-07-31', '--by', 'route', '--format', 'json', '--dir', dir]))
        .out,
    );
    expect(byRoute).to.include({ from: '2025-07-01', to: '2025-07-31', by: 'route', utcOffset: '+07:00' });
    expect(byRoute.rows.map((r: { group: string; requests: number }) => [r.group, r.requests])).to.deep.equal([
      ['c06-xacthuc', 2],
      ['molisa-dongbo', 3],
    ]);
    expect(byRoute.total).to.include({ requests: 5, errors: 2, dossiers: 2, subjects: 2 });

    const byDay = JSON.parse(
      (await run(['--from', '2025-07-01', '--to', '2025-08-01', '--by', 'day', '--format', 'json', '--dir', dir])).out,
    );
    expect(byDay.rows.map((r: { group: string; requests: number }) => [r.group, r.requests])).to.deep.equal([
      ['2025-07-01', 4], // includes 2025-06-30T17:30Z, already 1 July in Vietnam
      ['2025-07-31', 1],
      ['2025-08-01', 1],
    ]);
  });

  it('counts a queued push once: its delivery attempt lines (issue 17) are not calls', async () => {
    const own = mkdtempSync(join(tmpdir(), 'lgsp-report-delivery-'));
    const attempt = (n: number, status: number) =>
      JSON.stringify({
        ...JSON.parse(rec('2025-07-02T01:00:00.000Z', 'mcdt', 'molisa-dongbo', status, 5)),
        requestId: 'trk-1',
        delivery: { attempt: n, outcome: status === 200 ? 'delivered' : 'retry' },
      });
    writeFileSync(
      join(own, 'audit-2025-07-02.jsonl'),
      [rec('2025-07-02T01:00:00.000Z', 'mcdt', 'molisa-dongbo', 202, 9), attempt(1, 503), attempt(2, 200)].join('\n') +
        '\n',
    );
    const { out } = await run(['--from', '2025-07', '--to', '2025-07', '--dir', own, '--format', 'json']);
    expect(JSON.parse(out).total).to.include({ requests: 1, errors: 0 });
  });

  it('uses another UTC offset when asked', async () => {
    const { out } = await run([
      '--from',
      '2025-07',
      '--to',
      '2025-07',
      '--utc-offset',
      '+00:00',
      '--by',
      'month',
      '--dir',
      dir,
    ]);
    expect(out).to.contain('2025-07,5,');
  });

  it('answers usage errors with exit code 2 and a missing directory with 1', async () => {
    expect((await run(['--to', '2025-07', '--dir', dir])).code).to.equal(2);
    expect((await run(['--from', '2025-13', '--to', '2025-07', '--dir', dir])).code).to.equal(2);
    expect((await run(['--from', '2025-08', '--to', '2025-07', '--dir', dir])).code).to.equal(2);
    expect((await run(['--from', '2025-07', '--to', '2025-07', '--by', 'person', '--dir', dir])).code).to.equal(2);
    expect((await run(['--from', '2025-07', '--to', '2025-07', '--format', 'xml', '--dir', dir])).code).to.equal(2);
    expect((await run(['--from', '2025-07', '--to', '2025-07', '--bogus'])).code).to.equal(2);
    expect((await run(['--from', '2025-07', '--to', '2025-07', '--dir', join(dir, 'nope')])).code).to.equal(1);
  });
});
