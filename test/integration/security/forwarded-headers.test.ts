import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { rawExchange, startCapturingUpstream, type CapturingUpstream } from '../../helpers/raw-http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';

/**
 * Routing-override and identity headers (issue 13.3). An upstream stack that honours X-Original-URL or a
 * method override would let a caller past the route's path and method checks; one that trusts
 * X-Real-IP, Forwarded or the leftmost X-Forwarded-For entry would believe whatever the caller wrote.
 * The gateway drops the first kind unless a route allows one by name, and rebuilds the second from the
 * trusted-proxy chain (`auth.trustedProxies`).
 */
describe('security: forwarded and routing-override headers', function () {
  this.timeout(15_000);
  suspendNockDuring(this);
  let up: CapturingUpstream;
  let gw: TestGateway;
  let behindProxy: TestGateway;
  const A = `X-API-Key: ${CONSUMER_KEY}\r\n`;

  const files = (extra = '') => ({
    'gateway.yaml': `version: 1\n${extra}`,
    'upstreams.yaml': `upstreams:\n  up: { url: "${up.url}" }\nconsumers:\n  a: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
    'routes.yaml': `routes:
  - { id: plain, methods: [GET, POST], path: /up/plain/*, upstream: up, consumers: [a] }
  - { id: legacy, methods: [POST], path: /up/legacy/*, upstream: up, consumers: [a], forwardHeaders: [X-HTTP-Method-Override] }
`,
  });

  before(async () => {
    up = await startCapturingUpstream();
    gw = await startGateway(files());
    behindProxy = await startGateway(files('auth: { trustedProxies: [127.0.0.1, 10.0.0.0/8] }\n'));
  });
  after(async () => {
    await gw.close();
    await behindProxy.close();
    await up.close();
  });

  const send = async (g: TestGateway, path: string, headers: string, method = 'GET') => {
    const before = up.requests().length;
    const res = await rawExchange(g.url, [`${method} ${path} HTTP/1.1\r\nHost: gw.example\r\n${A}${headers}\r\n`]);
    expect(res.responses[0]?.status).to.equal(200);
    const seen = up.requests().slice(before);
    expect(seen).to.have.length(1);
    return seen[0];
  };

  const hostile = [
    'X-Original-URL: /b/internal',
    'X-Rewrite-URL: /b/internal',
    'X-Original-URI: /b/internal',
    'X-Override-URL: /b/internal',
    'X-HTTP-Method-Override: DELETE',
    'X-HTTP-Method: DELETE',
    'X-Method-Override: DELETE',
    'X-Real-IP: 10.9.9.9',
    'X-Client-IP: 10.9.9.9',
    'True-Client-IP: 10.9.9.9',
    'X-Cluster-Client-IP: 10.9.9.9',
    'Client-IP: 10.9.9.9',
    'Forwarded: for=10.9.9.9;host=evil.example;proto=https',
    'X-Forwarded-For: 10.9.9.9',
    'X-Forwarded-Host: evil.example',
    'X-Forwarded-Proto: https',
    'X-Forwarded-Port: 443',
    'X-Forwarded-Prefix: /admin',
    'X-Forwarded-Server: evil.example',
  ];

  it('drops every routing-override header and every forwarding claim of the caller', async () => {
    const seen = await send(gw, '/up/plain/x', hostile.map((h) => `${h}\r\n`).join(''));
    expect(seen.target).to.equal('/plain/x');
    for (const line of hostile) {
      const name = line.slice(0, line.indexOf(':')).toLowerCase();
      const value = line.slice(line.indexOf(':') + 1).trim();
      const got = seen.lines.filter(([n]) => n === name).map(([, v]) => v);
      for (const v of got) expect(v, name).not.to.contain(value);
    }
    expect(JSON.stringify(seen.headers)).not.to.match(/10\.9\.9\.9|evil\.example|\/b\/internal|DELETE/);
  });

  it("rebuilds X-Forwarded-For, Forwarded, X-Forwarded-Proto and -Host from the gateway's own view", async () => {
    const seen = await send(gw, '/up/plain/y', 'X-Forwarded-For: 10.9.9.9, 10.8.8.8\r\n');
    expect(seen.headers['x-forwarded-for']).to.equal('127.0.0.1');
    expect(seen.headers.forwarded).to.equal('for=127.0.0.1;proto=http;host="gw.example"');
    expect(seen.headers['x-forwarded-proto']).to.equal('http');
    expect(seen.headers['x-forwarded-host']).to.equal('gw.example');
    expect(seen.lines.filter(([n]) => n === 'x-forwarded-for')).to.have.length(1);
  });

  it('a route lets one routing-override header through by name (forwardHeaders), and only that one', async () => {
    const seen = await send(
      gw,
      '/up/legacy/z',
      'X-HTTP-Method-Override: PUT\r\nX-Original-URL: /b/internal\r\nContent-Length: 0\r\n',
      'POST',
    );
    expect(seen.headers['x-http-method-override']).to.equal('PUT');
    expect(seen.headers).not.to.have.property('x-original-url');
  });

  it('forwardHeaders naming a header that is no routing-override header is a config error at load', async () => {
    const bad = files();
    bad['routes.yaml'] =
      'routes:\n  - { id: bad, methods: [GET], path: /up/x, upstream: up, consumers: [a], forwardHeaders: [Authorization] }\n';
    let error: unknown;
    try {
      const g = await startGateway(bad);
      await g.close();
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/forwardHeaders/);
    expect(String(error)).to.match(/Authorization/);
  });

  describe('behind a trusted proxy (auth.trustedProxies: [127.0.0.1, 10.0.0.0/8])', () => {
    it("keeps the proxies' entries up to the client, drops what the client wrote left of itself", async () => {
      const seen = await send(behindProxy, '/up/plain/p', 'X-Forwarded-For: 6.6.6.6, 203.0.113.9, 10.1.1.1\r\n');
      expect(seen.headers['x-forwarded-for']).to.equal('203.0.113.9, 10.1.1.1, 127.0.0.1');
      expect(seen.headers.forwarded).to.equal(
        'for=203.0.113.9, for=10.1.1.1, for=127.0.0.1;proto=http;host="gw.example"',
      );
    });

    it('stops at garbage in the chain: nothing left of it is believed', async () => {
      const seen = await send(behindProxy, '/up/plain/g', 'X-Forwarded-For: 203.0.113.9, not-an-ip, 10.1.1.1\r\n');
      expect(seen.headers['x-forwarded-for']).to.equal('10.1.1.1, 127.0.0.1');
    });

    it('IPv6 clients are written as RFC 7239 asks ("[addr]")', async () => {
      const seen = await send(behindProxy, '/up/plain/v6', 'X-Forwarded-For: 2001:db8::7\r\n');
      expect(seen.headers['x-forwarded-for']).to.equal('2001:db8::7, 127.0.0.1');
      expect(seen.headers.forwarded).to.match(/^for="\[2001:db8::7\]", for=127\.0\.0\.1;proto=http/);
    });

    it('routing-override headers are dropped behind a proxy too', async () => {
      const seen = await send(behindProxy, '/up/plain/o', 'X-Original-URL: /b/internal\r\nX-Real-IP: 10.9.9.9\r\n');
      expect(seen.headers).not.to.have.property('x-original-url');
      expect(seen.headers).not.to.have.property('x-real-ip');
    });
  });
});
