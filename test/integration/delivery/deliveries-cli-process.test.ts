import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openSqliteDeliveryStore } from '../../../src/delivery/sqlite-store.ts';
import { newDelivery, T0 } from '../../helpers/deliveries.ts';

const CLI = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const CITIZEN = '001099012345';

/** Runs the real CLI as a child process (stdin a pipe: no terminal), resolving with its exit code and output. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('lgsp-gateway deliveries and report reconciliation as child processes on a SQLite store (issue 17)', function () {
  // Each command is a whole Node process loading the sources (seconds on a busy machine): few of them here;
  // the unit tests (test/unit/cli) cover every option and outcome in-process.
  this.timeout(120_000);
  let dir: string;
  const ids: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lgsp-cli-deliveries-'));
    writeFileSync(
      path.join(dir, 'gateway.yaml'),
      'version: 1\ndelivery:\n  store: { kind: sqlite, path: state/deliveries.db }\n  retentionDays: 7\n',
    );
    writeFileSync(path.join(dir, 'routes.yaml'), 'routes: []\n');
    const store = openSqliteDeliveryStore({ path: path.join(dir, 'state/deliveries.db') });
    const sealed = Buffer.from(`{"soDinhDanh":"${CITIZEN}"}`);
    const queued = newDelivery({ orderKey: 'k1', createdAt: T0, sealed });
    await store.enqueue(queued);
    const dead = newDelivery({
      orderKey: 'k2',
      createdAt: T0 + 1,
      sealed,
      upstreamId: 'hotich',
      routeId: 'hotich-push',
    });
    await store.enqueue(dead, { owner: 'w', leaseMs: 1000, now: T0 + 1 });
    await store.bury(dead.id, 'w', { at: T0 + 2, status: 503, error: 'HTTP 503' });
    const delivered = newDelivery({ orderKey: 'k3', createdAt: T0 + 3 });
    await store.record(delivered, { at: T0 + 4, status: 200, error: null, state: 'delivered' });
    await store.close();
    Object.assign(ids, { queued: queued.id, dead: dead.id, delivered: delivered.id });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists and shows from the store the config directory names (--config or LGSP_CONFIG_DIR), never a payload', async () => {
    const list = await cli(['deliveries', 'list'], { LGSP_CONFIG_DIR: dir });
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout.split('\n')[0]).to.match(/^ID\s+STATE\s+ROUTE/);
    for (const id of Object.values(ids)) expect(list.stdout).to.include(id);
    const show = await cli(['deliveries', 'show', ids.dead, '--config', dir]);
    expect(show.stdout).to.match(/lastError:\s+HTTP 503/);
    for (const out of [list, show]) expect(out.stdout + out.stderr).to.not.include(CITIZEN);
  });

  it('retries a dead delivery; refuses a delivered one (exit 4) in one line naming it', async () => {
    const retry = await cli(['deliveries', 'retry', ids.dead, '--config', dir]);
    expect(retry.code, retry.stderr).to.equal(0);
    expect(retry.stdout).to.equal(`${ids.dead}: queued, due now\n`);
    const refused = await cli(['deliveries', 'retry', ids.delivered, '--config', dir]);
    expect(refused.code).to.equal(4);
    expect(refused.stderr).to.equal(
      `deliveries: delivery ${ids.delivered} is delivered: retry takes only queued or dead deliveries\n`,
    );
  });

  it('drop without a terminal needs --yes (exit 5, nothing dropped); with it the payload is erased', async () => {
    const asked = await cli(['deliveries', 'drop', ids.queued, '--config', dir]);
    expect(asked.code).to.equal(5);
    expect(asked.stderr).to.include(`drop ${ids.queued} not confirmed (pass --yes)`);
    const dropped = await cli(['deliveries', 'drop', ids.queued, '--yes', '--json', '--config', dir]);
    expect(dropped.code, dropped.stderr).to.equal(0);
    expect(JSON.parse(dropped.stdout).delivery).to.include({ state: 'dropped', payload: 'erased' });
  });

  it('report reconciliation shows what was never accepted, per upstream and month', async () => {
    const report = await cli(['report', 'reconciliation', '--config', dir, '--format', 'json']);
    expect(report.code, report.stderr).to.equal(0);
    const { lines } = JSON.parse(report.stdout) as { lines: { upstream: string; total: number }[] };
    expect(lines.map((l) => [l.upstream, l.total])).to.deep.equal(
      [
        ['molisa', 1],
        ['hotich', 1],
      ].sort(),
    );
  });

  it('a config directory that does not load exits 1 with one line', async () => {
    const missing = await cli(['deliveries', 'list', '--config', path.join(dir, 'nowhere')]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr.trimEnd().split('\n')).to.have.length(1);
    expect(missing.stderr).to.match(/^deliveries: cannot open the delivery store of /);
  });
});
