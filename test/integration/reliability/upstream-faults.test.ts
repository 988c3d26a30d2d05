import http from 'node:http';
import type { Socket } from 'node:net';
import { expect } from 'chai';
import { systemClock } from '../../../src/config/types.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { defaultFactories } from '../../../src/app/default-factories.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { freePort, request, startServer, type TestServer } from '../../helpers/http.ts';
import { agentSockets, dialectChecks, dialectNames, requestMayAbort, until } from '../../helpers/reliability.ts';
import { withTestSchemas } from '../../helpers/test-schemas.ts';

/**
 * Fault matrix, upstream side (issue 8): a loopback upstream misbehaves on purpose, chosen per request by
 * the `x-fault` header (the gateway forwards it). For each fault: the caller gets the right status in the
 * route's dialect naming the failing upstream, the gateway stays up, and the next normal request on the
 * same upstream (same agent, same pool) succeeds.
 */
const RESPONSE_MS = 150;

const faults: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
  'reset-before-headers': (req) => req.socket.destroy(),
  'reset-mid-json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"error_code":0,');
    res.once('close', () => undefined);
    setImmediate(() => res.socket?.destroy());
  },
  'reset-mid-stream': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000000' });
    res.write(Buffer.alloc(64 * 1024, 1), () => res.socket?.destroy());
  },
  'stall-after-headers-json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.flushHeaders();
  },
  'stall-after-headers-stream': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000000' });
    res.write(Buffer.alloc(1024, 1));
  },
  // A body that trickles: one byte, then a pause three times the idle timeout, then another byte...
  'slow-body': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{');
    const t = setInterval(() => res.write(' '), RESPONSE_MS * 3);
    res.once('close', () => clearInterval(t));
  },
  'status-500': (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json', 'x-upstream-trace': 't-500' });
    res.end('{"error_code":500,"message":"Lỗi hệ thống MOLISA"}');
  },
  'status-503': (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '120' });
    res.end('bảo trì hệ thống');
  },
  'invalid-json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"error_code": 0, "message": "ok"');
  },
  'html-instead-of-json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body>502 Bad Gateway (nginx)</body></html>');
  },
};

describe('reliability: upstream fault matrix', function () {
  this.timeout(10_000);
  let chaos: TestServer;
  let gw: TestGateway;
  let refusedPort: number;
  const upstreamSockets = new Set<Socket>();
  const auth = { 'x-api-key': CONSUMER_KEY };

  before(async () => {
    refusedPort = await freePort();
    chaos = await startServer((req, res, body) => {
      const fault = faults[String(req.headers['x-fault'])];
      if (fault) return fault(req, res);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error_code: 0, message: 'ok', method: req.method, length: body.length }));
    });
    chaos.server.on('connection', (s: Socket) => {
      upstreamSockets.add(s);
      s.once('close', () => upstreamSockets.delete(s));
    });
    const upstreams = dialectNames
      .map(
        (d, i) =>
          `  chaos${i}: { url: "${chaos.url}", errorDialect: "${d}", timeouts: { connectMs: 1000, responseMs: ${RESPONSE_MS} } }\n` +
          `  refused${i}: { url: "http://127.0.0.1:${refusedPort}", errorDialect: "${d}" }\n`,
      )
      .join('');
    const routes = dialectNames
      .map(
        (_d, i) =>
          `  - { id: chaos${i}, methods: [GET, POST, PUT], path: /chaos${i}/*, upstream: chaos${i}, consumers: [mcdt] }\n` +
          `  - { id: refused${i}, methods: [GET, POST], path: /refused${i}/*, upstream: refused${i}, consumers: [mcdt] }\n` +
          `  - id: checked${i}\n    methods: [GET, POST]\n    path: /checked${i}/*\n    upstream: chaos${i}\n    upstreamPath: /checked/*\n    consumers: [mcdt]\n    response: { schema: molisa.response.json, mode: enforce }\n`,
      )
      .join('');
    const logger = createLogger({ silent: true });
    gw = await startGateway(
      {
        'gateway.yaml': 'version: 1\n',
        'upstreams.yaml': `upstreams:\n${upstreams}consumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
        'routes.yaml': `routes:\n${routes}`,
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
    await chaos?.close();
  });

  /** The next normal request on the same upstream and route succeeds, and nothing is left in flight. */
  async function expectRecovered(i: number, method = 'GET') {
    const ok = await request(`${gw.url}/chaos${i}/after`, {
      method,
      headers: auth,
      body: method === 'GET' ? undefined : '{"x":1}',
    });
    expect(ok.status, ok.body.toString()).to.equal(200);
    await until(() => gw.gateway.reloader.current.inFlight === 0, 'in-flight back to 0');
    expect((await request(`${gw.url}/healthz`)).status).to.equal(200);
  }

  function expectGatewayError(
    res: { status: number; body: Buffer; headers: http.IncomingHttpHeaders },
    i: number,
    status: number,
    code: string,
    names: string,
  ) {
    expect(res.status, res.body.toString()).to.equal(status);
    const body = JSON.parse(res.body.toString()) as Record<string, unknown>;
    expect(JSON.stringify(body)).to.contain(code);
    dialectChecks[dialectNames[i]](body, status, names);
    expect(res.body.toString(), 'the body carries the request id').to.contain(String(res.headers['x-request-id']));
  }

  dialectNames.forEach((dialect, i) => {
    describe(`dialect ${dialect}`, () => {
      for (const method of ['GET', 'POST']) {
        const body = method === 'POST' ? 'payload' : undefined;
        /** The call on which the chaos upstream plays `fault`; `route` defaults to the streamed one. */
        const withFault = (fault: string, route = 'chaos') =>
          requestMayAbort(`${gw.url}/${route}${i}/x`, { method, headers: { ...auth, 'x-fault': fault }, body });
        // GET goes to the route with a response schema: its answer is read whole before anything is
        // relayed, so a failure is still reportable. Pass-through answers stream.
        const buffered = method === 'GET' ? 'checked' : 'chaos';
        it(`${method}: connection refused -> 502 GW_UPSTREAM_CONNECT_FAILED naming the upstream`, async () => {
          const res = await request(`${gw.url}/refused${i}/x`, { method, headers: auth, body });
          expectGatewayError(res, i, 502, 'GW_UPSTREAM_CONNECT_FAILED', `refused${i}`);
          await expectRecovered(i, method);
        });

        it(`${method}: reset before the response head -> 502 GW_UPSTREAM_RESET`, async () => {
          const res = await request(`${gw.url}/chaos${i}/x`, {
            method: method === 'GET' ? 'POST' : method, // a GET would be retried once on a fresh socket
            headers: { ...auth, 'x-fault': 'reset-before-headers' },
            body: body ?? 'x',
          });
          expectGatewayError(res, i, 502, 'GW_UPSTREAM_RESET', `chaos${i}`);
          await expectRecovered(i, method);
        });

        it(`${method}: reset in the middle of a JSON body -> 502 GW_UPSTREAM_RESET (buffered) or a cut response (streamed)`, async () => {
          const res = await withFault('reset-mid-json', buffered);
          if (method === 'GET') {
            expect(res.status).to.equal(502);
            expect(res.body.toString()).to.contain('GW_UPSTREAM_RESET').and.contain(`chaos${i}`);
          } else {
            // The streamed path relayed the head already: the only honest signal left is a cut response.
            expect(res.complete).to.equal(false);
          }
          await expectRecovered(i, method);
        });

        it(`${method}: reset in the middle of a streamed body -> the caller's response is cut, not completed`, async () => {
          const res = await withFault('reset-mid-stream');
          expect(res.status).to.equal(200);
          expect(res.complete).to.equal(false);
          expect(res.body.length).to.be.below(1_000_000);
          await expectRecovered(i, method);
        });

        it(`${method}: headers then silence -> the idle timeout (responseMs) cuts it`, async () => {
          const res = await withFault('stall-after-headers-json', buffered);
          if (method === 'GET') {
            expect(res.status).to.equal(504);
            expect(res.body.toString()).to.contain('GW_UPSTREAM_TIMEOUT').and.contain(`chaos${i}`);
          } else expect(res.complete).to.equal(false);
          const streamed = await withFault('stall-after-headers-stream');
          expect(streamed.status).to.equal(200);
          expect(streamed.complete).to.equal(false);
          await expectRecovered(i, method);
        });

        it(`${method}: a body slower than the idle timeout -> cut (504 when still reportable)`, async () => {
          const res = await withFault('slow-body', buffered);
          if (method === 'GET') {
            expect(res.status).to.equal(504);
            expect(res.body.toString()).to.contain('GW_UPSTREAM_TIMEOUT');
          } else expect(res.complete).to.equal(false);
          await expectRecovered(i, method);
        });

        it(`${method}: upstream 500 and 503 pass through unchanged`, async () => {
          for (const [fault, status, text, header, value] of [
            ['status-500', 500, '{"error_code":500,"message":"Lỗi hệ thống MOLISA"}', 'x-upstream-trace', 't-500'],
            ['status-503', 503, 'bảo trì hệ thống', 'retry-after', '120'],
          ] as const) {
            const res = await request(`${gw.url}/chaos${i}/x`, {
              method,
              headers: { ...auth, 'x-fault': fault },
              body,
            });
            expect(res.status).to.equal(status);
            expect(res.body.toString()).to.equal(text);
            expect(res.headers[header]).to.equal(value);
          }
          await expectRecovered(i, method);
        });
      }

      it('invalid JSON or HTML on a route with a response schema (enforce) -> 502 GW_UPSTREAM_BAD_RESPONSE', async () => {
        for (const fault of ['invalid-json', 'html-instead-of-json']) {
          const res = await request(`${gw.url}/checked${i}/x`, { headers: { ...auth, 'x-fault': fault } });
          expectGatewayError(res, i, 502, 'GW_UPSTREAM_BAD_RESPONSE', `chaos${i}`);
        }
        const ok = await request(`${gw.url}/checked${i}/x`, { headers: auth });
        expect(ok.status).to.equal(200);
        expect(ok.json()).to.include({ error_code: 0 });
      });
    });
  });

  describe('pooled keep-alive sockets the upstream closed', () => {
    let closer: TestServer;
    let killer: TestServer;
    let killed = 0;
    before(async () => {
      // Closes every connection right after each answer, without saying so (no `Connection: close`).
      closer = await startServer((_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}', () => res.socket?.end());
      });
      // The race made certain: a second request on a kept-alive socket finds it dead (reset, no answer),
      // as when the upstream's idle timeout closes the socket just as the gateway reuses it.
      killer = await startServer((req, res) => {
        const s = req.socket as Socket & { served?: number };
        s.served = (s.served ?? 0) + 1;
        if (s.served > 1) {
          killed++;
          s.resetAndDestroy();
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
      gw.write(
        'more-upstreams.yaml',
        `upstreams:\n  closer: { url: "${closer.url}" }\n  killer: { url: "${killer.url}" }\nroutes:\n` +
          '  - { id: closer, methods: [GET, PUT, POST, DELETE], path: /closer/*, upstream: closer, consumers: [mcdt] }\n' +
          '  - { id: killer, methods: [GET, PUT, POST, DELETE], path: /killer/*, upstream: killer, consumers: [mcdt] }\n',
      );
      expect((await gw.gateway.reloader.reload('test')).result).to.equal('success');
    });
    after(async () => {
      await closer?.close();
      await killer?.close();
    });

    it('no request fails when the upstream closes every socket after answering (GET, PUT, POST, DELETE)', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let n = 0; n < 40; n++) {
          const method = ['GET', 'PUT', 'POST', 'DELETE'][n % 4];
          const res = await request(`${gw.url}/closer/x${n}`, {
            method,
            headers: auth,
            body: method === 'PUT' || method === 'POST' ? `{"n":${n}}` : undefined,
            agent,
          });
          expect(res.status, `${method} #${n}: ${res.body.toString()}`).to.equal(200);
        }
      } finally {
        agent.destroy();
      }
    });

    it('an idempotent request that meets a dead pooled socket is retried once on a fresh one (GET, DELETE, PUT without body)', async () => {
      const before = killed;
      for (let n = 0; n < 12; n++) {
        const method = ['GET', 'DELETE', 'PUT'][n % 3];
        const res = await request(`${gw.url}/killer/x${n}`, { method, headers: auth });
        expect(res.status, `${method} #${n}: ${res.body.toString()}`).to.equal(200);
      }
      expect(killed - before, 'the dead socket was really met').to.be.at.least(10);
      const sockets = agentSockets(gw.gateway.reloader.current, 'killer');
      expect(sockets.busy).to.equal(0);
    });

    it('a POST that meets a dead pooled socket is not replayed (it may have been processed): 502 naming the upstream', async () => {
      // Prime a pooled socket, then POST on it.
      expect((await request(`${gw.url}/killer/prime`, { headers: auth })).status).to.equal(200);
      const res = await request(`${gw.url}/killer/post`, { method: 'POST', headers: auth, body: '{"a":1}' });
      expect(res.status).to.equal(502);
      expect(res.json()).to.include({ code: 'GW_UPSTREAM_RESET', upstream: 'killer' });
      expect((await request(`${gw.url}/killer/after`, { headers: auth })).status).to.equal(200);
    });
  });

  describe('after the whole matrix', () => {
    it('the gateway is still up and holds no busy upstream socket after the whole matrix', async () => {
      await until(() => gw.gateway.reloader.current.inFlight === 0, 'in-flight back to 0');
      for (let i = 0; i < dialectNames.length; i++) {
        await until(() => agentSockets(gw.gateway.reloader.current, `chaos${i}`).busy === 0, `chaos${i} sockets idle`);
      }
      expect((await request(`${gw.url}/healthz`)).status).to.equal(200);
    });
  });
});
