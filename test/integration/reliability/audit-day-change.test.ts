import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createFileSink } from '../../../src/observability/audit-writer.ts';
import { until } from '../../helpers/reliability.ts';

/**
 * A line cut short by a full disk is finished in the file it started in, even when the UTC day changes
 * before the disk has room again: every audit file holds whole lines only (issue 14.2). Needs a real
 * tmpfs (root); skipped, saying so, where one cannot be mounted.
 */
describe('audit writer: a line cut short by a full disk never spans two daily files', function () {
  this.timeout(30_000);
  let mount: string | undefined;

  before(function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-audit-day-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', dir], { encoding: 'utf8' });
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      console.log('    (skipped: mounting a tmpfs needs root)');
      this.skip();
    }
    mount = dir;
  });
  after(() => {
    if (!mount) return;
    spawnSync('umount', [mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  it('finishes the line in the first day’s file, then writes the next day’s lines to the next file', async () => {
    const dir = path.join(mount!, 'audit');
    const day1 = Date.UTC(2026, 10, 27, 23, 59, 59);
    const day2 = day1 + 2000;
    let now = day1;
    const sink = createFileSink({
      dir,
      filename: 'audit-%DATE%.log',
      retentionDays: 30,
      compress: false,
      bufferBytes: 1 << 20,
      retryMs: 5,
      now: () => now,
    });
    sink.write(`${JSON.stringify({ n: 0 })}\n`);
    await sink.flush();

    // Fill the disk, then free two pages: the next line (20 KB) is written in part, then ENOSPC.
    const filler = path.join(mount!, 'filler');
    const fd = openSync(filler, 'w');
    const block = Buffer.alloc(4096, 0x78);
    try {
      for (let i = 0; i < 64; i++) writeSync(fd, block);
    } catch {
      // full
    } finally {
      closeSync(fd);
    }
    truncateSync(filler, Math.max(0, statSync(filler).size - 8192));
    const long = `${JSON.stringify({ n: 1, pad: 'p'.repeat(20_000) })}\n`;
    sink.write(long);
    await until(() => sink.health.state === 'failing', 'the write failed part-way');
    expect(readFileSync(path.join(dir, 'audit-2026-11-27.log'), 'utf8').length, 'a part was written').to.be.greaterThan(
      20,
    );

    // Midnight passes while the disk is full; then room again, and a line of the new day.
    now = day2;
    sink.write(`${JSON.stringify({ n: 2 })}\n`);
    unlinkSync(filler);
    await until(() => sink.health.state === 'ok' && sink.health.pendingBytes === 0, 'recovered');
    await sink.close();

    const parse = (file: string) =>
      readFileSync(path.join(dir, file), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { n: number }).n);
    expect(parse('audit-2026-11-27.log'), 'day 1: whole lines, the cut one finished').to.deep.equal([0, 1]);
    expect(parse('audit-2026-11-28.log'), 'day 2 starts with a whole line').to.deep.equal([2]);
  });
});
