import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { createFileSink, createStreamSink } from '../../../src/observability/audit-writer.ts';
import { until } from '../../helpers/reliability.ts';

/**
 * The audit writer that replaced winston-daily-rotate-file (issue 14.2): daily files by UTC date, gzip of
 * past days, retention, and the failure state with its bounded, ordered buffer.
 */
describe('audit writer', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'lgsp-audit-writer-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one file per UTC day, gzips past days and deletes those older than the retention', async () => {
    writeFileSync(path.join(dir, 'audit-2025-01-01.jsonl'), '{"old":1}\n'); // beyond 30 days: deleted
    writeFileSync(path.join(dir, 'audit-2025-06-30.jsonl'), '{"day":"06-30"}\n'); // yesterday: gzipped
    writeFileSync(path.join(dir, 'notes.txt'), 'not ours'); // left alone
    let now = Date.parse('2025-07-01T23:59:59Z');
    const sink = createFileSink({
      dir,
      filename: 'audit-%DATE%.jsonl',
      retentionDays: 30,
      compress: true,
      bufferBytes: 1 << 20,
      retryMs: 10,
      now: () => now,
    });
    sink.write('{"n":1}\n');
    await sink.flush();
    await until(() => existsSync(path.join(dir, 'audit-2025-06-30.jsonl.gz')), 'yesterday gzipped');
    await until(() => !existsSync(path.join(dir, 'audit-2025-06-30.jsonl')), 'yesterday plain removed');
    now = Date.parse('2025-07-02T00:00:01Z');
    sink.write('{"n":2}\n');
    await sink.flush();
    await until(
      () => !existsSync(path.join(dir, 'audit-2025-07-01.jsonl')),
      'the day before gzipped on the change of day',
    );
    await sink.close();
    expect(readdirSync(dir).sort()).to.deep.equal([
      'audit-2025-06-30.jsonl.gz',
      'audit-2025-07-01.jsonl.gz',
      'audit-2025-07-02.jsonl',
      'notes.txt',
    ]);
    expect(gunzipSync(readFileSync(path.join(dir, 'audit-2025-07-01.jsonl.gz'))).toString()).to.equal('{"n":1}\n');
    expect(gunzipSync(readFileSync(path.join(dir, 'audit-2025-06-30.jsonl.gz'))).toString()).to.equal(
      '{"day":"06-30"}\n',
    );
    expect(readFileSync(path.join(dir, 'audit-2025-07-02.jsonl'), 'utf8')).to.equal('{"n":2}\n');
  });

  it('keeps failed lines in order, retries them, bounds the buffer and counts what it drops', async () => {
    let failuresLeft = 3;
    const written: string[] = [];
    const events: string[] = [];
    // A stream whose write callback fails (as a full disk does) without destroying the stream.
    const flaky = createStreamSink(
      {
        write(chunk: Buffer, cb: (err?: Error | null) => void) {
          if (failuresLeft > 0) {
            failuresLeft--;
            cb(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
          } else {
            written.push(chunk.toString());
            cb();
          }
          return true;
        },
        on() {
          return this;
        },
      } as unknown as NodeJS.WritableStream,
      { bufferBytes: 64, retryMs: 5, now: Date.now },
      {
        onFailure: (e) => events.push(`fail ${e}`),
        onRecovery: (_ms, lost) => events.push(`ok lost=${lost}`),
        onLost: (n) => events.push(`lost ${n}`),
      },
    );
    expect(flaky.write('{"a":1}\n')).to.equal(true);
    await until(() => flaky.health.state === 'failing', 'failing');
    expect(flaky.write('{"b":2}\n')).to.equal(true);
    expect(flaky.write(`{"big":"${'x'.repeat(80)}"}\n`), 'over the 64-byte buffer').to.equal(false);
    expect(flaky.health.lostLines).to.equal(1);
    await until(() => flaky.health.state === 'ok' && flaky.health.pendingBytes === 0, 'recovered');
    expect(written.join('')).to.equal('{"a":1}\n{"b":2}\n');
    expect(events).to.deep.equal(['fail ENOSPC', 'lost 1', 'ok lost=1']);
    await flaky.close();
  });
});
