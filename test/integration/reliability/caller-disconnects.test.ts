import http from 'node:http';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { expect } from 'chai';
import { systemClock } from '../../../src/config/types.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { defaultFactories } from '../../../src/app/default-factories.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request } from '../../helpers/http.ts';
import { agentSockets, suspendNockDuring, until } from '../../helpers/reliability.ts';
import { withTestSchemas } from '../../helpers/test-schemas.ts';

/**
 * Fault matrix, caller side (issue 8): the caller goes away mid-upload or mid-download. Nothing may leak:
 * the upstream socket is closed or back in the pool (never stuck busy), the in-flight counter returns to
 * 0, and the next request works.
 */
describe('reliability: caller disconnects', function () {
  this.timeout(10_000);
  suspendNockDuring(this);
  let upstream: http.Server;
  let upstreamUrl: string;
  let gw: TestGateway;
  const upstreamClosed: Promise<void>[] = [];
  const auth = { 'x-api-key': CONSUMER_KEY };

  before(async () => {
    upstream = http.createServer((req, res) => {
      upstreamClosed.push(new Promise((r) => req.socket.once('close', () => r())));
      if (req.url?.endsWith('/endless')) {
        // Streams until the reader goes away, respecting back-pressure.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
        };
        res.on('drain', pump);
        pump();
        return;
      }
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end('{"error_code":0}');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
    const logger = createLogger({ silent: true });
    gw = await startGateway(
      {
        'gateway.yaml': 'version: 1\n',
        'upstreams.yaml': `upstreams:\n  up: { url: "${upstreamUrl}" }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
        'routes.yaml':
          'routes:\n  - { id: pass, methods: [GET, POST], path: /up/*, upstream: up, consumers: [mcdt] }\n' +
          '  - { id: checked, methods: [POST], path: /checked, upstream: up, consumers: [mcdt], request: { schema: dongbo.request.json } }\n',
      },
      {
        factories: withTestSchemas(
          defaultFactories({ configDir: '/nonexistent', env: {}, logger, clock: systemClock }),
        ),
      },
    );
  });
  after(async () => {
    await gw?.close();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  async function expectNothingLeaked() {
    await until(() => gw.gateway.reloader.current.inFlight === 0, 'in-flight back to 0');
    await until(() => agentSockets(gw.gateway.reloader.current, 'up').busy === 0, 'no busy upstream socket');
    const ok = await request(`${gw.url}/up/ok`, { headers: auth });
    expect(ok.status).to.equal(200);
  }

  /** Opens a raw request, sends `head` and some body bytes, then destroys the socket. */
  async function abortUpload(path: string, headers: string, part: Buffer) {
    const { port } = new URL(gw.url);
    const { createConnection } = await import('node:net');
    const socket: Socket = createConnection(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${CONSUMER_KEY}\r\n${headers}\r\n`);
    socket.write(part);
    // Wait until the gateway is really working on it (the request counted in flight), then vanish.
    await until(() => gw.gateway.reloader.current.inFlight > 0, 'request in flight');
    socket.destroy();
  }

  it('mid-upload on the streamed path (chunked): upstream socket released, in-flight back to 0', async () => {
    const chunk = Buffer.alloc(32 * 1024, 1);
    await abortUpload(
      '/up/upload',
      'Transfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n',
      Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]),
    );
    await expectNothingLeaked();
  });

  it('mid-upload on the streamed path (Content-Length): same', async () => {
    await abortUpload(
      '/up/upload',
      'Content-Length: 1000000\r\nContent-Type: application/octet-stream\r\n',
      Buffer.alloc(10_000, 2),
    );
    await expectNothingLeaked();
  });

  it('mid-upload on a buffered (schema-checked) route: nothing sent upstream, in-flight back to 0', async () => {
    const before = upstreamClosed.length;
    await abortUpload('/checked', 'Content-Length: 5000\r\nContent-Type: application/json\r\n', Buffer.from('[{"MaHo'));
    await expectNothingLeaked();
    expect(upstreamClosed.length).to.equal(before + 1); // only the follow-up /up/ok request
  });

  for (const method of ['GET', 'POST']) {
    it(`mid-download (${method}, endless upstream body): the upstream exchange is torn down, nothing leaks`, async () => {
      const before = upstreamClosed.length;
      await new Promise<void>((resolve, reject) => {
        // A GET carries no body (one is refused 400 since issue 13.1: docs/security.md, framing).
        const body = method === 'GET' ? undefined : '{}';
        const headers = body === undefined ? auth : { ...auth, 'content-length': '2' };
        const req = http.request(`${gw.url}/up/endless`, { method, headers });
        req.on('error', () => resolve());
        req.on('response', (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.once('timeout', () => reject(new Error('no data')));
        req.end(body);
      });
      await until(() => upstreamClosed.length > before, 'upstream saw the request');
      await upstreamClosed[before]; // the upstream's socket closes: the gateway did not keep pulling
      await expectNothingLeaked();
    });
  }
});
