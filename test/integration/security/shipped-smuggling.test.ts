import { expect } from 'chai';
import { rawExchange } from '../../helpers/raw-http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';
import { startShippedStack, type ShippedStack, type StartedSandbox } from '../../helpers/shipped-stack.ts';

/**
 * The two reproductions of issue 13.1 on the shipped config (config/) against the sandbox: a GET with a
 * chunked body that smuggled a POST past the route table, schema and audit. Both are refused in the
 * route's dialect and the simulated national system receives nothing.
 */
describe('security: the issue 13.1 reproductions on the shipped config', function () {
  this.timeout(20_000);
  suspendNockDuring(this);
  let stack: ShippedStack | undefined;
  let sandbox: StartedSandbox;
  let gw: string;
  const KEY = 'X-API-Key: lgsp-demo-mcdt-key-2026\r\n';

  before(async () => {
    stack = await startShippedStack({ auditPrefix: 'lgsp-smuggling-audit-' });
    ({ sandbox, url: gw } = stack);
  });
  after(() => stack?.close());

  const chunked = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n`;

  it('GET /hotich/3.0/danhMuc/quocTich smuggling POST /hotich/3.0/dangKyHoTich -> 400 (hotich dialect), nothing received', async () => {
    const before = sandbox.sandbox.received('hotich').length;
    const smuggled = 'POST /hotich/3.0/dangKyHoTich HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 330\r\n\r\n';
    const res = await rawExchange(gw, [
      `GET /hotich/3.0/danhMuc/quocTich HTTP/1.1\r\nHost: gw\r\n${KEY}Transfer-Encoding: chunked\r\n\r\n${chunked(smuggled)}`,
    ]);
    expect(res.responses[0]?.status).to.equal(400);
    expect(res.responses[0].json()).to.include({ status: '0' });
    expect(sandbox.sandbox.received('hotich').length).to.equal(before);
  });

  it('GET /vneid-idp/api/idp/third-party/userinfo smuggling POST /vneid-idp/api/internal/anything -> 400, nothing received', async () => {
    const before = sandbox.sandbox.received('vneid').length;
    const smuggled = 'POST /vneid/api/internal/anything HTTP/1.1\r\nHost: sandbox\r\nContent-Length: 330\r\n\r\n';
    const res = await rawExchange(gw, [
      `GET /vneid-idp/api/idp/third-party/userinfo HTTP/1.1\r\nHost: gw\r\n${KEY}Transfer-Encoding: chunked\r\n\r\n${chunked(smuggled)}`,
    ]);
    expect(res.responses[0]?.status).to.equal(400);
    expect(sandbox.sandbox.received('vneid').length).to.equal(before);
  });
});
