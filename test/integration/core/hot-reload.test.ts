import { mkdtempSync, renameSync, symlinkSync, mkdirSync, writeFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { once } from 'node:events';
import { expect } from 'chai';
import { ADMIN_KEY, ADMIN_KEY_SHA256, CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import type { ReloadResult } from '../../../src/runtime/reloader.ts';

const base = (up: string) =>
  `version: 1\nreload: { debounceMs: 20 }\nadmin: { apiKeys: [{ sha256: ${ADMIN_KEY_SHA256} }] }\nupstreams:\n  ndxp: { url: "${up}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`;
const routesV1 = 'routes:\n  - { id: old, methods: [GET], path: /ndxp/old, upstream: ndxp, consumers: [mcdt] }\n';
const routesV2 = routesV1 + '  - { id: new, methods: [GET], path: /ndxp/new, upstream: ndxp, consumers: [mcdt] }\n';

/** Sends requests back to back from `workers` keep-alive clients until stopped; counts failures. */
function steadyLoad(url: string, workers = 4) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const loop = async () => {
    while (running) {
      try {
        const res = await request(url, { headers: { 'x-api-key': CONSUMER_KEY }, agent });
        if (res.status === 200) ok++;
        else failures.push(`status ${res.status}: ${res.body.toString().slice(0, 200)}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, loop));
  return {
    get ok() {
      return ok;
    },
    failures,
    async stop() {
      running = false;
      await done;
      agent.destroy();
    },
  };
}

describe('gateway core: hot reload', () => {
  let up: TestServer;
  let gw: TestGateway;

  beforeEach(async () => {
    up = await startServer();
    gw = await startGateway({ 'gateway.yaml': base(up.url), 'routes.yaml': routesV1 }, { watch: true });
  });
  afterEach(async () => {
    await gw.close();
    await up.close();
  });

  it('swaps the route table under steady load with zero failed requests; the new route answers after the reload event', async () => {
    const load = steadyLoad(`${gw.url}/ndxp/old`);
    while (load.ok < 50) await new Promise((r) => setImmediate(r));
    expect((await request(`${gw.url}/ndxp/new`, { headers: { 'x-api-key': CONSUMER_KEY } })).status).to.equal(404);
    const reloaded = once(gw.gateway.reloader, 'reload');
    gw.write('routes.yaml', routesV2);
    const [result] = (await reloaded) as [ReloadResult];
    expect(result.result).to.equal('success');
    expect((await request(`${gw.url}/ndxp/new`, { headers: { 'x-api-key': CONSUMER_KEY } })).status).to.equal(200);
    const after = load.ok;
    while (load.ok < after + 50) await new Promise((r) => setImmediate(r));
    await load.stop();
    expect(load.failures).to.deep.equal([]);
  });

  it('keeps the old table on a YAML syntax error and reports file:line', async () => {
    const reloaded = once(gw.gateway.reloader, 'reload');
    gw.write('routes.yaml', 'routes:\n  - { id: broken, path: /ndxp/x\n    upstream: ndxp\n');
    const [result] = (await reloaded) as [ReloadResult];
    expect(result.result).to.equal('failure');
    if (result.result !== 'failure') return;
    expect(result.issues[0]).to.include({ file: 'routes.yaml', rule: 'yaml-syntax' });
    expect(result.issues[0].line).to.be.a('number');
    expect((await request(`${gw.url}/ndxp/old`, { headers: { 'x-api-key': CONSUMER_KEY } })).status).to.equal(200);
    const logged = gw.logs.find((l) => l.level === 'error' && String(l.message).includes('reload failed'));
    expect(JSON.stringify(logged)).to.match(/routes\.yaml:\d+:\d+/);
    const status = await request(`${gw.url}/admin/status`, { headers: { 'x-admin-key': ADMIN_KEY } });
    const body = status.json<{ lastError: { errors: string[] }; reloads: { failure: number } }>();
    expect(body.lastError.errors[0]).to.match(/^routes\.yaml:\d+:\d+/);
    expect(body.reloads.failure).to.equal(1);
  });

  it('keeps the old table on an unknown key and on a route naming a missing upstream, with file:line:col', async () => {
    const reloaded = once(gw.gateway.reloader, 'reload');
    gw.write(
      'routes.yaml',
      routesV1 +
        '  - id: typo\n    path: /ndxp/typo\n    upstrem: ndxp\n    upstream: ndxp\n' +
        '  - id: ghost\n    path: /ghost/x\n    upstream: ghost\n',
    );
    const [result] = (await reloaded) as [ReloadResult];
    expect(result.result).to.equal('failure');
    if (result.result !== 'failure') return;
    const unknown = result.issues.find((i) => i.rule === 'additionalProperties');
    expect(unknown).to.include({ file: 'routes.yaml', line: 5, column: 5, path: 'routes[1].upstrem' });
    const missing = result.issues.find((i) => i.rule === 'reference');
    expect(missing).to.include({ file: 'routes.yaml', line: 9, path: 'routes[2].upstream' });
    expect(missing!.message).to.contain('ghost');
    expect((await request(`${gw.url}/ndxp/old`, { headers: { 'x-api-key': CONSUMER_KEY } })).status).to.equal(200);
  });

  it('skips a reload whose content hash did not change', async () => {
    const result = await gw.gateway.reloader.reload('test');
    expect(result.result).to.equal('unchanged');
  });

  it('reloads on POST /admin/reload with admin credentials only', async () => {
    const denied = await request(`${gw.url}/admin/reload`, { method: 'POST' });
    expect(denied.status).to.equal(401);
    const wrong = await request(`${gw.url}/admin/reload`, { method: 'POST', headers: { 'x-admin-key': CONSUMER_KEY } });
    expect(wrong.status).to.equal(401);
    const ok = await request(`${gw.url}/admin/reload`, { method: 'POST', headers: { 'x-admin-key': ADMIN_KEY } });
    expect(ok.status).to.equal(200);
    expect(ok.json()).to.include({ result: 'success' });
  });

  it('follows a Kubernetes-style ConfigMap update (the ..data symlink swapped)', async () => {
    // Lay the directory out as the kubelet does: files are symlinks into ..data, itself a symlink to a
    // timestamped directory; an update writes a new directory and renames a new ..data link over the old.
    const dir = gw.dir;
    mkdirSync(path.join(dir, '..2026_v1'));
    writeFileSync(path.join(dir, '..2026_v1', 'routes.yaml'), routesV1);
    symlinkSync('..2026_v1', path.join(dir, '..data'));
    unlinkSync(path.join(dir, 'routes.yaml'));
    symlinkSync('..data/routes.yaml', path.join(dir, 'routes.yaml'));
    await gw.gateway.reloader.reload('test', true);

    const reloaded = once(gw.gateway.reloader, 'reload');
    mkdirSync(path.join(dir, '..2026_v2'));
    writeFileSync(path.join(dir, '..2026_v2', 'routes.yaml'), routesV2);
    symlinkSync('..2026_v2', path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    rmSync(path.join(dir, '..2026_v1'), { recursive: true });
    const [result] = (await reloaded) as [ReloadResult];
    expect(result.result).to.equal('success');
    expect((await request(`${gw.url}/ndxp/new`, { headers: { 'x-api-key': CONSUMER_KEY } })).status).to.equal(200);
  });

  it('follows a route directory kept outside the config directory (paths.routes)', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'lgsp-routes-'));
    try {
      writeFileSync(path.join(outside, 'r.yaml'), routesV1);
      gw.write('routes.yaml', '');
      gw.write('gateway.yaml', base(up.url) + `paths: { routes: ${outside} }\n`);
      expect((await gw.gateway.reloader.reload('test', true)).result).to.equal('success');
      const reloaded = once(gw.gateway.reloader, 'reload');
      writeFileSync(path.join(outside, 'r.yaml'), routesV2);
      const [result] = (await reloaded) as [ReloadResult];
      expect(result.result).to.equal('success');
      expect((await request(`${gw.url}/ndxp/new`, { headers: { 'x-api-key': CONSUMER_KEY } })).status).to.equal(200);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
