import { createHash, generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../../../src/config/config-error.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { systemClock } from '../../../src/config/types.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { defaultFactories, gatewayLoadOptions } from '../../../src/app/default-factories.ts';
import { buildRuntime, closeRuntime } from '../../../src/runtime/runtime.ts';

const root = new URL('../../../', import.meta.url).pathname;
const SANDBOX = path.join(root, 'config');
const PRODUCTION = path.join(root, 'deploy/config-production');

/** Every variable the production config needs; a test removes one at a time. */
function productionEnv(dir: string): Record<string, string> {
  const key = path.join(dir, 'signing.pem');
  writeFileSync(
    key,
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  const env: Record<string, string> = {
    LGSP_ADMIN_KEY: 'admin-key-0123456789abcdef0123',
    LGSP_TOKEN_SIGNING_KEY_FILE: key,
    LGSP_REDIS_URL: 'redis://127.0.0.1:1',
    LGSP_AUDIT_HMAC_KEY: 'x'.repeat(40),
    LGSP_AUDIT_DIR: path.join(dir, 'audit'),
  };
  for (const id of ['MCDT', 'DVC', 'HOTICH_INBOUND', 'MOLISA_INBOUND', 'DVCLT_INBOUND', 'VNEID_INBOUND', 'CSDLCN'])
    env[`LGSP_${id}_KEY_SHA256`] = createHash('sha256').update(id).digest('hex');
  for (const id of [
    'NDXP',
    'VDXP',
    'VNEID',
    'VNEID_SSO',
    'VNEID_IDP',
    'HOTICH',
    'MOLISA',
    'DVCLT',
    'MCDT',
    'DVC',
    'CSDLCN',
  ]) {
    env[`UPSTREAM_${id}_URL`] = `https://${id.toLowerCase()}.example.gov.vn/api`;
  }
  for (const id of ['NDXP', 'VDXP', 'VNEID', 'HOTICH', 'MOLISA'])
    env[`UPSTREAM_${id}_TOKEN_URL`] = `https://${id.toLowerCase()}.example.gov.vn/token`;
  for (const id of ['NDXP', 'VDXP', 'VNEID', 'HOTICH']) {
    env[`UPSTREAM_${id}_CONSUMER_KEY`] = `${id}-key`;
    env[`UPSTREAM_${id}_CONSUMER_SECRET`] = `${id}-secret`;
  }
  Object.assign(env, {
    UPSTREAM_VNEID_SSO_CLIENT_ID: 'client',
    UPSTREAM_VNEID_SSO_CLIENT_SECRET: 'secret',
    UPSTREAM_MOLISA_USERNAME: 'user',
    UPSTREAM_MOLISA_PASSWORD: 'password',
    UPSTREAM_VNEID_JWKS_URL: 'https://vneid.example.gov.vn/.well-known/jwks.json',
  });
  return env;
}

async function build(dir: string, env: Record<string, string>) {
  const logger = createLogger({ silent: true });
  const loaded = loadConfig(dir, gatewayLoadOptions(env));
  const factories = defaultFactories({ configDir: dir, env, logger, clock: systemClock });
  try {
    const runtime = await buildRuntime(loaded, { factories, logger, clock: systemClock });
    await closeRuntime(runtime);
    return runtime;
  } finally {
    factories.tokenCache.close();
  }
}

describe('shipped configurations', () => {
  let tmp: string;
  before(() => (tmp = mkdtempSync(path.join(tmpdir(), 'lgsp-env-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('the sandbox config (config/) builds with no environment at all', async () => {
    const runtime = await build(SANDBOX, { LGSP_AUDIT_DIR: path.join(tmp, 'audit-sandbox') });
    expect(runtime.config.environment).to.equal('sandbox');
    expect(runtime.routeList.length).to.be.greaterThan(20);
  });

  it('the production config builds from the environment, with the same route table as the sandbox', async () => {
    const production = await build(PRODUCTION, productionEnv(tmp));
    const sandbox = await build(SANDBOX, { LGSP_AUDIT_DIR: path.join(tmp, 'audit-sandbox') });
    expect(production.config.environment).to.equal('production');
    expect(production.config.sandbox.enabled).to.equal(false);
    expect(production.routeList.map((r) => r.id)).to.deep.equal(sandbox.routeList.map((r) => r.id));
    expect(production.upstreams.get('ndxp')!.url.href).to.equal('https://ndxp.example.gov.vn/api');
  });

  it('the production config mounted alone (copied away from the checkout) builds the same route table', async () => {
    const mounted = path.join(tmp, 'etc-lgsp-gateway');
    cpSync(PRODUCTION, mounted, { recursive: true });
    const production = await build(mounted, productionEnv(tmp));
    const sandbox = await build(SANDBOX, { LGSP_AUDIT_DIR: path.join(tmp, 'audit-sandbox') });
    expect(production.routeList.map((r) => r.id)).to.deep.equal(sandbox.routeList.map((r) => r.id));
    expect(
      readdirSync(mounted).filter((f) => !f.endsWith('.yaml')),
      'nothing but YAML files to mount',
    ).to.deep.equal([]);
  });

  for (const missing of [
    'UPSTREAM_NDXP_CONSUMER_SECRET',
    'UPSTREAM_MOLISA_URL',
    'LGSP_ADMIN_KEY',
    'LGSP_REDIS_URL',
    'LGSP_MCDT_KEY_SHA256',
  ]) {
    it(`the production config refuses to load without ${missing}, and names it`, async () => {
      const env = productionEnv(tmp);
      delete env[missing];
      let error: unknown;
      try {
        await build(PRODUCTION, env);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.contain(missing);
    });
  }

  it('the sandbox demo keys are refused in production', async () => {
    const dir = mkdtempSync(path.join(tmp, 'prod-demo-'));
    writeFileSync(
      path.join(dir, 'gateway.yaml'),
      'version: 1\nenvironment: production\naudit: { enabled: false }\nconsumers:\n  mcdt: { apiKeys: [{ env: LGSP_DEMO_API_KEY, sandboxDefault: lgsp-demo-mcdt-key-2026 }] }\n',
    );
    let error: unknown;
    try {
      await build(dir, {});
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.contain('LGSP_DEMO_API_KEY');
  });
});
