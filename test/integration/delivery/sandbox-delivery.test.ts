import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import type { Gateway } from '../../../src/app/gateway.ts';
import type { Delivery } from '../../../src/delivery/store.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { request } from '../../helpers/http.ts';
import { startShippedStack, type ShippedStack, type StartedSandbox } from '../../helpers/shipped-stack.ts';
import { registerWritten } from '../../helpers/written-registry.ts';

const MCDT = { 'x-api-key': 'lgsp-demo-mcdt-key-2026', 'content-type': 'application/json' };
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/molisa/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >[];
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * Issue 17 against the sandbox with the SHIPPED config (the MOLISA pushes and the civil-status push
 * queued, a real SQLite store): the sandbox's MOLISA and civil-status endpoints are made to fail and
 * recover with its fault switches (PUT /__sandbox/<system>/fault). The gateway runs on a clock the test
 * moves forward, so the shipped backoff (seconds to minutes), the circuit's cool-down and the maximum age
 * pass without waiting; the worker is woken after each move.
 */
describe('delivery against the sandbox, shipped config (issue 17)', function () {
  this.timeout(30000);
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  let stack: ShippedStack | undefined;
  let sandbox: StartedSandbox;
  let gateway: Gateway;
  let gw: string;
  const logLines: Record<string, unknown>[] = [];
  let serial = 0;

  before(async () => {
    const stream = new PassThrough();
    let raw = '';
    stream.on('data', (c: Buffer) => {
      raw += c.toString();
      for (const line of c.toString().split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
    });
    registerWritten('log of the sandbox delivery gateway', () => raw);
    stack = await startShippedStack({
      auditPrefix: 'lgsp-delivery-e2e-',
      gateway: { logger: createLogger({ stream, level: 'debug' }), clock },
    });
    ({ sandbox, gateway, url: gw } = stack);
  });
  after(() => stack?.close());
  afterEach(async () => {
    await recover('molisa');
    await recover('hotich');
  });

  const post = (p: string, body: unknown) =>
    request(`${gw}${p}`, { method: 'POST', headers: MCDT, body: JSON.stringify(body) });
  const fault = (system: string, mode: string, count?: number) =>
    request(`${sandbox.url}/__sandbox/${system}/fault`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode, count }),
    });
  const recover = (system: string) => request(`${sandbox.url}/__sandbox/${system}/fault`, { method: 'DELETE' });
  const received = (system: string) =>
    sandbox.sandbox.received(system) as {
      operation: string;
      deliveryId?: string | null;
      body: Record<string, unknown>[];
    }[];
  const store = () => gateway.delivery!.store;
  /** Moves the gateway's clock on and wakes the worker. */
  const advance = (ms: number) => {
    offset += ms;
    gateway.delivery!.wake();
  };
  /**
   * Waits for a row's state, moving the clock on by `step` between looks (the backoff passes): at most 200
   * moves. While an attempt is in flight the clock stays and the look repeats (up to 4,000 looks): on a
   * loaded machine an attempt may take longer than the 200 looks (1 s) that once bounded both together.
   */
  async function settle(id: string, state: Delivery['state'], step = 15 * MINUTE): Promise<Delivery> {
    for (let moves = 0, looks = 0; moves < 200 && looks < 4000; looks++) {
      const row = await store().get(id);
      if (row?.state === state) return row;
      if (row?.state !== 'in_flight') {
        advance(step);
        moves++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`delivery ${id} never became ${state}: ${(await store().get(id))?.state}`);
  }
  /** Waits until no attempt is in flight (bounded in looks, like settle). */
  async function noneInFlight(): Promise<void> {
    for (let looks = 0; looks < 4000; looks++) {
      if ((await store().counts()).inFlight === 0) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`attempts still in flight: ${(await store().counts()).inFlight}`);
  }
  /** A DongBoDVC record of a fresh dossier (the seed's first record, another MaHoSo). */
  const dossier = (): Record<string, unknown> => ({
    ...fixture('DongBoDVC.seed.json')[0],
    MaHoSo: `HS-E2E-${++serial}`,
  });

  it('MOLISA down → 202 "accepted for delivery" (error_code 202, never 0) → recovered → delivered once, with its delivery id', async () => {
    await fault('molisa', 'reset');
    const record = dossier();
    const reply = await post('/molisa/api/v1/Service/DongBoDVC', [record]);
    expect(reply.status).to.equal(202);
    const body = reply.json();
    expect(body).to.include({ error_code: 202, code: 'GW_DELIVERY_ACCEPTED' });
    const id = body.trackingId as string;
    expect((await store().get(id))!.state, 'stored, not delivered').to.be.oneOf(['queued', 'in_flight']);
    await recover('molisa');
    await settle(id, 'delivered');
    const got = received('molisa').filter((r) => r.operation === 'DongBoDVC' && r.body[0]?.MaHoSo === record.MaHoSo);
    expect(got).to.have.length(1);
    expect(got[0].deliveryId).to.equal(id);
  });

  it('MOLISA unavailable (503) three times: retried with backoff, the last error coded, then delivered', async () => {
    await fault('molisa', 'unavailable', 3);
    const reply = await post('/molisa/api/v1/Service/DongBoDVC', [dossier()]);
    expect(reply.status).to.equal(202);
    const id = reply.json().trackingId as string;
    const first = (await store().get(id))!;
    expect(first.lastError).to.match(/^HTTP 503/);
    expect(first.nextAttemptAt).to.be.at.most(clock.now() + 2000);
    const row = await settle(id, 'delivered', MINUTE);
    expect(row.attempts).to.equal(4);
  });

  it('MOLISA answering an error code (200 with error_code 5) refuses the push: relayed as MOLISA said it, not retried', async () => {
    await fault('molisa', 'busy', 1);
    const reply = await post('/molisa/api/v1/Service/DongBoDVC', [dossier()]);
    expect(reply.status).to.equal(200);
    expect(reply.json().error_code).to.equal(5);
    const id = String(reply.headers['x-lgsp-delivery-id']);
    const row = (await store().get(id))!;
    expect(row.state).to.equal('dead');
    expect(row.attempts).to.equal(1);
    expect(row.lastError).to.equal('HTTP 200 error_code=5');
  });

  it('the circuit opens after 5 failures in a row (the sandbox is not called), and one push probes it after the cool-down', async () => {
    await fault('molisa', 'unavailable');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await post('/molisa/api/v1/Service/DongBoDVC', [dossier()])).json().trackingId as string);
    expect(gateway.delivery!.circuits().molisa).to.equal('open');
    await noneInFlight(); // an attempt under way would reach the side after `before` is taken
    const before = received('molisa').length;
    const held = await post('/molisa/api/v1/Service/DongBoDVC', [dossier()]);
    expect(held.status).to.equal(202);
    ids.push(held.json().trackingId as string);
    expect(received('molisa').length, 'open circuit: stored, not sent').to.equal(before);
    await recover('molisa');
    for (const id of ids) await settle(id, 'delivered', MINUTE);
    expect(gateway.delivery!.circuits().molisa).to.equal('closed');
    expect(logLines.some((l) => l.message === 'delivery: circuit opened' && l.upstream === 'molisa')).to.equal(true);
  });

  it('dead letter after the maximum age: one clear log line, no citizen data', async () => {
    await fault('molisa', 'reset');
    const record = dossier();
    const id = (await post('/molisa/api/v1/Service/DongBoDVC', [record])).json().trackingId as string;
    advance(8 * DAY);
    await settle(id, 'dead', DAY);
    const dead = logLines.filter(
      (l) => l.message === 'delivery dead: moved to the dead letter, not retried again' && l.deliveryId === id,
    );
    expect(dead).to.have.length(1);
    expect(dead[0]).to.include({ route: 'molisa-dong-bo-dvc', upstream: 'molisa' });
    expect(JSON.stringify(logLines)).to.not.include(String(record.CMND));
  });

  it('order kept per dossier: XuLyHoSo waits for its DongBoDVC (one group), and arrives after it', async () => {
    await fault('molisa', 'reset');
    const record = dossier();
    const processing = { ...fixture('XuLyHoSo.seed.json')[0], MaHoSo: record.MaHoSo };
    const a = await post('/molisa/api/v1/Service/DongBoDVC', [record]);
    const b = await post('/molisa/api/v1/Service/XuLyHoSo', [processing]);
    const ids = [a, b].map((r) => r.json().trackingId as string);
    expect((await store().get(ids[1]))!.attempts, 'never tried before the DongBoDVC').to.equal(0);
    await recover('molisa');
    for (const id of ids) await settle(id, 'delivered');
    const order = received('molisa')
      .filter((r) => r.body[0]?.MaHoSo === record.MaHoSo)
      .map((r) => r.operation);
    expect(order).to.deep.equal(['DongBoDVC', 'XuLyHoSo']);
  });

  it('the same push twice is delivered once; a changed payload for the dossier is delivered after it', async () => {
    const record = dossier();
    const first = await post('/molisa/api/v1/Service/DongBoDVC', [record]);
    expect(first.json()).to.include({ error_code: 0 });
    const again = await post('/molisa/api/v1/Service/DongBoDVC', [record]);
    expect(again.status).to.equal(202);
    expect(again.json()).to.include({ code: 'GW_DELIVERY_DUPLICATE', deliveryState: 'delivered' });
    const changed = await post('/molisa/api/v1/Service/DongBoDVC', [{ ...record, SoDienThoai: '0912000111' }]);
    expect(changed.json()).to.include({ error_code: 0 });
    const got = received('molisa').filter((r) => r.body[0]?.MaHoSo === record.MaHoSo);
    expect(got.map((r) => r.body[0].SoDienThoai ?? null)).to.deep.equal([record.SoDienThoai ?? null, '0912000111']);
  });

  it('a token rejected during delivery (MOLISA error_code 2) is refreshed and the push replayed: the caller gets error_code 0', async () => {
    await post('/molisa/api/v1/Service/DongBoDVC', [dossier()]); // a token is cached
    const revoked = await request(`${sandbox.url}/__sandbox/molisa/tokens/revoke`, { method: 'POST' });
    expect(revoked.json<{ revoked: number }>().revoked).to.be.greaterThan(0);
    offset += 5000; // past the token source's minimum interval between refreshes
    const record = dossier();
    const reply = await post('/molisa/api/v1/Service/DongBoDVC', [record]);
    expect(reply.json()).to.include({ error_code: 0 });
    const tries = received('molisa').filter((r) => r.body?.[0]?.MaHoSo === record.MaHoSo);
    expect(
      tries.map((r) => (r as unknown as { response: { body: { error_code: number } } }).response.body.error_code),
    ).to.deep.equal([2, 0]);
    expect(new Set(tries.map((r) => r.deliveryId)).size, 'both tries carry the same delivery id').to.equal(1);
  });

  it('civil status down → 202 in its dialect (status "0", never "1") → recovered → delivered; the ledger keeps the module', async () => {
    const push = {
      module: 'LTKT',
      maHoSoMCDT: `H08.37.80-240705-${String(++serial).padStart(4, '0')}`,
      maDonVi: '07219',
      data: JSON.stringify({ hoTen: 'Nguyễn Văn Tâm' }),
      ngayTiepNhan: '05/07/2024 08:30:00',
    };
    await fault('hotich', 'unavailable');
    const reply = await post('/hotich/3.0/dangKyHoTich', push);
    expect(reply.status).to.equal(202);
    expect(reply.json()).to.include({ status: '0', errorCode: 'GW_DELIVERY_ACCEPTED' });
    const id = reply.json().trackingId as string;
    await recover('hotich');
    const row = await settle(id, 'delivered');
    expect(row.operation).to.equal('LTKT');
    expect(row.routeGroup).to.equal('hotich-dossier');
    const got = received('hotich').filter(
      (r) => (r.body as unknown as { maHoSoMCDT: string }).maHoSoMCDT === push.maHoSoMCDT,
    );
    expect(got).to.have.length(1);
  });
});
