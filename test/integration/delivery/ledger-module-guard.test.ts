import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { createGateway, type Gateway } from '../../../src/app/gateway.ts';
import { ConfigError } from '../../../src/config/config-error.ts';
import { openDeliveryStore } from '../../../src/delivery/open-store.ts';
import type { DeliveryStore } from '../../../src/delivery/store.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.ts';
import { newDelivery } from '../../helpers/deliveries.ts';
import { startGateway } from '../../helpers/gateway.ts';
import { request } from '../../helpers/http.ts';
import { CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { withOverrides } from '../../helpers/ops-delivery-store.ts';
import { SHIPPED_CONFIG_DIR, shippedConfigEnv } from '../../helpers/shipped-config.ts';

const MCDT = { 'x-api-key': 'lgsp-demo-mcdt-key-2026', 'content-type': 'application/json' };

/**
 * Issue 16 item 5.3, second half (seed 003, common error 2): a civil-status status query with another
 * module than its dossier's push is refused at the gateway, naming both modules, in the civil-status
 * dialect, before the call leaves. End to end on the shipped config: the push goes through the queued
 * `hotich-push` route, the delivery engine records it in the ledger (group hotich-dossier, key
 * maHoSoMCDT, operation = its module), the `hotich-status` guard reads it; the sandbox is the MOJ side.
 */
describe('civil-status status query: the module must be the one the dossier was pushed with (ledger-module guard)', function () {
  this.timeout(20_000);
  let sandbox: { url: string; sandbox: Sandbox; close(): Promise<void> };
  let gateway: Gateway;
  let gw: string;
  let auditDir: string;
  let store: DeliveryStore;
  let failing = false;
  const logs: string[] = [];
  const dossier = {
    module: 'LTKT',
    maHoSoMCDT: 'H08.37.80-240705-0099',
    maDonVi: '07219',
    data: JSON.stringify({ hoTen: 'Nguyễn Văn Tâm' }),
    ngayTiepNhan: '05/07/2024 08:30:00',
  };
  const post = (p: string, body: unknown) =>
    request(`${gw}${p}`, { method: 'POST', headers: MCDT, body: JSON.stringify(body) });
  const queries = () =>
    sandbox.sandbox.received('hotich').filter((r) => JSON.stringify(r).includes('maDinhDanhHoSo')).length;
  const query = (module: string, codes = [dossier.maHoSoMCDT]) =>
    post('/hotich/3.0/traTrangThaiHoSo', { maDinhDanhHoSo: codes, maTinh: '24', module });

  before(async () => {
    sandbox = await startSandbox({ port: 0, host: '127.0.0.1' });
    auditDir = mkdtempSync(path.join(tmpdir(), 'lgsp-guard-audit-'));
    const env = shippedConfigEnv(sandbox.url, auditDir);
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => logs.push(c.toString()));
    gateway = await createGateway({
      configDir: SHIPPED_CONFIG_DIR,
      env,
      watch: false,
      logger: createLogger({ stream }),
      // The shipped store, with a switch that makes the ledger look-up fail.
      openDeliveryStore: async (config, dir) => {
        store = await openDeliveryStore(config.delivery.store, { configDir: dir, env });
        return withOverrides(store, {
          latest: (group, key) => (failing ? Promise.reject(new Error('ledger down')) : store.latest(group, key)),
        });
      },
    });
    gw = (await gateway.listen(0, '127.0.0.1')).url;
    const push = await post('/hotich/3.0/dangKyHoTich', dossier);
    expect(push.json()).to.include({ status: '1' });
  });
  after(async () => {
    await gateway?.close(1000);
    await sandbox?.close();
    rmSync(auditDir, { recursive: true, force: true });
  });

  it('the engine recorded the push in the ledger: group hotich-dossier, the HMAC of maHoSoMCDT, module LTKT', async () => {
    const row = await store.latest('hotich-dossier', gateway.delivery!.orderKey('mcdt', dossier.maHoSoMCDT));
    expect(row).to.include({ state: 'delivered', operation: 'LTKT', routeId: 'hotich-push' });
    expect(row!.orderKey).to.not.include(dossier.maHoSoMCDT);
  });

  it('refuses a query with KT for a dossier pushed as LTKT, naming both, in the civil-status dialect; nothing is sent', async () => {
    const before = queries();
    const res = await query('KT');
    expect(res.status).to.equal(400);
    const body = res.json<{ status: string; errorCode: string; statusDescription: string }>();
    expect(body).to.include({ status: '0', errorCode: 'GW_PUSHED_MODULE_MISMATCH' });
    expect(body.statusDescription).to.include('LTKT').and.include('module KT').and.include(dossier.maHoSoMCDT);
    expect(queries()).to.equal(before);
  });

  it('lets the right module through (lower case too: the mapping normalises it) and the sandbox answers the dossier', async () => {
    const before = queries();
    for (const module of ['LTKT', ' ltkt ']) {
      const res = await query(module);
      expect(res.status).to.equal(200);
      expect(res.json<{ value: unknown[] }>().value).to.have.length(1);
    }
    expect(queries()).to.equal(before + 2);
  });

  it('refuses when any dossier of a multi-dossier query was pushed with another module', async () => {
    const res = await query('KT', ['UNKNOWN-1', dossier.maHoSoMCDT]);
    expect(res.json<{ errorCode: string }>().errorCode).to.equal('GW_PUSHED_MODULE_MISMATCH');
  });

  it('lets a query pass when the ledger has no standing push for the dossier: unknown, or a push that failed', async () => {
    const before = queries();
    expect((await query('KT', ['H08.37.80-240705-7777'])).status).to.equal(200);
    const code = 'H08.37.80-240705-8888';
    await store.record(
      newDelivery({
        routeId: 'hotich-push',
        upstreamId: 'hotich',
        routeGroup: 'hotich-dossier',
        orderKey: gateway.delivery!.orderKey('mcdt', code),
        consumerId: 'mcdt',
        operation: 'LTKS',
        mode: 'direct',
        createdAt: Date.now(),
      }),
      { at: Date.now(), status: 200, error: 'status 0', state: 'failed' },
    );
    expect((await query('KS', [code])).status).to.equal(200);
    expect(queries()).to.equal(before + 2);
  });

  it('a ledger that does not answer lets the query pass, with a warning', async () => {
    failing = true;
    try {
      const res = await query('KT');
      expect(res.status).to.equal(200);
      expect(logs.join('')).to.include('ledger-module guard: the delivery ledger did not answer');
    } finally {
      failing = false;
    }
  });
});

describe('route guards: checked at load', function () {
  this.timeout(10_000);
  const files = (guards: string, request = '') => ({
    'gateway.yaml': 'version: 1\n',
    'upstreams.yaml': `upstreams:\n  hotich: { url: "http://127.0.0.1:9" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
    'routes.yaml': `routes:\n  - { id: q, methods: [POST], path: /q, upstream: hotich, consumers: [mcdt]${request}, guards: ${guards} }\n`,
  });
  const fault = async (f: Record<string, string>) => {
    try {
      const gw = await startGateway(f);
      await gw.close();
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return (err as ConfigError).message;
    }
    throw new Error('the config loaded');
  };
  const mapped = ', request: { mapping: [{ op: trim, fields: [module] }] }';

  it('refuses an unknown guard, a missing option, and a guard on a route whose body is not mapped JSON', async () => {
    expect(await fault(files('[{ type: nope }]', mapped)))
      .to.include('routes[0].guards[0].type')
      .and.include('ledger-module');
    expect(await fault(files('[{ type: ledger-module, group: hotich }]', mapped))).to.include('dossierField');
    expect(await fault(files('[{ type: ledger-module, group: hotich, dossierField: a, typo: 1 }]', mapped))).to.include(
      'typo',
    );
    expect(await fault(files('[{ type: ledger-module, group: hotich, dossierField: a }]'))).to.include(
      'guards read the mapped JSON body',
    );
  });
});
