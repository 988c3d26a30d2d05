import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, ConfigPathError } from '../../../src/config/config-error.ts';
import type { DeliveryStoreConfig } from '../../../src/config/delivery-store-schema.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { startOnlyChanges } from '../../../src/config/start-only.ts';
import { describeDeliveryStore, openDeliveryStore } from '../../../src/delivery/open-store.ts';
import { freePort } from '../../helpers/http.ts';
import { newDelivery } from '../../helpers/deliveries.ts';
import { usePostgres } from '../../helpers/postgres.ts';

/** `delivery.store` as the loader validates it (defaults filled in) from a YAML fragment of gateway.yaml. */
function loadStore(dir: string, yaml: string): DeliveryStoreConfig {
  writeFileSync(path.join(dir, 'gateway.yaml'), `version: 1\naudit: { enabled: false }\n${yaml}`);
  return loadConfig(dir).config.delivery.store;
}

function loadError(dir: string, yaml: string): string {
  try {
    loadStore(dir, yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('loaded');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('resolved');
}

describe('delivery.store: config and openDeliveryStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lgsp-dstore-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to SQLite at data/deliveries.db of the config directory: npm start needs nothing', async () => {
    const store = loadStore(dir, '');
    expect(store).to.deep.include({ kind: 'sqlite', path: 'data/deliveries.db', busyTimeoutMs: 5000 });
    const opened = await openDeliveryStore(store, { configDir: dir });
    try {
      expect(opened.kind).to.equal('sqlite');
      await opened.enqueue(newDelivery());
      expect(existsSync(path.join(dir, 'data', 'deliveries.db'))).to.equal(true);
    } finally {
      await opened.close();
    }
    expect(describeDeliveryStore(store, { configDir: dir })).to.equal(`sqlite ${path.join(dir, 'data/deliveries.db')}`);
  });

  it('reads postgres settings with their defaults; a URL is required, a schema must be a plain name', () => {
    const store = loadStore(dir, 'delivery:\n  store: { kind: postgres, url: { env: LGSP_DELIVERY_DATABASE_URL } }\n');
    expect(store).to.deep.include({
      kind: 'postgres',
      schema: 'lgsp_delivery',
      pool: { max: 10, connectTimeoutMs: 10000 },
    });
    expect(loadError(dir, 'delivery:\n  store: { kind: postgres }\n')).to.match(/delivery\.store/);
    expect(
      loadError(dir, "delivery:\n  store: { kind: postgres, url: x, schema: 'a\"; DROP SCHEMA public; --' }\n"),
    ).to.match(/delivery\.store\.schema/);
    expect(loadError(dir, 'delivery:\n  store: { kind: mysql }\n')).to.match(/delivery\.store\.kind/);
    expect(loadError(dir, 'delivery:\n  store: { kind: sqlite, file: x.db }\n')).to.match(/delivery\.store/);
  });

  it('names a missing URL secret by its variable, never opening anything', async () => {
    const store = loadStore(dir, 'delivery:\n  store: { kind: postgres, url: { env: LGSP_DELIVERY_DATABASE_URL } }\n');
    const err = await rejection(openDeliveryStore(store, { configDir: dir, env: {} }));
    expect(err).to.be.instanceOf(ConfigPathError);
    expect(err.message).to.include('LGSP_DELIVERY_DATABASE_URL');
    expect(describeDeliveryStore(store, { configDir: dir, env: {} })).to.equal(
      'postgres (URL not set) (schema lgsp_delivery)',
    );
  });

  it('a database that cannot be reached: an error naming host and port, never the user or password', async function () {
    this.timeout(30_000);
    const port = await freePort(); // nothing listens there
    const url = `postgres://lgsp-user:S3cret-Pa55word@127.0.0.1:${port}/lgsp`;
    const store = loadStore(
      dir,
      'delivery:\n  store: { kind: postgres, url: { env: DB_URL }, pool: { connectTimeoutMs: 2000 } }\n',
    );
    const err = await rejection(openDeliveryStore(store, { configDir: dir, env: { DB_URL: url } }));
    expect(err.message).to.include(`127.0.0.1:${port}/lgsp`);
    expect(err.message).to.match(/ECONNREFUSED|connect/);
    for (const secret of ['S3cret-Pa55word', 'lgsp-user']) expect(err.message).to.not.include(secret);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).to.not.include('S3cret-Pa55word');
    expect(describeDeliveryStore(store, { configDir: dir, env: { DB_URL: url } })).to.equal(
      `postgres 127.0.0.1:${port}/lgsp (schema lgsp_delivery)`,
    );
    const notUrl = await rejection(
      openDeliveryStore(store, { configDir: dir, env: { DB_URL: 'mysql://root:S3cret-Pa55word@db/x' } }),
    );
    expect(notUrl.message).to.match(/postgres:\/\//);
    expect(notUrl.message).to.not.include('S3cret-Pa55word');
  });

  it('is start-only: a reload that moves the store is refused, naming the key', () => {
    loadStore(dir, '');
    const before = loadConfig(dir).config;
    loadStore(dir, 'delivery:\n  store: { kind: sqlite, path: elsewhere.db }\n');
    const after = loadConfig(dir).config;
    const issues = startOnlyChanges(before, after, (p, rule, message) => ({ path: p.join('.'), rule, message }));
    expect(issues.map((i) => [i.path, i.rule])).to.deep.equal([['delivery.store.path', 'start-only']]);
  });
});

describe('delivery.store: openDeliveryStore on PostgreSQL', () => {
  const server = usePostgres();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lgsp-dstore-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens by URL from the file named by <VAR>_FILE (a mounted secret), in its own schema; replicas migrate once', async function () {
    this.timeout(60_000);
    const secret = path.join(dir, 'delivery-database-url');
    writeFileSync(secret, `${server().url}\n`);
    const store = loadStore(
      dir,
      'delivery:\n  store: { kind: postgres, url: { env: LGSP_DELIVERY_DATABASE_URL }, schema: lgsp_open_test, pool: { max: 2 } }\n',
    );
    const env = { LGSP_DELIVERY_DATABASE_URL_FILE: secret };
    // Three replicas starting at once: one migrates, the others find it done.
    const replicas = await Promise.all([1, 2, 3].map(() => openDeliveryStore(store, { configDir: dir, env })));
    const admin = server().admin();
    try {
      const d = newDelivery();
      await replicas[0].enqueue(d);
      expect((await replicas[2].get(d.id))!.id).to.equal(d.id);
      const tables =
        await admin`SELECT table_name FROM information_schema.tables WHERE table_schema = 'lgsp_open_test' ORDER BY 1`;
      expect(tables.map((t) => t.table_name)).to.deep.equal(['deliveries', 'schema_version']);
      const [version] = await admin`SELECT count(*)::int AS n FROM lgsp_open_test.schema_version`;
      expect(version.n).to.equal(1);
      expect(describeDeliveryStore(store, { configDir: dir, env })).to.match(
        /^postgres [^@\s]+ \(schema lgsp_open_test\)$/,
      );
      expect(describeDeliveryStore(store, { configDir: dir, env })).to.not.include(new URL(server().url).password);
    } finally {
      for (const r of replicas) await r.close();
      await admin.unsafe('DROP SCHEMA IF EXISTS lgsp_open_test CASCADE');
      await admin.end();
    }
  });

  it('runs with a database user that may only use the tables once they exist (no DDL when up to date)', async function () {
    this.timeout(60_000);
    const admin = server().admin();
    const password = 'Gw-Only-Pa55word';
    const yaml = 'delivery:\n  store: { kind: postgres, url: { env: DB_URL }, schema: lgsp_least }\n';
    try {
      const owner = await openDeliveryStore(loadStore(dir, yaml), { configDir: dir, env: { DB_URL: server().url } });
      await owner.close();
      // No CREATE on the database (PUBLIC has none): only the schema's use and row privileges.
      await admin.unsafe(`DROP ROLE IF EXISTS lgsp_gateway_only`);
      await admin.unsafe(`CREATE ROLE lgsp_gateway_only LOGIN PASSWORD '${password}'`);
      await admin.unsafe(`GRANT USAGE ON SCHEMA lgsp_least TO lgsp_gateway_only`);
      await admin.unsafe(`GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA lgsp_least TO lgsp_gateway_only`);
      const url = new URL(server().url);
      url.username = 'lgsp_gateway_only';
      url.password = password;
      const store = await openDeliveryStore(loadStore(dir, yaml), { configDir: dir, env: { DB_URL: url.href } });
      try {
        const d = newDelivery();
        await store.enqueue(d);
        const claimed = await store.claimDue(d.createdAt, { owner: 'gw', leaseMs: 1000, limit: 5 });
        expect(claimed.map((x) => x.id)).to.deep.equal([d.id]);
        expect(await store.complete(d.id, 'gw', { at: d.createdAt, status: 200, error: null })).to.equal(true);
      } finally {
        await store.close();
      }
    } finally {
      await admin.unsafe('DROP SCHEMA IF EXISTS lgsp_least CASCADE');
      await admin.unsafe('DROP ROLE IF EXISTS lgsp_gateway_only');
      await admin.end();
    }
  });

  it('waits at start for a database that is not up yet (connections reset), within pool.connectTimeoutMs', async function () {
    this.timeout(60_000);
    const target = new URL(server().url);
    let seen = 0;
    // In front of the database: the first three connections are reset, as while it starts; then it passes.
    const proxy = net.createServer((socket) => {
      seen += 1;
      if (seen <= 3) return void socket.resetAndDestroy();
      const upstream = net.connect(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      const end = () => (socket.destroy(), upstream.destroy());
      socket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = new URL(server().url);
    url.port = String((proxy.address() as net.AddressInfo).port);
    try {
      const store = await openDeliveryStore(
        loadStore(
          dir,
          'delivery:\n  store: { kind: postgres, url: { env: DB_URL }, schema: lgsp_late, pool: { connectTimeoutMs: 20000 } }\n',
        ),
        { configDir: dir, env: { DB_URL: url.href } },
      );
      await store.enqueue(newDelivery());
      expect((await store.counts()).queued).to.equal(1);
      await store.close();
      expect(seen).to.be.greaterThan(3);
    } finally {
      proxy.close();
      const admin = server().admin();
      await admin.unsafe('DROP SCHEMA IF EXISTS lgsp_late CASCADE');
      await admin.end();
    }
  });

  it("a wrong password: refused with the server's reason, the password nowhere in the error", async function () {
    this.timeout(30_000);
    const url = new URL(server().url);
    url.password = 'Wr0ng-Pa55word';
    const store = loadStore(dir, 'delivery:\n  store: { kind: postgres, url: { env: DB_URL } }\n');
    const err = await rejection(openDeliveryStore(store, { configDir: dir, env: { DB_URL: url.href } }));
    expect(err.message).to.match(/password authentication failed|28P01/);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).to.not.include('Wr0ng-Pa55word');
  });
});
