import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { ConfigError } from '../../../src/config/config-error.ts';
import { createAuditTrail } from '../../../src/observability/audit.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { createGateway } from '../../../src/app/gateway.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { dialectChecks, dialectNames, until } from '../../helpers/reliability.ts';
import { snapshotDir } from '../../helpers/written-registry.ts';
import { AUDIT_ENTRY, makeConfig } from '../../unit/consumers/helpers.ts';
import { rejection } from '../../helpers/rejection.ts';

/**
 * Issue 14.2 and 20.4: the audit disk fills up, or the audit directory cannot be written. On a real,
 * small tmpfs (mounting needs root: the suite skips these cases, saying so, where it cannot mount one).
 * Nothing may end the process; a citizen-data call is refused in its route's dialect while its trace
 * cannot be kept (`onFailure: refuse`, the default), readiness says so, and the gateway recovers by itself
 * when space comes back, writing the lines it held.
 */
const HMAC = 'test-audit-hmac-key-0123456789abcdef';
const auth = { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' };

/** Mounts a small tmpfs; undefined when this process may not (not root, no mount(8), a container without CAP_SYS_ADMIN). */
function mountTmpfs(options = 'size=64k'): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-audit-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return dir;
  rmSync(dir, { recursive: true, force: true });
  return undefined;
}

function unmount(dir: string | undefined): void {
  if (!dir) return;
  spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
}

/** Fills the file system of `dir` to the last page; returns the filler's path (delete it to free the space). */
function fill(dir: string): string {
  const filler = path.join(dir, 'filler.bin');
  writeFileSync(filler, '');
  const page = Buffer.alloc(4096, 0x41);
  for (let i = 0; i < 1024; i++) {
    try {
      appendFileSync(filler, page);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return filler;
      throw err;
    }
  }
  throw new Error('the tmpfs never filled up');
}

function auditLines(dir: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) if (line) out.push(JSON.parse(line));
  }
  return out;
}

/** Newline-terminated lines in the daily files (a line being written is not counted yet). */
function completeLines(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
    const buf = readFileSync(path.join(dir, name));
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  }
  return n;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function metricsText(gw: TestGateway): Promise<string> {
  return gw.gateway.metrics.registry.metrics();
}

/** Starts a gateway on `configDir`, expecting it to refuse with a ConfigError. */
const refusedStart = (configDir: string) =>
  rejection(ConfigError, createGateway({ configDir, env: {}, logger: createLogger({ silent: true }), watch: false }));

describe('reliability: audit disk full', function () {
  this.timeout(20_000);
  let upstream: TestServer;
  let tmpfs: string | undefined;
  let filler: string | undefined;
  let gw: TestGateway | undefined;

  const files = (auditYaml: string) => ({
    'gateway.yaml': 'version: 1\n',
    'audit.yaml': auditYaml,
    'upstreams.yaml':
      'upstreams:\n' +
      dialectNames.map((d, i) => `  up${i}: { url: "${upstream.url}", errorDialect: "${d}" }\n`).join('') +
      `consumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
    'routes.yaml':
      'routes:\n' +
      dialectNames
        .map(
          (_d, i) =>
            `  - { id: r${i}, methods: [POST], path: /r${i}/*, upstream: up${i}, consumers: [mcdt], request: { mapping: [{ op: drop, fields: [unused] }] } }\n`,
        )
        .join(''),
  });

  before(async function () {
    // Larger than everything a test here writes (40 lines of 2.8 KB, 112 KB): when the filler goes, the disk
    // that comes back must hold the held lines AND the lines of calls recorded after the recovery. A
    // 64 KiB disk, the writer's 64 KiB buffer, was full again after writing out a full buffer: a late
    // line then waited, pending and failing (ENOSPC), and the test gave up, though nothing was lost.
    tmpfs = mountTmpfs('size=256k');
    if (!tmpfs) this.skip(); // stated in the describe's doc: mounting a tmpfs needs root
    upstream = await startServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"error_code":0,"message":"ok"}');
    });
  });
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
    if (tmpfs) {
      // What the writer left on the disk goes through the suite's leak scan, side files included.
      snapshotDir(`audit tmpfs ${tmpfs}`, path.join(tmpfs, 'audit'));
      for (const name of readdirSync(tmpfs)) rmSync(path.join(tmpfs, name), { recursive: true, force: true });
    }
    filler = undefined;
  });
  after(async () => {
    await upstream?.close();
    unmount(tmpfs);
  });

  it('starts on a full disk, refuses calls in every dialect, says not ready, and recovers by itself with no line lost', async () => {
    const auditDir = path.join(tmpfs!, 'audit');
    mkdirSync(auditDir);
    filler = fill(tmpfs!);
    // The crash loop of the issue: a replica restarted on a still-full disk. It must start and listen.
    gw = await startGateway(files(`audit:\n  dir: ${auditDir}\n  hmacKey: "${HMAC}"\n  retryMs: 50\n`));
    const first = await request(`${gw.url}/r0/x`, { method: 'POST', headers: auth, body: '{"MaHoSo":"H52-0001"}' });
    expect(first.status).to.equal(200); // nothing is known to be wrong before the first write fails
    await until(() => gw!.gateway.audit.health.state === 'failing', 'the audit writer reports the failure');
    expect(gw.gateway.audit.health.error).to.equal('ENOSPC');

    const upstreamBefore = upstream.requests.length;
    const refusedIds: string[] = [];
    for (const [i, dialect] of dialectNames.entries()) {
      const res = await request(`${gw.url}/r${i}/x`, { method: 'POST', headers: auth, body: '{"MaHoSo":"H52-0002"}' });
      expect(res.status, `${dialect}: ${res.body.toString()}`).to.equal(503);
      const body = res.json();
      expect(JSON.stringify(body)).to.contain('GW_AUDIT_UNAVAILABLE');
      dialectChecks[dialect]!(body, 503, 'ENOSPC');
      expect(res.headers['retry-after']).to.equal('1');
      refusedIds.push(String(res.headers['x-request-id']));
    }
    expect(upstream.requests.length, 'nothing reached the upstream while refusing').to.equal(upstreamBefore);

    const ready = await request(`${gw.url}/readyz`);
    expect(ready.status).to.equal(503);
    expect(ready.json()).to.include({ status: 'not-ready', audit: 'failing' });
    const failure = gw.logs.find((l) => String(l.message).startsWith('audit trail cannot be written'));
    expect(failure, 'an error line names the failure').to.include({ level: 'error', error: 'ENOSPC' });
    let text = await metricsText(gw);
    expect(metric(text, 'lgsp_audit_up')).to.equal(0);
    expect(metric(text, 'lgsp_audit_write_failures_total')).to.equal(1);
    expect(metric(text, 'lgsp_audit_refused_total')).to.be.greaterThan(0);

    unlinkSync(filler!); // space comes back
    await until(() => gw!.gateway.audit.health.state === 'ok', 'the retry writes the held lines');
    const after = await request(`${gw.url}/r1/x`, { method: 'POST', headers: auth, body: '{"MaHoSo":"H52-0003"}' });
    expect(after.status).to.equal(200);
    expect((await request(`${gw.url}/readyz`)).status).to.equal(200);
    text = await metricsText(gw);
    expect(metric(text, 'lgsp_audit_up')).to.equal(1);
    expect(metric(text, 'lgsp_audit_lines_lost_total')).to.equal(0);
    expect(gw.logs.some((l) => l.message === 'audit trail writable again')).to.equal(true);

    const ids = [String(first.headers['x-request-id']), ...refusedIds, String(after.headers['x-request-id'])];
    await until(() => auditLines(auditDir).length === ids.length, 'every line is on disk');
    const lines = auditLines(auditDir);
    expect(lines.map((l) => l.requestId)).to.deep.equal(ids);
    expect(lines[0]).to.deep.include({ status: 200, keys: { MaHoSo: 'H52-0001' } });
    expect(lines.slice(1, -1).map((l) => l.status)).to.deep.equal(dialectNames.map(() => 503));
    expect(
      readdirSync(auditDir).filter((f) => f.startsWith('.')),
      'no side file',
    ).to.deep.equal([]);
  });

  it('onFailure: continue serves calls unaudited, stays ready, and bounds what it holds (lost lines counted, the warning collapsed)', async () => {
    const auditDir = path.join(tmpfs!, 'audit');
    mkdirSync(auditDir);
    gw = await startGateway(
      files(
        `audit:\n  dir: ${auditDir}\n  hmacKey: "${HMAC}"\n  retryMs: 50\n  onFailure: continue\n  bufferBytes: 65536\n`,
      ),
    );
    filler = fill(tmpfs!);
    // Each call's audit line carries 100 dossier codes (the extractor's cap): about 2.7 KB.
    const body = JSON.stringify(
      Array.from({ length: 100 }, (_, j) => ({ MaHoSo: `H52.21-250701-${String(j).padStart(4, '0')}-xxxx` })),
    );
    const calls = 40;
    const started = Date.now();
    for (let i = 0; i < calls; i++) {
      const res = await request(`${gw.url}/r2/x`, { method: 'POST', headers: auth, body });
      expect(res.status).to.equal(200);
      if (i === 0) await until(() => gw!.gateway.audit.health.state === 'failing', 'the failure is known');
    }
    const ready = await request(`${gw.url}/readyz`);
    expect(ready.status, 'continue: still ready').to.equal(200);
    expect(ready.json()).to.include({ audit: 'failing' });
    await until(() => gw!.gateway.audit.health.lostLines > 0, 'lines beyond the buffer are dropped');
    expect(gw.gateway.audit.health.pendingBytes).to.be.at.most(65536);
    // Collapsed: one line for the many dropped batches, and at most one more per 10 s interval (a loaded
    // machine may take that long over the calls); not one line per batch.
    const collapsedLines = 1 + Math.floor((Date.now() - started) / 10_000);
    expect(gw.logs.filter((l) => l.message === 'audit lines lost: the audit buffer is full')).to.have.length.within(
      1,
      collapsedLines,
    );

    unlinkSync(filler!);
    await until(() => gw!.gateway.audit.health.state === 'ok', 'recovered');
    await until(() => gw!.gateway.audit.health.pendingBytes === 0, 'buffer written out');
    // The last calls' lines can still wait in the 20 ms batch (or for their response's 'close') once the
    // writer's buffer is empty: wait until every call is accounted for, written whole or counted as lost.
    // A line neither written nor counted never gets there, and fails here.
    const health = () => gw!.gateway.audit.health;
    const accounted = () => health().pendingBytes === 0 && completeLines(auditDir) + health().lostLines === calls;
    await until(accounted, 'every call written or counted as lost').catch((err: Error) => {
      // Which of: a line lost uncounted (sum short, nothing pending), counted twice (sum over), or still held.
      const { state, error, pendingBytes, lostLines } = health();
      const detail = JSON.stringify({ completeLines: completeLines(auditDir), lostLines, pendingBytes, state, error });
      throw new Error(`${err.message}: ${detail}`);
    });
    const lost = gw.gateway.audit.health.lostLines;
    const written = auditLines(auditDir); // every line on disk is whole JSON (a partial one would not parse)
    expect(written.length + lost).to.equal(calls);
    expect(metric(await metricsText(gw), 'lgsp_audit_lines_lost_total')).to.equal(lost);
    // The collapsed warning gives the count of the occurrences it held back when the outage ends.
    const lostLogs = gw.logs.filter((l) => l.message === 'audit lines lost: the audit buffer is full');
    expect(lostLogs.length).to.be.at.most(collapsedLines + 1);
  });

  it('refuses to start when the audit directory is on a read-only file system, naming it (issue 20.4)', async () => {
    const ro = mountTmpfs('size=64k,ro');
    try {
      const configDir = mkdtempSync(path.join(tmpdir(), 'lgsp-gw-'));
      writeFileSync(path.join(configDir, 'gateway.yaml'), `version: 1\naudit:\n  dir: ${ro}\n  hmacKey: "${HMAC}"\n`);
      const err = await refusedStart(configDir);
      rmSync(configDir, { recursive: true, force: true });
      expect(err.message).to.contain('audit.dir').and.contain(ro!).and.contain('EROFS');
    } finally {
      unmount(ro);
    }
  });
});

describe('reliability: audit and log writes that fail never end the process', () => {
  it('an unwritable audit directory (a file in the way) is a config error naming it, before listening (issue 20.4)', async () => {
    const configDir = mkdtempSync(path.join(tmpdir(), 'lgsp-gw-'));
    try {
      writeFileSync(path.join(configDir, 'not-a-dir'), 'x');
      const dir = path.join(configDir, 'not-a-dir', 'audit');
      writeFileSync(path.join(configDir, 'gateway.yaml'), `version: 1\naudit:\n  dir: ${dir}\n  hmacKey: "${HMAC}"\n`);
      const err = await refusedStart(configDir);
      expect(err.issues[0]).to.include({ path: 'audit.dir', rule: 'writable' });
      expect(err.message).to.contain(dir).and.contain('ENOTDIR');
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  });

  it('audit on stdout closed by the collector (EPIPE): failing, calls refused, no crash; the log stream failing too', async () => {
    const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const stdout = new Writable({ write: (_c, _e, cb) => cb(epipe()) });
    const logStream = new Writable({ write: (_c, _e, cb) => cb(epipe()) });
    const logger = createLogger({ stream: logStream });
    const trail = createAuditTrail(
      makeConfig({ audit: { enabled: true, output: 'stdout', hmacKey: HMAC, retryMs: 20 } }),
      {
        logger,
        stdout,
      },
    );
    trail.record(AUDIT_ENTRY);
    await until(() => trail.health.state === 'failing', 'the EPIPE is seen');
    expect(trail.health.error).to.equal('EPIPE');
    expect(trail.ready).to.equal(false);
    expect(() => trail.admit({ id: 'x' }))
      .to.throw(GatewayError)
      .with.property('code', 'GW_AUDIT_UNAVAILABLE');
    expect(
      () => trail.admit({ id: 'x', audit: { onFailure: 'continue' } }),
      'a route may choose to go on',
    ).to.not.throw();
    logger.error('still alive', { n: 1 });
    await trail.close();
    // One more turn: any unhandled 'error' would have been thrown by now (mocha reports it as this test's failure).
    await new Promise((r) => setImmediate(r));
  });
});
