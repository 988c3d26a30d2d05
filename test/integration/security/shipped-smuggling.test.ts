import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createGateway, type Gateway } from '../../../src/app/gateway.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.ts';
import { rawExchange } from '../../helpers/raw-http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';
import { SHIPPED_CONFIG_DIR, shippedConfigEnv } from '../../helpers/shipped-config.ts';

/**
 * The two reproductions of issue 13.1 on the shipped config (config/) against the sandbox: a GET with a
 * chunked body that smuggled a POST past the route table, schema and audit. Both are refused in the
 * route's dialect and the simulated national system receives nothing.
 */
describe('security: the issue 13.1 reproductions on the shipped config', function () {
  this.timeout(20_000);
  suspendNockDuring(this);
  let sandbox: { url: string; sandbox: Sandbox; close(): Promise<void> };
  let gateway: Gateway;
  let gw: string;
  let auditDir: string;
  const KEY = 'X-API-Key: lgsp-demo-mcdt-key-2026\r\n';

  before(async () => {
    sandbox = await startSandbox({ port: 0, host: '127.0.0.1' });
    auditDir = mkdtempSync(path.join(tmpdir(), 'lgsp-smuggling-audit-'));
    gateway = await createGateway({
      configDir: SHIPPED_CONFIG_DIR,
      env: shippedConfigEnv(sandbox.url, auditDir),
      watch: false,
      logger: createLogger({ silent: true }),
    });
    gw = (await gateway.listen(0, '127.0.0.1')).url;
  });
  after(async () => {
    await gateway.close(1000);
    await sandbox.close();
    rmSync(auditDir, { recursive: true, force: true });
  });

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
