import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openSqliteDeliveryStore } from '../../../src/delivery/sqlite-store.ts';
import { newDelivery, T0 } from '../../helpers/deliveries.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/delivery/', import.meta.url));

/** A child process running one of the fixtures, its stdout read line by line. */
function runFixture(script: string, args: string[]): { child: ChildProcess; lines: AsyncIterableIterator<string> } {
  const child = spawn(process.execPath, [path.join(fixtures, script), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

async function nextLine(lines: AsyncIterableIterator<string>, what: string): Promise<string> {
  const next = await lines.next();
  if (next.done) throw new Error(`the child ended before ${what}`);
  return next.value;
}

describe('SQLite delivery store: the file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lgsp-dstore-'));
    file = path.join(dir, 'data', 'deliveries.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is created with its directory, readable by the gateway user alone, in WAL mode', async () => {
    const store = openSqliteDeliveryStore({ path: file });
    await store.enqueue(newDelivery());
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(statSync(path.dirname(file)).mode & 0o077).to.equal(0);
    expect(statSync(`${file}-wal`).mode & 0o077).to.equal(0);
    const peek = new DatabaseSync(file);
    expect(peek.prepare('PRAGMA journal_mode').get()).to.deep.equal({ journal_mode: 'wal' });
    peek.close();
    await store.close();
  });

  it('opens an existing file again without migrating it twice, and refuses one from a newer schema', async () => {
    const d = newDelivery();
    const first = openSqliteDeliveryStore({ path: file });
    await first.enqueue(d);
    await first.close();
    const second = openSqliteDeliveryStore({ path: file });
    expect((await second.get(d.id))!.id).to.equal(d.id);
    await second.close();
    const raw = new DatabaseSync(file);
    raw.exec('PRAGMA user_version = 99');
    raw.close();
    expect(() => openSqliteDeliveryStore({ path: file })).to.throw(/newer lgsp-gateway \(schema 99/);
  });

  it('migrates a file of schema 1: the per-state counts start from the rows already there', async () => {
    const first = openSqliteDeliveryStore({ path: file });
    const done = newDelivery({ orderKey: 'k-1' });
    await first.enqueue(done, { owner: 'gw', leaseMs: 1000, now: T0 });
    await first.complete(done.id, 'gw', { at: T0, status: 200, error: null });
    await first.enqueue(newDelivery({ orderKey: 'k-2' }));
    await first.close();
    // As a file written before the counters existed.
    const raw = new DatabaseSync(file);
    raw.exec(`DROP TRIGGER deliveries_counted_insert; DROP TRIGGER deliveries_counted_update;
              DROP TRIGGER deliveries_counted_delete; DROP TABLE delivery_counts; PRAGMA user_version = 1;`);
    raw.close();
    const again = openSqliteDeliveryStore({ path: file });
    try {
      expect(await again.counts()).to.deep.include({ queued: 1, delivered: 1, inFlight: 0 });
      await again.enqueue(newDelivery({ orderKey: 'k-3' }));
      const [claimed] = await again.claimDue(T0, { owner: 'gw', leaseMs: 1000, limit: 1 });
      await again.bury(claimed.id, 'gw', { at: T0, status: 400, error: 'HTTP 400' });
      expect(await again.counts()).to.deep.include({ queued: 1, delivered: 1, inFlight: 0, dead: 1 });
    } finally {
      await again.close();
    }
    const check = new DatabaseSync(file);
    expect(check.prepare('PRAGMA user_version').get()).to.deep.equal({ user_version: 2 });
    check.close();
  });

  it('a closed store refuses calls instead of reopening', async () => {
    const store = openSqliteDeliveryStore({ path: file });
    await store.close();
    await store.close();
    let error: unknown;
    await store.get('x').catch((err) => (error = err));
    expect(String(error)).to.match(/closed/);
  });
});

describe('SQLite delivery store: processes sharing one file', () => {
  let dir: string;
  let file: string;
  const children: ChildProcess[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lgsp-dstore-'));
    file = path.join(dir, 'deliveries.db');
  });
  afterEach(() => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 mid-way loses nothing whose enqueue resolved (and no completion that was reported)', async function () {
    this.timeout(60_000);
    const { child, lines } = runFixture('enqueue-until-killed.ts', [file]);
    children.push(child);
    expect(await nextLine(lines, 'ready')).to.equal('ready');
    const enqueued: string[] = [];
    const delivered: string[] = [];
    // Killed while it writes: after 150 resolved enqueues, with the next one under way.
    while (enqueued.length < 150) {
      const [what, id] = (await nextLine(lines, 'the 150th enqueue')).split(' ');
      (what === 'enqueued' ? enqueued : delivered).push(id);
    }
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    // What it printed between the count and the kill resolved too.
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      const [what, id] = next.value.split(' ');
      (what === 'enqueued' ? enqueued : delivered).push(id);
    }

    const store = openSqliteDeliveryStore({ path: file });
    try {
      for (const id of enqueued) expect(await store.get(id), `${id} lost`).to.not.equal(undefined);
      for (const id of delivered) expect((await store.get(id))!.state, id).to.equal('delivered');
      const sample = (await store.get(enqueued[7]))!;
      expect(sample.sealed).to.deep.equal(Buffer.alloc(512, 7));
      // The claims the killed process held come back once their lease ends.
      const counts = await store.counts();
      expect(counts.inFlight + counts.queued + counts.delivered).to.be.at.least(enqueued.length);
    } finally {
      await store.close();
    }
  });

  it('three processes claiming from one file never claim one delivery twice', async function () {
    this.timeout(90_000);
    const store = openSqliteDeliveryStore({ path: file });
    const made = Array.from({ length: 240 }, (_, i) =>
      newDelivery({ orderKey: i % 4 ? `k-${i}` : null, createdAt: T0 }),
    );
    for (const d of made) await store.enqueue(d);
    await store.close();

    const workers = ['w1', 'w2', 'w3'].map((owner) => runFixture('claim-until-empty.ts', [file, owner]));
    children.push(...workers.map((w) => w.child));
    for (const w of workers) expect(await nextLine(w.lines, 'ready')).to.equal('ready');
    for (const w of workers) w.child.stdin!.write('go\n');
    const claimedBy = await Promise.all(
      workers.map(async (w) => {
        const got: string[] = [];
        for (let line = await nextLine(w.lines, 'done'); line !== 'done'; line = await nextLine(w.lines, 'done'))
          got.push(line.split(' ')[1]);
        return got;
      }),
    );
    const all = claimedBy.flat();
    expect(new Set(all).size, 'a delivery was claimed twice').to.equal(all.length);
    expect(all).to.have.members(made.map((d) => d.id));
    // They really raced: more than one process got work.
    expect(claimedBy.filter((got) => got.length > 0).length).to.be.at.least(2);
  });
});
