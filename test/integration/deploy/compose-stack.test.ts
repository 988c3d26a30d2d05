import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { DEMO_IDS } from '../../../src/sandbox/population-data.ts';
import { freePort, request } from '../../helpers/http.ts';
import { hasRedisServer, startRedis, type RedisProcess } from '../../helpers/redis.ts';
import { spawnGateway, type GatewayProcess } from './processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = path.join(root, 'src/cli/main.ts');
const API_KEY = 'compose-test-consumer-key-0123456789';

/**
 * The docker-compose.yml stack without a Docker engine: the same three processes (sandbox, gateway,
 * Redis) with the compose file's environment and the shipped config directories, "sandbox:9180" and
 * "redis:6379" replaced by loopback ports. Proves the shipped config works end to end, and that an edit
 * of a route file in the mounted route directory reaches the running gateway.
 */
describe('deploy: the compose stack (sandbox + gateway + Redis as processes; skipped without redis-server)', function () {
  let redis: RedisProcess | undefined;
  let sandbox: GatewayProcess | undefined;
  let gateway: GatewayProcess | undefined;
  let tmp: string;

  before(async function () {
    if (!hasRedisServer()) this.skip();
    tmp = mkdtempSync(path.join(tmpdir(), 'lgsp-compose-'));
    redis = await startRedis();
    const sandboxPort = await freePort();
    cpSync(path.join(root, 'deploy/compose/sandbox'), path.join(tmp, 'sandbox'), { recursive: true });
    const sandboxFile = path.join(tmp, 'sandbox/gateway.yaml');
    writeFileSync(
      sandboxFile,
      readFileSync(sandboxFile, 'utf8').replace(
        /host: 0\.0\.0\.0, port: 9180/,
        `host: 127.0.0.1, port: ${sandboxPort}`,
      ),
    );
    const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
    sandbox = await spawnGateway(cli, {
      ...compose.services.sandbox.environment,
      LGSP_CONFIG_DIR: path.join(tmp, 'sandbox'),
    });
    expect(sandbox.lines.some((l) => l.message === 'sandbox of the national systems listening')).to.equal(true);

    // Secrets as init-secrets.sh makes them, where compose mounts them (/run/secrets -> tmp/secrets).
    const secrets = path.join(tmp, 'secrets');
    cpSync(path.join(root, 'deploy/compose/config'), path.join(tmp, 'config'), { recursive: true });
    cpSync(path.join(root, 'deploy/compose/secrets'), secrets, { recursive: true });
    writeFileSync(path.join(secrets, 'audit_hmac_key'), 'compose-test-audit-hmac-key-0123456789abcdef');
    writeFileSync(path.join(secrets, 'mcdt_api_key'), `${API_KEY}\n`);
    writeFileSync(path.join(secrets, 'delivery_key'), 'c'.repeat(64));
    const { generateKeyPairSync } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(path.join(secrets, 'token_signing_key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    // The compose file's ${VAR:-default} values, with the service names turned into loopback addresses.
    const env: Record<string, string> = { LGSP_SECRETS_DIR: secrets };
    for (const [name, value] of Object.entries(compose.services.gateway.environment as Record<string, string>)) {
      env[name] = String(value)
        .replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1')
        .replace('http://sandbox:9180', `http://127.0.0.1:${sandboxPort}`)
        .replace('redis://redis:6379', redis.url)
        .replace('/run/secrets/', `${secrets}/`);
    }
    env.LGSP_CONFIG_DIR = path.join(tmp, 'config');
    // The audit volume of the compose file.
    const auditDir = path.join(tmp, 'audit');
    // The repository's route table, mapping blocks and catalogs, where compose bind-mounts them; the
    // schemas the image ships at /app/schemas are the repository's.
    let gatewayYaml = readFileSync(path.join(tmp, 'config/gateway.yaml'), 'utf8')
      .replace('/var/lib/lgsp-gateway/audit', auditDir)
      // The deliveries volume: this run's own store (a push of an earlier run would be a duplicate).
      .replace('/var/lib/lgsp-gateway/data/deliveries.db', path.join(tmp, 'data/deliveries.db'))
      .replace('/app/schemas', path.join(root, 'schemas'));
    for (const dir of ['routes', 'mappings', 'catalogs']) {
      cpSync(path.join(root, 'config', dir), path.join(tmp, dir), { recursive: true });
      gatewayYaml = gatewayYaml.replace(`/etc/lgsp-gateway-${dir}`, path.join(tmp, dir));
    }
    writeFileSync(path.join(tmp, 'config/gateway.yaml'), gatewayYaml);
    gateway = await spawnGateway(cli, env);
  });

  after(async () => {
    await gateway?.stop();
    await sandbox?.stop();
    await redis?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('a consumer call goes through the gateway to the sandbox with the injected NDXP token', async () => {
    const res = await request(`${gateway!.url}/dancu/1.0/xacThucThongTinCongDan`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ maYeuCau: 'compose-1', maCanBo: 'cb01', soDinhDanh: DEMO_IDS.nguyenVanMinh }),
    });
    expect(res.status, res.body.toString()).to.equal(200);
    expect(res.json()).to.include({ maYeuCau: 'compose-1', responseCode: '200' });
    expect(res.headers['ratelimit-limit']).to.equal('20');
    const denied = await request(`${gateway!.url}/dancu/1.0/xacThucThongTinCongDan`, {
      method: 'POST',
      headers: { 'x-api-key': 'wrong-key-0123456789abcdefgh' },
    });
    expect(denied.status).to.equal(401);
  });

  it('editing a route file in the mounted route directory reloads the running gateway', async () => {
    const url = `${gateway!.url}/molisa/api/v1/Service/GetToken`;
    const call = () =>
      request(url, {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'legacy', password: 'legacy' }),
      });
    expect((await call()).json()).to.include({ error_code: 0 });
    const routesFile = path.join(tmp, 'routes/molisa.yaml');
    const routes = readFileSync(routesFile, 'utf8');
    const reloaded = gateway!.waitForLines((l) => l.message === 'config reloaded', 1);
    writeFileSync(routesFile, routes.replace(/ {2}- id: molisa-get-token[\s\S]*?(?= {2}- id: molisa-dong-bo-dvc)/, ''));
    await reloaded;
    // The compatibility route is gone: the path is now unknown, answered in MOLISA's dialect.
    const after = await call();
    expect(after.status).to.equal(404);
    expect(after.json()).to.include({ error_code: 404, code: 'GW_ROUTE_NOT_FOUND' });
  });

  it("the seed's MOLISA DongBoDVC payload goes through the full mapping to the sandbox", async () => {
    const res = await request(`${gateway!.url}/molisa/api/v1/Service/DongBoDVC`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
      body: readFileSync(path.join(root, 'test/fixtures/molisa/DongBoDVC.seed.json')),
    });
    expect(res.json(), res.body.toString()).to.include({ error_code: 0 });
  });
});
