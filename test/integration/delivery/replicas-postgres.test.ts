import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openPostgresDeliveryStore } from '../../../src/delivery/postgres-store.ts';
import type { Delivery, DeliveryStore } from '../../../src/delivery/store.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type Reply, type TestServer } from '../../helpers/http.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { usePostgres } from '../../helpers/postgres.ts';
import { registerSecret, registerWritten, snapshotDir } from '../../helpers/written-registry.ts';
import { spawnGateway, type GatewayProcess } from '../deploy/processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(root, 'src/cli/main.ts');
const KEY = 'c'.repeat(64);
registerSecret(KEY);
const URL_ENV = 'LGSP_DELIVERY_DATABASE_URL';

/**
 * Issue 17, several replicas on one PostgreSQL queue, at the engine level: whole gateways (the request
 * path, the worker, the `FOR UPDATE SKIP LOCKED` claims) sharing one schema, in front of one national side
 * that each replica reaches through its own listener (one handler, one record: the listener tells which
 * replica sent). The store contract suite proves the claims atomic store by store; this proves the engine
 * uses them so that the replicas share the work, never deliver one push twice, keep the order of a
 * business key across replicas, take over a killed replica's claims once its lease runs out, and store
 * the same push sent to both replicas at once once.
 *
 * Time: the engine's timers are real (setTimeout to the store's due times), so backoff is kept short
 * (retry 100–300 ms) rather than driven by an injected clock; every wait is on an event (an arrival, a
 * child's exit) or a bounded look at the store.
 */
describe('delivery: replicas sharing one PostgreSQL queue (issue 17)', function () {
  this.timeout(30_000);
  const server = usePostgres();
  let schema: string;
  let url: string;
  const gateways: TestGateway[] = [];
  const servers: TestServer[] = [];
  const stores: DeliveryStore[] = [];

  beforeEach(() => {
    schema = `lgsp_replicas_${randomBytes(6).toString('hex')}`;
    url = server().url;
    registerSecret(decodeURIComponent(new URL(url).password));
  });
  afterEach(async () => {
    for (const gw of gateways.splice(0)) await gw.close();
    for (const s of servers.splice(0)) await s.close();
    for (const s of stores.splice(0)) await s.close();
    const admin = server().admin();
    try {
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end();
    }
  });

  /** The national side's record: every request that reached it, by listener (replica), in arrival order. */
  interface Arrival {
    readonly listener: string;
    readonly id: string;
    readonly key: string;
    readonly statusId: number | undefined;
    readonly at: number;
  }

  /**
   * One national side, one listener per replica. `answer` decides per request: an answer now, or 'hold'
   * (the request stays unanswered; `release` answers it later).
   */
  function nationalSide(listeners: string[]) {
    const arrivals: (Arrival & { answered?: number })[] = [];
    const held: { arrival: Arrival; res: ServerResponse }[] = [];
    const side = {
      arrivals,
      held,
      answer: (_a: Arrival): number | 'hold' => 503,
      onArrival: () => {},
      byListener: new Map<string, string>(),
      reply(res: ServerResponse, status: number) {
        if (res.destroyed) return;
        res.setHeader('content-type', 'application/json');
        res.statusCode = status;
        res.end(JSON.stringify({ error_code: status === 200 ? 0 : status, message: status === 200 ? 'ok' : 'down' }));
      },
      async start() {
        for (const name of listeners) {
          const s = await startServer((req: IncomingMessage, res: ServerResponse, body: Buffer) => {
            const [record] = JSON.parse(body.toString('utf8')) as { MaHoSo: string; StatusId?: number }[];
            const arrival: Arrival & { answered?: number } = {
              listener: name,
              id: String(req.headers['x-lgsp-delivery-id']),
              key: record.MaHoSo,
              statusId: record.StatusId,
              at: Date.now(),
            };
            arrivals.push(arrival);
            const verdict = side.answer(arrival);
            if (verdict === 'hold') held.push({ arrival, res });
            else {
              arrival.answered = verdict;
              side.reply(res, verdict);
            }
            side.onArrival();
          });
          servers.push(s);
          side.byListener.set(name, s.url);
        }
        return side;
      },
      /** Accepted (answered 200) arrivals. */
      accepted: () => arrivals.filter((a) => a.answered === 200),
    };
    return side;
  }

  /** Resolves when `check` holds after an arrival at the national side (or at once). */
  const arrived = (side: { onArrival: () => void }, check: () => boolean) =>
    new Promise<void>((resolve) => {
      side.onArrival = () => {
        if (check()) resolve();
      };
      if (check()) resolve();
    });

  function gatewayYaml(o: {
    upstream: string;
    leaseMs: number;
    idleMs: number;
    batch: number;
    responseMs: number;
    audit?: string;
  }) {
    const audit = o.audit ? `audit: { dir: ${o.audit}, hmacKey: "test-audit-hmac-key-0123456789abcdef" }\n` : '';
    return `version: 1
${audit}delivery:
  store: { kind: postgres, url: { env: ${URL_ENV} }, schema: ${schema}, pool: { max: 4 } }
  encryptionKey: "${KEY}"
  worker: { leaseMs: ${o.leaseMs}, idleMs: ${o.idleMs}, batch: ${o.batch} }
  circuit: { failures: 100000, coolDownMs: 100 }
upstreams:
  up:
    url: "${o.upstream}"
    errorDialect: molisa
    timeouts: { connectMs: 200, responseMs: ${o.responseMs} }
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
    delivery:
      mode: queued
      businessKey: MaHoSo
      group: dossier
      retry: { initialMs: 100, maxMs: 300, maxAttempts: 100000 }
`;
  }

  const replica = async (upstream: string, worker: { leaseMs: number; idleMs: number; batch: number }) => {
    const gw = await startGateway(
      { 'gateway.yaml': gatewayYaml({ upstream, responseMs: 1000, ...worker }) },
      { env: { [URL_ENV]: url } },
    );
    gateways.push(gw);
    return gw;
  };
  const push = (base: string, record: Record<string, unknown>) =>
    request(`${base}/up/push`, {
      method: 'POST',
      headers: { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify([record]),
    });
  /** The same store as the replicas, read as an operator would (its own connection). */
  const ledger = async () => {
    const store = await openPostgresDeliveryStore({ url, schema, poolMax: 2 });
    stores.push(store);
    return store;
  };
  /** Bounded look at the store until `check` holds for its rows (each look is one round trip). */
  const rowsWhen = async (store: DeliveryStore, check: (rows: Delivery[]) => boolean, what: string) => {
    for (let i = 0; i < 2000; i++) {
      const rows = await store.list({ limit: 1000 });
      if (check(rows)) return rows;
    }
    throw new Error(`gave up waiting for: ${what}`);
  };
  const trackingId = (reply: Reply) => String(reply.headers['x-lgsp-delivery-id']);

  it('two replicas, a national side down then up: both workers deliver, each push exactly once, order per key kept', async () => {
    const side = await nationalSide(['a', 'b']).start();
    const a = await replica(side.byListener.get('a')!, { leaseMs: 5000, idleMs: 100, batch: 4 });
    const b = await replica(side.byListener.get('b')!, { leaseMs: 5000, idleMs: 100, batch: 4 });

    // Down: every push is stored and answered "accepted for delivery"; the workers of both keep retrying.
    const keys = Array.from({ length: 30 }, (_, i) => `HS-REP-${i}`);
    const replies = await Promise.all(keys.map((key, i) => push((i % 2 ? b : a).url, { MaHoSo: key, StatusId: 1 })));
    // One dossier's status updates, in order, alternating between the replicas.
    const ordered: Reply[] = [];
    for (let s = 1; s <= 4; s++) ordered.push(await push((s % 2 ? a : b).url, { MaHoSo: 'HS-ORD', StatusId: s }));
    for (const reply of [...replies, ...ordered]) {
      expect(reply.status).to.equal(202);
      expect(reply.json().code).to.equal('GW_DELIVERY_ACCEPTED');
    }
    const ids = [...replies, ...ordered].map(trackingId);
    expect(new Set(ids).size).to.equal(34);
    const store = await ledger();
    expect((await store.list({ limit: 1000 })).filter((r) => r.state === 'delivered')).to.have.length(0);
    // Retries have gone on while down (through both replicas).
    await arrived(side, () => new Set(side.arrivals.map((x) => x.listener)).size === 2);

    // Up. The first accepted attempts are held until BOTH replicas have one under way (so they deliver
    // side by side, not one after the other); the barrier gives up if one replica holds every push that
    // can be claimed (31: the 30 keys and the head of HS-ORD), which the assertions below then report.
    let barrier = true;
    side.answer = () => (barrier ? 'hold' : 200);
    const release = () => {
      barrier = false;
      for (const { arrival, res } of side.held.splice(0)) {
        (arrival as { answered?: number }).answered = 200;
        side.reply(res, 200);
      }
    };
    const allIn = arrived(side, () => {
      if (barrier) {
        const from = new Set(side.held.map((h) => h.arrival.listener));
        if (from.size === 2 || side.held.length >= 31) release();
      }
      return new Set(side.accepted().map((x) => x.id)).size === 34;
    });
    await allIn;
    const rows = await rowsWhen(store, (r) => r.every((row) => row.state === 'delivered'), 'the ledger all delivered');
    // Nothing is claimable any more: stopping the replicas ends every attempt under way.
    for (const gw of gateways.splice(0)) await gw.close();

    // Each push reached the national side accepted exactly once, under its tracking id.
    const accepted = side.accepted();
    expect(accepted.map((x) => x.id).sort()).to.deep.equal([...ids].sort());
    // Both replicas' workers delivered (before the barrier gave up, each held one).
    const perReplica = { a: 0, b: 0 } as Record<string, number>;
    for (const x of accepted) perReplica[x.listener] += 1;
    expect(perReplica.a, JSON.stringify(perReplica)).to.be.greaterThan(0);
    expect(perReplica.b, JSON.stringify(perReplica)).to.be.greaterThan(0);
    // Pushes sent through one replica were delivered by the other too: the queue is shared.
    const sentThrough = new Map(keys.map((key, i) => [key, i % 2 ? 'b' : 'a']));
    expect(accepted.some((x) => sentThrough.has(x.key) && sentThrough.get(x.key) !== x.listener)).to.equal(true);

    // Order per key across replicas: no status update was ever sent (even a failing attempt) before the
    // one ahead of it was accepted.
    const hsOrd = side.arrivals.filter((x) => x.key === 'HS-ORD');
    for (let i = 1; i < hsOrd.length; i++) {
      const prev = hsOrd[i - 1];
      const cur = hsOrd[i];
      if (cur.statusId !== prev.statusId) {
        expect(cur.statusId, 'the next status of HS-ORD').to.equal(prev.statusId! + 1);
        expect(prev.answered, `status ${prev.statusId} accepted before ${cur.statusId} was sent`).to.equal(200);
      }
    }
    expect(hsOrd.filter((x) => x.answered === 200).map((x) => x.statusId)).to.deep.equal([1, 2, 3, 4]);

    // The ledger: one row per push, each delivered once (no second claim after delivery).
    expect(rows).to.have.length(34);
    expect(rows.map((r) => r.id).sort()).to.deep.equal([...ids].sort());
    for (const row of rows) {
      expect(row.state, row.id).to.equal('delivered');
      expect(row.leaseOwner, row.id).to.equal(null);
      // Attempts started = attempts the national side saw for that id (no claim lost, none sent twice).
      expect(row.attempts, row.id).to.equal(side.arrivals.filter((x) => x.id === row.id).length);
    }
    expect(await store.counts()).to.include({ delivered: 34, queued: 0, inFlight: 0, dead: 0 });
  });

  it('a replica killed (SIGKILL) with pushes in flight: the other replica takes over its claims after the lease, each delivered once', async function () {
    this.timeout(40_000);
    const side = await nationalSide(['doomed', 'survivor']).start();
    // The national side takes the pushes and never answers: they are in flight when the replica dies.
    side.answer = () => 'hold';
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-replica-kill-'));
    let doomed: GatewayProcess | undefined;
    try {
      const leaseMs = 5000;
      writeFileSync(
        path.join(dir, 'gateway.yaml'),
        gatewayYaml({
          upstream: side.byListener.get('doomed')!,
          leaseMs,
          idleMs: 200,
          batch: 8,
          responseMs: 2200,
          audit: path.join(dir, 'audit'),
        }),
      );
      doomed = await spawnGateway(CLI, { LGSP_CONFIG_DIR: dir, [URL_ENV]: url });
      const doomedLines = doomed.lines;
      registerWritten('stdout of the killed replica', () => JSON.stringify(doomedLines));
      // The other replica runs all along: its worker must leave the claims alone while their lease holds.
      const survivor = await startGateway(
        {
          'gateway.yaml': gatewayYaml({
            upstream: side.byListener.get('survivor')!,
            leaseMs,
            idleMs: 100,
            batch: 8,
            responseMs: 2200,
          }),
        },
        { env: { [URL_ENV]: url } },
      );
      gateways.push(survivor);

      const keys = Array.from({ length: 6 }, (_, i) => `HS-KILL-${i}`);
      const target = doomed.url;
      const calls = keys.map((key) => push(target, { MaHoSo: key, StatusId: 1 }).catch(() => undefined));
      const sentByDoomed = () =>
        new Set(side.held.filter((h) => h.arrival.listener === 'doomed').map((h) => h.arrival.id)).size;
      await arrived(side, () => sentByDoomed() === keys.length);
      // A second status of one dossier waits behind its first (in flight): queued in the killed replica's
      // name, answered at once, never sent by it.
      const next = await push(target, { MaHoSo: keys[0], StatusId: 2 });
      expect(next.status).to.equal(202);
      const nextId = trackingId(next);
      const store = await ledger();
      const claimed = (await store.list({ limit: 100 })).filter((r) => r.id !== nextId);
      expect(claimed).to.have.length(keys.length);
      expect((await store.get(nextId))!.state).to.equal('queued');
      const owners = new Set(claimed.map((r) => r.leaseOwner));
      expect(
        claimed.every((r) => r.state === 'in_flight'),
        'all claimed by the doomed replica',
      ).to.equal(true);
      expect(owners.size).to.equal(1);
      expect(owners.has(survivor.gateway.delivery!.owner), 'the survivor took a claim whose lease held').to.equal(
        false,
      );
      const leaseUntil = new Map(claimed.map((r) => [r.id, r.leaseUntil!]));

      doomed.child.kill('SIGKILL');
      await once(doomed.child, 'exit');
      await Promise.all(calls);
      for (const { res } of side.held.splice(0)) res.socket?.destroy();

      // The national side is back; the survivor claims each push once its lease has run out.
      side.answer = () => 200;
      await arrived(side, () => new Set(side.accepted().map((x) => x.id)).size === keys.length + 1);
      const rows = await rowsWhen(store, (r) => r.every((row) => row.state === 'delivered'), 'all delivered');
      await survivor.close();
      gateways.splice(gateways.indexOf(survivor), 1);

      // Before the kill each push reached the national side once, from the doomed replica only: the
      // survivor never took a claim whose lease held.
      const before = side.arrivals.filter((x) => x.answered === undefined);
      expect(before.map((x) => x.listener)).to.deep.equal(keys.map(() => 'doomed'));
      expect(new Set(before.map((x) => x.id)).size).to.equal(keys.length);
      // After: each delivered by the survivor, once, under its first id, not before the lease ran out.
      const accepted = side.accepted();
      expect(accepted.map((x) => x.id).sort()).to.deep.equal([...leaseUntil.keys(), nextId].sort());
      for (const x of accepted) {
        expect(x.listener).to.equal('survivor');
        if (x.id !== nextId) expect(x.at, `${x.id} taken over after its lease`).to.be.at.least(leaseUntil.get(x.id)!);
      }
      // The queued successor went after its predecessor, and only then.
      const first = side.arrivals.filter((x) => x.key === keys[0]);
      expect(first.map((x) => [x.statusId, x.listener, x.answered ?? null])).to.deep.equal([
        [1, 'doomed', null],
        [1, 'survivor', 200],
        [2, 'survivor', 200],
      ]);
      // The ledger: each delivered once; the claimed ones in two attempts (the dead replica's, the survivor's).
      expect(rows).to.have.length(keys.length + 1);
      for (const row of rows) {
        expect(row.state).to.equal('delivered');
        expect(row.attempts, row.id).to.equal(row.id === nextId ? 1 : 2);
      }
      expect(await store.counts()).to.include({ delivered: keys.length + 1, queued: 0, inFlight: 0, dead: 0 });
    } finally {
      if (doomed && doomed.child.exitCode === null && doomed.child.signalCode === null) await doomed.stop();
      snapshotDir('audit trail of the killed replica', path.join(dir, 'audit'));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the same push sent to both replicas at once is stored once: one delivery, one duplicate answer with its id', async () => {
    const side = await nationalSide(['a', 'b']).start();
    side.answer = () => 200;
    const a = await replica(side.byListener.get('a')!, { leaseMs: 5000, idleMs: 1000, batch: 4 });
    const b = await replica(side.byListener.get('b')!, { leaseMs: 5000, idleMs: 1000, batch: 4 });
    const keys = Array.from({ length: 12 }, (_, i) => `HS-TWICE-${i}`);
    const pairs = await Promise.all(
      keys.map((key) => Promise.all([a, b].map((gw) => push(gw.url, { MaHoSo: key, NoiDung: `nội dung ${key}` })))),
    );
    for (const [i, pair] of pairs.entries()) {
      const what = `${keys[i]}: ${pair.map((r) => `${r.status} ${r.body.toString('utf8')}`).join(' | ')}`;
      const duplicates = pair.filter((r) => r.status === 202 && r.json().code === 'GW_DELIVERY_DUPLICATE');
      const delivered = pair.filter((r) => r.status === 200 && r.json().error_code === 0);
      expect(duplicates, what).to.have.length(1);
      expect(delivered, what).to.have.length(1);
      expect(trackingId(pair[0]), what).to.equal(trackingId(pair[1]));
      expect(duplicates[0].json().trackingId, what).to.equal(trackingId(delivered[0]));
    }
    const store = await ledger();
    const rows = await store.list({ limit: 100 });
    expect(rows).to.have.length(keys.length);
    expect(rows.every((r) => r.state === 'delivered')).to.equal(true);
    expect(side.arrivals.map((x) => x.id).sort()).to.deep.equal(rows.map((r) => r.id).sort());
  });
});
