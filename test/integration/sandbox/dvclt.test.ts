import { expect } from 'chai';
import { startServer, type TestServer } from '../../helpers/http.ts';
import { basic, postForm, postJson, start, type Json, type Running } from './helpers.ts';

/**
 * The simulated PM DVCLT on its own (seed 003, connection No. 1): it sends B1 only to the province address
 * it was started with, counts a dossier as sent only when the province took it, and takes statuses through
 * VDXP only, for its own dossiers, in process order.
 */
describe('sandbox: PM DVCLT (linked services)', () => {
  let run: Running;
  let province: TestServer;
  let accept = true;
  let bearer: Record<string, string>;

  before(async () => {
    province = await startServer((_req, res) => {
      res.statusCode = accept ? 200 : 403;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ responseCode: accept ? '200' : '403' }));
    });
    run = await start({ dvclt: { province: () => ({ url: `${province.url}/b1`, apiKey: 'province-issued-key' }) } });
    const token = await postForm(
      `${run.url}/vdxp/token`,
      { grant_type: 'client_credentials' },
      { authorization: basic('sandbox-vdxp-key', 'sandbox-vdxp-secret') },
    );
    bearer = { authorization: `Bearer ${token.body.access_token as string}` };
  });
  after(async () => {
    await run.close();
    await province.close();
  });

  const update = (maHoSo: string, trangThai: number, extra: Json = {}) =>
    postJson(
      `${run.url}/vdxp/dvclt/capNhatTrangThaiHoSo`,
      { maHoSo, trangThai, thoiGian: '13/07/2024 09:00:00', noiDungXuLy: 'x', ...extra },
      bearer,
    );

  it('B1 goes to the configured province address with the key it issued', async () => {
    const sent = await postJson(`${run.url}/__sandbox/dvclt/dossiers`, { module: 'LTKS', maHoSo: 'LT-1' });
    expect(sent.status).to.equal(201);
    expect(sent.body).to.deep.include({ delivered: true });
    const request = province.requests.at(-1)!;
    expect(request.url).to.equal('/b1');
    expect(request.headers['x-api-key']).to.equal('province-issued-key');
    expect(JSON.parse(request.body.toString())).to.include({ maHoSo: 'LT-1', module: 'LTKS', maToKhai: '01' });
  });

  it('a dossier the province refused was never sent: no status is taken for it', async () => {
    accept = false;
    try {
      const sent = await postJson(`${run.url}/__sandbox/dvclt/dossiers`, { module: 'LTKT', maHoSo: 'LT-2' });
      expect(sent.status).to.equal(502);
    } finally {
      accept = true;
    }
    expect((await update('LT-2', 1)).status).to.equal(404);
  });

  it('takes the states in order; a result needs its certificate number; the end is the end', async () => {
    expect((await update('LT-1', 2)).status).to.equal(409);
    expect((await update('LT-1', 1)).status).to.equal(200);
    expect((await update('LT-1', 3)).status).to.equal(200);
    expect((await update('LT-1', 4)).status).to.equal(400);
    expect((await update('LT-1', 4, { ketQua: { soGiayTo: '12/2024' } })).status).to.equal(200);
    const after = await update('LT-1', 5);
    expect(after.status).to.equal(409);
    expect(after.body.responseMessage).to.contain('đã kết thúc');
  });

  it('refuses another unit, an unknown state and a malformed time', async () => {
    await postJson(`${run.url}/__sandbox/dvclt/dossiers`, { module: 'LTKS', maHoSo: 'LT-3', maDonVi: '00019' });
    expect((await update('LT-3', 1, { maDonVi: '07219' })).status).to.equal(400);
    expect((await update('LT-3', 7)).status).to.equal(400);
    expect((await update('LT-3', 1, { thoiGian: '2024-07-13 09:00' })).status).to.equal(400);
  });

  it("opens only to a VDXP token: none, or another platform's, is 401", async () => {
    const none = await postJson(`${run.url}/vdxp/dvclt/capNhatTrangThaiHoSo`, { maHoSo: 'LT-1' });
    expect(none.status).to.equal(401);
    const ndxp = await postForm(
      `${run.url}/ndxp/token`,
      { grant_type: 'client_credentials' },
      { authorization: basic('sandbox-ndxp-key', 'sandbox-ndxp-secret') },
    );
    const wrong = await postJson(
      `${run.url}/vdxp/dvclt/capNhatTrangThaiHoSo`,
      { maHoSo: 'LT-1' },
      { authorization: `Bearer ${ndxp.body.access_token as string}` },
    );
    expect(wrong.status).to.equal(401);
  });

  it('without a province address it sends nothing (a control call cannot name one)', async () => {
    const bare = await start();
    try {
      const res = await postJson(`${bare.url}/__sandbox/dvclt/dossiers`, { module: 'LTKS', url: province.url });
      expect(res.status).to.equal(409);
    } finally {
      await bare.close();
    }
  });
});
