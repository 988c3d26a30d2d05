import { once } from 'node:events';
import path from 'node:path';
import { expect } from 'chai';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { ADMIN_KEY, ADMIN_KEY_SHA256, CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { registerSecret } from '../../helpers/written-registry.ts';
import type { ReloadResult } from '../../../src/runtime/reloader.ts';

/**
 * Issue 15.5: every setting applies on reload, or is start-only and a reload changing it fails naming it.
 * `extra` lines go at the end of gateway.yaml, from line 6 on.
 */
const gatewayYaml = (up: string, extra = '') =>
  'version: 1\n' +
  `admin: { apiKeys: [{ sha256: ${ADMIN_KEY_SHA256} }] }\n` +
  `upstreams: { ndxp: { url: "${up}" } }\n` +
  `consumers: { mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] } }\n` +
  'reload: { debounceMs: 20 }\n' +
  extra;
const routes = (ids: string[]) =>
  'routes:\n' +
  ids.map((id) => `  - { id: ${id}, methods: [GET], path: /ndxp/${id}, upstream: ndxp, consumers: [mcdt] }\n`).join('');
const HMAC_KEY = 'test-audit-hmac-key-0123456789abcdef';
const auditYaml = (dir: string, extra = '') => `audit:\n  dir: ${dir}\n  hmacKey: "${HMAC_KEY}"\n${extra}`;

/** The next reload that did something (file events of one write may come in two bursts: the second is 'unchanged'). */
async function nextApplied(gw: TestGateway): Promise<ReloadResult> {
  for (let i = 0; i < 10; i++) {
    const [result] = (await once(gw.gateway.reloader, 'reload')) as [ReloadResult];
    if (result.result !== 'unchanged') return result;
  }
  throw new Error('ten reloads in a row changed nothing');
}

const asConsumer = { headers: { 'x-api-key': CONSUMER_KEY } };
const asAdmin = { headers: { 'x-admin-key': ADMIN_KEY } };

interface Status {
  hash: string;
  lastError: { errors: string[] } | null;
  watch: { enabled: boolean; debounceMs?: number };
}

describe('gateway core: settings on reload (live or start-only)', () => {
  let up: TestServer;
  let gw: TestGateway;
  let auditDir: string;

  const status = async () => (await request(`${gw.url}/admin/status`, asAdmin)).json<Status>();
  const served = async (id = 'a') => (await request(`${gw.url}/ndxp/${id}`, asConsumer)).status;
  /** Writes gateway.yaml and reloads now (no watcher involved). */
  const reloadWith = async (extra: string) => {
    gw.write('gateway.yaml', gatewayYaml(up.url, extra));
    return gw.gateway.reloader.reload('test');
  };

  beforeEach(async () => {
    up = await startServer();
    gw = await startGateway({ 'gateway.yaml': gatewayYaml(up.url), 'routes.yaml': routes(['a']) }, { watch: false });
    auditDir = path.join(gw.dir, 'audit-trail');
  });
  afterEach(async () => {
    await gw.close();
    await up.close();
  });

  describe('live settings', () => {
    it('logging.level: debug lines appear once a reload lowers the level to debug, and stop once it raises it', async () => {
      const skipped = () => gw.logs.filter((l) => String(l.message).startsWith('config unchanged')).length;
      expect((await gw.gateway.reloader.reload('probe')).result).to.equal('unchanged');
      expect(skipped(), 'a debug line at level info').to.equal(0);

      expect((await reloadWith('logging: { level: debug }\n')).result).to.equal('success');
      expect((await gw.gateway.reloader.reload('probe')).result).to.equal('unchanged');
      expect(skipped(), 'the debug line once the level is debug').to.equal(1);

      expect((await reloadWith('logging: { level: warn }\n')).result).to.equal('success');
      expect((await gw.gateway.reloader.reload('probe')).result).to.equal('unchanged');
      expect(skipped(), 'no debug line once the level is warn again').to.equal(1);
    });

    it('metrics.path: served at the new path (through the own-path bypass list) and no longer at the old one, on both listeners', async () => {
      const admin = await gw.gateway.listenAdmin(0, '127.0.0.1');
      for (const base of [gw.url, admin.url]) {
        const before = await request(`${base}/metrics`, asAdmin);
        expect(before.status, `${base}/metrics before`).to.equal(200);
        expect(before.body.toString()).to.contain('lgsp_config_reloads_total');
      }
      expect((await reloadWith('metrics: { path: /scrape/lgsp }\n')).result).to.equal('success');
      for (const base of [gw.url, admin.url]) {
        // On the main listener the new path is not one the bypass list had at start: without the list
        // following the config it would go straight to the proxy handler and be answered 404.
        const moved = await request(`${base}/scrape/lgsp`, asAdmin);
        expect(moved.status, `${base}/scrape/lgsp`).to.equal(200);
        expect(moved.body.toString()).to.contain('lgsp_config_reloads_total{result="success"} 1');
        // Upper case too: Express matches case-insensitively and the bypass compares so.
        expect((await request(`${base}/SCRAPE/lgsp`, asAdmin)).status, `${base}/SCRAPE/lgsp`).to.equal(200);
        const old = await request(`${base}/metrics`, asAdmin);
        expect(old.status, `${base}/metrics after`).to.equal(404);
        expect(old.body.toString()).not.to.contain('lgsp_');
        // Still the admin's only: the new path keeps the guard.
        expect((await request(`${base}/scrape/lgsp`)).status === 200).to.equal(base === admin.url);
      }
      expect((await request(`${gw.url}/admin/metrics`, asAdmin)).status).to.equal(200);
      expect(await served()).to.equal(200);
    });

    it("metrics.public and metrics.enabled: the scrape path opens to anyone, then goes; /admin/metrics stays the admin's", async () => {
      const scrape = (headers = {}) => request(`${gw.url}/metrics`, { headers });
      expect((await scrape()).status, 'guarded at start').to.equal(401);
      expect((await reloadWith('metrics: { public: true }\n')).result).to.equal('success');
      const open = await scrape();
      expect(open.status, 'public after the reload').to.equal(200);
      expect(open.body.toString()).to.contain('lgsp_requests_total');
      expect((await request(`${gw.url}/admin/metrics`)).status, '/admin/metrics never public').to.equal(401);
      expect((await reloadWith('metrics: { enabled: false }\n')).result).to.equal('success');
      const gone = await scrape(asAdmin.headers);
      expect(gone.status, 'no scrape path once disabled').to.equal(404);
      expect(gone.body.toString()).not.to.contain('lgsp_');
      expect((await request(`${gw.url}/admin/metrics`, asAdmin)).status).to.equal(200);
    });

    it('reload.debounceMs and reload.watch: the watcher is re-armed with the new quiet time, turned off, and on again', async () => {
      // `watch: undefined`: the watcher follows `reload.watch` of the config, as in production.
      await gw.close();
      gw = await startGateway(
        { 'gateway.yaml': gatewayYaml(up.url), 'routes.yaml': routes(['a']) },
        { watch: undefined },
      );
      expect((await status()).watch).to.deep.equal({ enabled: true, debounceMs: 20 });

      // A quiet time long enough to measure, applied by the watcher itself: the next file change reloads
      // no sooner than 400 ms after it.
      let applied = nextApplied(gw);
      gw.write('gateway.yaml', gatewayYaml(up.url, 'reload: { debounceMs: 400 }\n').replace(/^reload:.*\n/m, ''));
      expect((await applied).result).to.equal('success');
      expect((await status()).watch).to.deep.equal({ enabled: true, debounceMs: 400 });
      applied = nextApplied(gw);
      const writtenAt = performance.now();
      gw.write('routes.yaml', routes(['a', 'b']));
      const result = await applied;
      const waited = performance.now() - writtenAt;
      expect(result.result).to.equal('success');
      expect(waited, 'ms from the change to the reload').to.be.at.least(395);
      expect(await served('b')).to.equal(200);

      gw.write('gateway.yaml', gatewayYaml(up.url, 'reload: { watch: false }\n').replace(/^reload:.*\n/m, ''));
      expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
      expect((await status()).watch).to.deep.equal({ enabled: false });

      // Switched on again by a reload (SIGHUP, POST /admin/reload): file changes reload again.
      gw.write('gateway.yaml', gatewayYaml(up.url));
      expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
      expect((await status()).watch).to.deep.equal({ enabled: true, debounceMs: 20 });
      applied = nextApplied(gw);
      gw.write('routes.yaml', routes(['a', 'c']));
      expect((await applied).result).to.equal('success');
      expect(await served('c')).to.equal(200);
    });
  });

  describe('start-only settings', () => {
    /** Each change: the file, its content, and where the changed key is (line, column, path). */
    const changes = (upUrl: string, dir: string) => [
      {
        file: 'gateway.yaml',
        text: gatewayYaml(upUrl, 'listen: { port: 18080 }\n'),
        line: 6,
        column: 11,
        path: 'listen.port',
      },
      {
        file: 'gateway.yaml',
        text: gatewayYaml(upUrl, 'listen:\n  host: 127.0.0.2\n'),
        line: 7,
        column: 3,
        path: 'listen.host',
      },
      {
        file: 'gateway.yaml',
        text: gatewayYaml(upUrl, 'listen:\n  tls: { cert: gateway.pem, key: gateway-key.pem }\n'),
        line: 7,
        column: 3,
        path: 'listen.tls',
      },
      {
        file: 'gateway.yaml',
        text: gatewayYaml(upUrl).replace(/^admin: \{ (.*) \}$/m, 'admin: { $1, listen: { port: 19091 } }'),
        line: 2,
        column: 0, // inside a long flow mapping: the line is what matters
        path: 'admin.listen',
      },
      {
        file: 'gateway.yaml',
        text: gatewayYaml(upUrl, 'sandbox: { enabled: true }\n'),
        line: 6,
        column: 12,
        path: 'sandbox.enabled',
      },
      {
        file: 'gateway.yaml',
        text: gatewayYaml(upUrl, 'sandbox: { port: 19180 }\n'),
        line: 6,
        column: 12,
        path: 'sandbox.port',
      },
      {
        file: 'gateway.yaml',
        text: gatewayYaml(upUrl, 'environment: production\n'),
        line: 6,
        column: 1,
        path: 'environment',
      },
      {
        file: 'gateway.yaml',
        text: gatewayYaml(upUrl, 'metrics: { defaultMetrics: false }\n'),
        line: 6,
        column: 12,
        path: 'metrics.defaultMetrics',
      },
      { file: 'audit.yaml', text: auditYaml(`${dir}-moved`), line: 2, column: 3, path: 'audit.dir' },
      {
        file: 'audit.yaml',
        text: auditYaml(dir, '  onFailure: continue\n'),
        line: 4,
        column: 3,
        path: 'audit.onFailure',
      },
      { file: 'audit.yaml', text: auditYaml(dir, '  enabled: false\n'), line: 4, column: 3, path: 'audit.enabled' },
      { file: 'audit.yaml', text: auditYaml(dir, '  output: stdout\n'), line: 4, column: 3, path: 'audit.output' },
      {
        file: 'audit.yaml',
        text: auditYaml(dir, '  retentionDays: 30\n'),
        line: 4,
        column: 3,
        path: 'audit.retentionDays',
      },
      {
        file: 'audit.yaml',
        text: auditYaml(dir, '  bufferBytes: 65536\n'),
        line: 4,
        column: 3,
        path: 'audit.bufferBytes',
      },
      { file: 'audit.yaml', text: auditYaml(dir, '  retryMs: 50\n'), line: 4, column: 3, path: 'audit.retryMs' },
      {
        file: 'audit.yaml',
        text: auditYaml(dir).replace(HMAC_KEY, 'rotated-audit-hmac-key-abcdef0123456789'),
        line: 3,
        column: 3,
        path: 'audit.hmacKey',
      },
    ];

    it('a reload changing any start-only setting fails naming it at file:line:col (result, log, /admin/status); the old config keeps serving', async () => {
      registerSecret('rotated-audit-hmac-key-abcdef0123456789');
      const started = await status();
      const originals: Record<string, string> = {
        'gateway.yaml': gatewayYaml(up.url),
        'audit.yaml': auditYaml(auditDir),
      };
      for (const change of changes(up.url, auditDir)) {
        const what = `${change.path} in ${change.file}`;
        gw.write(change.file, change.text);
        const result = await gw.gateway.reloader.reload('test');
        expect(result.result, what).to.equal('failure');
        if (result.result !== 'failure') return;
        const issue = result.issues.find((i) => i.rule === 'start-only');
        expect(issue, what).to.include({ file: change.file, line: change.line, path: change.path });
        if (change.column) expect(issue!.column, what).to.equal(change.column);
        expect(issue!.message, what).to.contain('read only at start');
        expect(issue!.message, what).not.to.contain('rotated-audit');
        const formatted = `${change.file}:${change.line}:`;
        const now = await status();
        expect(now.hash, `${what}: the running config stays`).to.equal(started.hash);
        expect(now.lastError?.errors.join('\n'), what).to.contain(formatted).and.to.contain(change.path);
        const logged = gw.logs.filter((l) => l.level === 'error' && String(l.message).includes('reload failed')).at(-1);
        expect(JSON.stringify(logged), what).to.contain(formatted).and.to.contain(change.path);
        expect(await served(), `${what}: still served`).to.equal(200);
        // Restored: nothing to apply, and the fault is over.
        gw.write(change.file, originals[change.file]);
        expect((await gw.gateway.reloader.reload('test')).result, what).to.equal('unchanged');
        expect((await status()).lastError, what).to.equal(null);
      }
    });

    it('metrics.defaultMetrics decides at start whether the process metrics are served', async () => {
      const scraped = async (g: TestGateway) => (await request(`${g.url}/metrics`, asAdmin)).body.toString();
      expect(await scraped(gw)).to.contain('lgsp_process_cpu_user_seconds_total');
      const without = await startGateway(
        { 'gateway.yaml': gatewayYaml(up.url, 'metrics: { defaultMetrics: false }\n'), 'routes.yaml': routes(['a']) },
        { watch: false },
      );
      try {
        const text = await scraped(without);
        expect(text).to.contain('lgsp_requests_total').and.not.to.contain('lgsp_process_cpu_user_seconds_total');
      } finally {
        await without.close();
      }
    });

    it('a reload changing a live and a start-only setting together applies neither', async () => {
      const result = await reloadWith('logging: { level: debug }\nlisten: { port: 18080 }\n');
      expect(result.result).to.equal('failure');
      if (result.result !== 'failure') return;
      expect(result.issues.map((i) => i.path)).to.deep.equal(['listen.port']);
      expect(gw.gateway.logger.level).to.equal('info');
      // A route added in the same reload is not served either: the whole new config was refused.
      gw.write('routes.yaml', routes(['a', 'b']));
      expect((await gw.gateway.reloader.reload('test')).result).to.equal('failure');
      expect(await served('b')).to.equal(404);
    });

    it('the audit trail keeps writing to its start directory after a refused reload that moved it', async () => {
      gw.write('audit.yaml', auditYaml(`${auditDir}-moved`));
      expect((await gw.gateway.reloader.reload('test')).result).to.equal('failure');
      expect(await served()).to.equal(200);
      await gw.gateway.close(1000);
      const { readdirSync, readFileSync, existsSync } = await import('node:fs');
      expect(existsSync(`${auditDir}-moved`)).to.equal(false);
      const lines = readdirSync(auditDir).flatMap((f) =>
        readFileSync(path.join(auditDir, f), 'utf8').trim().split('\n').filter(Boolean),
      );
      expect(lines.map((l) => (JSON.parse(l) as { route: string }).route)).to.deep.equal(['a']);
    });
  });
});
