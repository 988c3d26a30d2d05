import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { ReloadResult } from '../../../src/runtime/reloader.ts';
import { ADMIN_KEY, ADMIN_KEY_SHA256, CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';

/**
 * Fault matrix, config side (issue 8): the config directory is deleted, replaced, broken or unreadable
 * while the gateway serves. The running table keeps serving, /admin/status shows the error, and when the
 * directory is valid again the gateway follows it (and the error is cleared).
 */
describe('reliability: config directory faults while serving', function () {
  this.timeout(15_000);
  let up: TestServer;
  let gw: TestGateway;
  const auditDir = mkdtempSync(path.join(tmpdir(), 'lgsp-rel-audit-'));
  const auth = { 'x-api-key': CONSUMER_KEY };
  const gatewayYaml = (upUrl: string) =>
    `version: 1\nreload: { debounceMs: 20 }\nadmin: { apiKeys: [{ sha256: ${ADMIN_KEY_SHA256} }] }\n` +
    `upstreams:\n  ndxp: { url: "${upUrl}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n` +
    // The audit trail lives outside the config directory, as in production: deleting the config must not touch it.
    `audit:\n  dir: ${auditDir}\n  hmacKey: "test-audit-hmac-key-0123456789abcdef"\n`;
  const routes = (extra = '') =>
    `routes:\n  - { id: a, methods: [GET], path: /ndxp/a, upstream: ndxp, consumers: [mcdt] }\n${extra}`;

  before(async () => {
    up = await startServer();
    gw = await startGateway({ 'gateway.yaml': gatewayYaml(up.url), 'routes.yaml': routes() }, { watch: true });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
    rmSync(auditDir, { recursive: true, force: true });
  });

  const nextReload = async () => ((await once(gw.gateway.reloader, 'reload')) as [ReloadResult])[0];
  const status = async () =>
    (await request(`${gw.url}/admin/status`, { headers: { 'x-admin-key': ADMIN_KEY } })).json<{
      lastError: { errors: string[] } | null;
      routes: number;
    }>();
  const serves = async (p = '/ndxp/a') => (await request(`${gw.url}${p}`, { headers: auth })).status;

  it('directory deleted: keeps serving, reports the error; restored unchanged: the error clears', async () => {
    const aside = `${gw.dir}.aside`;
    const failed = nextReload();
    renameSync(gw.dir, aside);
    const result = await failed;
    expect(result.result).to.equal('failure');
    expect(await serves()).to.equal(200);
    expect((await status()).lastError).not.to.equal(null);

    let back = nextReload();
    renameSync(aside, gw.dir);
    // The same files come back: nothing to rebuild, but the directory is healthy again.
    let restored = await back;
    while (restored.result === 'failure') restored = await (back = nextReload());
    expect(restored.result).to.be.oneOf(['unchanged', 'success']);
    expect(await serves()).to.equal(200);
    expect((await status()).lastError, 'status still shows the old error').to.equal(null);
  });

  it('directory replaced by a new one (ConfigMap-style swap of the whole dir): the new table is served', async () => {
    const fresh = `${gw.dir}.new`;
    mkdirSync(fresh);
    writeFileSync(path.join(fresh, 'gateway.yaml'), gatewayYaml(up.url));
    writeFileSync(
      path.join(fresh, 'routes.yaml'),
      routes('  - { id: b, methods: [GET], path: /ndxp/b, upstream: ndxp, consumers: [mcdt] }\n'),
    );
    const old = `${gw.dir}.old`;
    let reloaded = nextReload();
    renameSync(gw.dir, old);
    renameSync(fresh, gw.dir);
    let result = await reloaded;
    while (result.result !== 'success') result = await (reloaded = nextReload());
    expect(await serves('/ndxp/b')).to.equal(200);
    expect(await serves()).to.equal(200);
    rmSync(old, { recursive: true, force: true });
  });

  it('a file turned into a directory, then a dangling symlink (half-swapped ConfigMap): keeps serving, then recovers', async () => {
    const file = path.join(gw.dir, 'routes.yaml');
    let reloaded = nextReload();
    unlinkSync(file);
    mkdirSync(file);
    let result = await reloaded;
    // Deleting the file may itself fire a reload first (routes gone -> still valid or not): wait for the directory one.
    while (result.result !== 'failure') result = await (reloaded = nextReload());
    expect(await serves('/ndxp/b')).to.equal(200);

    reloaded = nextReload();
    rmSync(file, { recursive: true });
    symlinkSync('..data/routes.yaml', file);
    result = await reloaded;
    expect(await serves('/ndxp/b')).to.equal(200);
    expect((await status()).lastError).not.to.equal(null);

    reloaded = nextReload();
    unlinkSync(file);
    writeFileSync(file, routes());
    result = await reloaded;
    while (result.result !== 'success') result = await (reloaded = nextReload());
    expect(await serves('/ndxp/b')).to.equal(404);
    expect(await serves()).to.equal(200);
    expect((await status()).lastError).to.equal(null);
  });

  it('a file made unreadable (chmod 000): meaningful only when not running as root', async function () {
    // root reads a mode-000 file anyway (CAP_DAC_OVERRIDE), so the fault cannot be produced here.
    if (process.getuid?.() === 0) this.skip();
    const file = path.join(gw.dir, 'routes.yaml');
    writeFileSync(file, routes('  - { id: c, methods: [GET], path: /ndxp/c, upstream: ndxp, consumers: [mcdt] }\n'));
    chmodSync(file, 0o000);
    const result = await gw.gateway.reloader.reload('test', true);
    expect(result.result).to.equal('failure');
    expect(await serves()).to.equal(200);
    chmodSync(file, 0o644);
    expect((await gw.gateway.reloader.reload('test', true)).result).to.equal('success');
  });
});
