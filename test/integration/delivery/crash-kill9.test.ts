import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openSqliteDeliveryStore } from '../../../src/delivery/sqlite-store.ts';
import type { Delivery } from '../../../src/delivery/store.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { registerWritten, snapshotDir } from '../../helpers/written-registry.ts';
import { spawnGateway, type GatewayProcess } from '../deploy/processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(root, 'src/cli/main.ts');
const KEY = 'b'.repeat(64);

/**
 * Issue 17, crash safety, with real processes: the gateway (`lgsp-gateway start`, a SQLite store) queues
 * pushes while the national side is down; the side then takes them and never answers, so they are in
 * flight; the gateway is killed with SIGKILL (no drain, no flush). A new process on the same store, the
 * side back up: every push arrives at least once, under one delivery id each (`X-LGSP-Delivery-Id`, so
 * the side deduplicates the pushes the dead process had already sent), and the ledger shows each
 * delivered exactly once.
 */
describe('delivery survives kill -9 (issue 17)', function () {
  this.timeout(60000);
  let dir: string;
  let upstream: TestServer;
  let mode: 'down' | 'hang' | 'up' = 'down';
  const hung = new Set<ServerResponse>();
  /** Delivery ids the side took and never answered before the kill. */
  const hungIds = new Set<string>();
  /** What the national side took (in mode up): delivery id → business key, in arrival order. */
  const arrivals: { deliveryId: string; key: string }[] = [];
  let onArrival = () => {};
  let onHung = () => {};
  const processes: GatewayProcess[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lgsp-kill9-'));
    upstream = await startServer((req: IncomingMessage, res: ServerResponse, body: Buffer) => {
      if (mode === 'down') return void req.socket.destroy();
      if (mode === 'hang') {
        hung.add(res);
        hungIds.add(String(req.headers['x-lgsp-delivery-id']));
        onHung();
        return;
      }
      const [record] = JSON.parse(body.toString('utf8')) as { MaHoSo: string }[];
      arrivals.push({ deliveryId: String(req.headers['x-lgsp-delivery-id']), key: record.MaHoSo });
      onArrival();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error_code: 0 }));
    });
    writeFileSync(
      path.join(dir, 'gateway.yaml'),
      `version: 1
audit: { dir: ${dir}/audit, hmacKey: "test-audit-hmac-key-0123456789abcdef" }
delivery:
  store: { kind: sqlite, path: ${dir}/deliveries.db }
  encryptionKey: "${KEY}"
  worker: { leaseMs: 3000, idleMs: 200 }
  circuit: { failures: 1000, coolDownMs: 100 }
upstreams:
  up:
    url: "${upstream.url}"
    errorDialect: molisa
    timeouts: { connectMs: 200, responseMs: 1000 }
    delivery: { accepted: { statuses: [2xx], json: [{ path: error_code, in: [0] }] } }
consumers:
  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
routes:
  - id: push
    methods: [POST]
    path: /up/push
    upstream: up
    consumers: [mcdt]
    request: { mapping: [{ op: drop, fields: [unused] }] }
    delivery: { mode: queued, businessKey: MaHoSo, retry: { initialMs: 50, maxMs: 100, maxAttempts: 1000 } }
`,
    );
  });
  after(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop();
    for (const res of hung) res.socket?.destroy();
    await upstream.close();
    snapshotDir('audit trail of the kill -9 gateways', path.join(dir, 'audit'));
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => {
    const gw = await spawnGateway(CLI, { LGSP_CONFIG_DIR: dir });
    registerWritten(`stdout of kill -9 gateway ${processes.length}`, () => JSON.stringify(gw.lines));
    processes.push(gw);
    return gw;
  };
  const push = (gw: GatewayProcess, key: string) =>
    request(`${gw.url}/up/push`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify([{ MaHoSo: key, NoiDung: `push ${key}` }]),
    });

  it('queued and in-flight pushes are delivered after a SIGKILL and a restart: at least once, one id each, delivered once in the ledger', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `HS-K9-${i}`);
    const first = await start();
    // The side is down: every push is stored and answered "accepted for delivery".
    for (const key of keys.slice(0, 5)) {
      const reply = await push(first, key);
      expect(reply.status).to.equal(202);
    }
    // The side takes connections and never answers: the worker's retries and new pushes' first attempts
    // hang, in flight, when the process dies.
    // Awaited as an event (the side saw all of them), not polled for 4 s: on a loaded machine the
    // worker's retries of the first five can take longer to come round. The test's timeout bounds it.
    const allHung = new Promise<void>((resolve) => {
      onHung = () => {
        if (hungIds.size === keys.length) resolve();
      };
    });
    mode = 'hang';
    const late = keys.slice(5).map((key) => push(first, key).catch(() => undefined));
    await allHung;
    expect(hungIds.size, 'every push sent to the national side, unanswered').to.equal(keys.length);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    await Promise.all(late);
    for (const res of hung) res.socket?.destroy();
    hung.clear();

    // The side comes back; a new process on the same store takes over once the dead one's leases expire.
    mode = 'up';
    const all = new Promise<void>((resolve) => {
      onArrival = () => {
        if (new Set(arrivals.map((a) => a.key)).size === keys.length) resolve();
      };
    });
    const second = await start();
    await all;
    expect(await second.stop()).to.equal(0);

    // At least once, each under ONE delivery id: what the dead process sent is deduplicable by the side.
    const idsByKey = new Map<string, Set<string>>();
    for (const a of arrivals) idsByKey.set(a.key, (idsByKey.get(a.key) ?? new Set()).add(a.deliveryId));
    expect([...idsByKey.keys()].sort()).to.deep.equal([...keys].sort());
    for (const [key, ids] of idsByKey) expect(ids.size, key).to.equal(1);
    // The pushes the dead process had sent (in flight) came again under the same ids.
    expect(hungIds.size).to.equal(keys.length);
    expect(new Set(arrivals.map((a) => a.deliveryId))).to.deep.equal(hungIds);

    // The ledger: one row per push, each delivered exactly once.
    const store = openSqliteDeliveryStore({ path: path.join(dir, 'deliveries.db') });
    try {
      const rows: Delivery[] = await store.list({ limit: 100 });
      expect(rows).to.have.length(keys.length);
      for (const row of rows) expect(row.state, row.id).to.equal('delivered');
      expect(new Set(rows.map((r) => r.id))).to.deep.equal(new Set([...idsByKey.values()].map((ids) => [...ids][0])));
      const counts = await store.counts();
      expect(counts).to.include({ delivered: keys.length, queued: 0, inFlight: 0, dead: 0 });
    } finally {
      await store.close();
    }
  });
});
