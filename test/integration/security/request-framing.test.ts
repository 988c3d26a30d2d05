import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import {
  rawExchange,
  startCapturingUpstream,
  type CapturingUpstream,
  type ParsedRequest,
} from '../../helpers/raw-http.ts';
import { suspendNockDuring, until } from '../../helpers/reliability.ts';
import { registerSecret } from '../../helpers/written-registry.ts';

/**
 * Request smuggling and desync (issue 13.1), tried as an attacker would: raw bytes to the gateway, and a
 * capturing upstream that records every byte it got and the requests it parsed from them. The property
 * under test: every request the upstream parses is one the gateway meant to send, framed by the gateway,
 * whatever the caller wrote. `lax` is an upstream that ignores the length on GET/HEAD/OPTIONS/DELETE (the
 * CL.0 class): a body forwarded there would be read as a second request.
 */

/**
 * A gateway of its own whose one upstream `id`, at `url` over a single socket, is reached at `${prefix}/*` by
 * consumer a (the gateway takes `/${id}` off the path it forwards).
 */
const oneSocketGateway = (url: string, id: string, prefix = `/${id}`) =>
  startGateway({
    'gateway.yaml': 'version: 1\n',
    'upstreams.yaml': `upstreams:\n  ${id}: { url: "${url}", maxSockets: 1 }\nconsumers:\n  a: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
    'routes.yaml': `routes:\n  - { id: ${id}, methods: [GET, POST], path: ${prefix}/*, upstream: ${id}, consumers: [a] }\n`,
  });

describe('security: request framing and desync', function () {
  this.timeout(15_000);
  suspendNockDuring(this);
  const KEY_B = 'consumer-b-test-key-0123456789abcdef';
  const SECRET = 'injected-national-token-0123456789';
  let up: CapturingUpstream;
  let lax: CapturingUpstream;
  let gw: TestGateway;

  before(async () => {
    registerSecret(SECRET); // the suite's leak scan checks no log or audit line holds it
    up = await startCapturingUpstream();
    lax = await startCapturingUpstream({ ignoreBodyOn: ['GET', 'HEAD', 'OPTIONS', 'DELETE'] });
    const sha = createHash('sha256').update(KEY_B).digest('hex');
    const creds = `credentials: [{ type: static, secrets: { tok: "${SECRET}" }, headers: { Authorization: "Bearer {{tok}}" } }]`;
    gw = await startGateway({
      'gateway.yaml': 'version: 1\nlimits: { bodyBytes: 1048576 }\n',
      'upstreams.yaml': `upstreams:
  up: { url: "${up.url}", maxSockets: 2, errorDialect: ndxp, ${creds} }
  lax: { url: "${lax.url}", maxSockets: 2, ${creds} }
consumers:
  a: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
  b: { apiKeys: [{ sha256: ${sha} }] }
`,
      'routes.yaml': `routes:
  - { id: a-all, methods: [GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE], path: /up/a/*, upstream: up, consumers: [a] }
  - { id: b-only, methods: [GET, POST], path: /up/b/*, upstream: up, consumers: [b] }
  - { id: lax-a, methods: [GET, HEAD, OPTIONS, POST, DELETE], path: /lax/a/*, upstream: lax, consumers: [a] }
  - { id: lax-b, methods: [GET, POST], path: /lax/b/*, upstream: lax, consumers: [b] }
`,
    });
  });
  after(async () => {
    await gw.close();
    await up.close();
    await lax.close();
  });

  const A = `X-API-Key: ${CONSUMER_KEY}\r\n`;
  const B = `X-API-Key: ${KEY_B}\r\n`;
  /** A complete request for a path only consumer B may call: what A tries to smuggle. */
  const smuggled = (host: string) => `POST /b/internal HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 330\r\n\r\n`;
  const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;

  /** What each upstream parsed since `mark`, and whether any of it is something the gateway never sent. */
  const mark = () => ({
    up: up.requests().length,
    lax: lax.requests().length,
    upBytes: up.bytes(),
    laxBytes: lax.bytes(),
  });
  const parsedSince = (m: ReturnType<typeof mark>): ParsedRequest[] => [
    ...up.requests().slice(m.up),
    ...lax.requests().slice(m.lax),
  ];
  const expectNoSmuggledRequest = () => {
    for (const req of [...up.requests(), ...lax.requests()]) {
      expect(req.target, 'a request the gateway never sent').not.to.match(/internal|smuggled/);
      expect(req.headers['x-api-key'], 'caller key forwarded').to.equal(undefined);
    }
    for (const c of [...up.connections, ...lax.connections])
      expect(c.fault, 'upstream met bad framing').to.equal(undefined);
  };
  afterEach(expectNoSmuggledRequest);

  describe('a body on a method that carries none is refused before any byte goes upstream (CL.0, TE on GET)', () => {
    for (const method of ['GET', 'OPTIONS']) {
      for (const base of ['/up/a/x', '/lax/a/x']) {
        it(`${method} ${base} with Transfer-Encoding: chunked carrying a smuggled request -> 400 in the route's dialect`, async () => {
          const m = mark();
          const body = smuggled('upstream');
          const res = await rawExchange(gw.url, [
            `${method} ${base} HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\n\r\n${chunk(body)}0\r\n\r\n`,
          ]);
          expect(res.responses[0]?.status).to.equal(400);
          if (base.startsWith('/up'))
            expect(res.responses[0].json().responseCode).to.equal('400'); // ndxp dialect
          else expect(res.responses[0].headers['content-type']).to.contain('problem+json');
          expect(parsedSince(m)).to.have.length(0);
          expect(up.bytes() + lax.bytes()).to.equal(m.upBytes + m.laxBytes);
        });
      }
    }

    it('HEAD with a Content-Length body -> 400, nothing sent upstream', async () => {
      const m = mark();
      const body = smuggled('upstream');
      const res = await rawExchange(gw.url, [
        `HEAD /lax/a/x HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: ${body.length}\r\n\r\n${body}`,
      ]);
      expect(res.raw).to.match(/^HTTP\/1\.1 400 /);
      expect(lax.bytes()).to.equal(m.laxBytes);
    });

    it('GET of 70 KB with `Connection: content-length` (once the streamed path, unframed) -> 400, nothing sent', async () => {
      const m = mark();
      const body = smuggled('upstream').padEnd(70 * 1024, 'x');
      const res = await rawExchange(gw.url, [
        `GET /lax/a/x HTTP/1.1\r\nHost: gw\r\n${A}Connection: content-length\r\nContent-Length: ${body.length}\r\n\r\n`,
        body,
      ]);
      expect(res.responses[0]?.status).to.equal(400);
      expect(lax.bytes()).to.equal(m.laxBytes);
    });

    it('the refusal closes the caller connection (the unread body is never parsed as a next request)', async () => {
      const body = `GET /up/b/x HTTP/1.1\r\nHost: gw\r\n${B}\r\n`;
      const res = await rawExchange(
        gw.url,
        [`GET /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: ${body.length}\r\n\r\n${body}`],
        { expect: 2 },
      );
      expect(res.responses).to.have.length(1);
      expect(res.responses[0].status).to.equal(400);
      expect(res.responses[0].headers.connection).to.equal('close');
      expect(res.closed).to.equal(true);
    });

    it('GET with `Content-Length: 0` is an ordinary GET: forwarded with no framing headers', async () => {
      const m = mark();
      const res = await rawExchange(gw.url, [`GET /lax/a/zero HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: 0\r\n\r\n`]);
      expect(res.responses[0]?.status).to.equal(200);
      const [seen] = parsedSince(m);
      expect(seen.target).to.equal('/a/zero');
      expect(seen.headers).not.to.have.property('content-length');
      expect(seen.headers).not.to.have.property('transfer-encoding');
    });
  });

  describe("what Node's parser refuses (pinned: insecureHTTPParser stays off)", () => {
    const cases: Record<string, string> = {
      'CL.TE: Content-Length and Transfer-Encoding': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      'TE.CL: Transfer-Encoding first, then Content-Length': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n`,
      'TE.TE: two Transfer-Encoding lines': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`,
      'TE.TE: `chunked, identity`': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`,
      'TE.TE: `xchunked`': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`,
      'TE.TE: space before the colon': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
      'TE.TE: obs-fold': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`,
      'two different Content-Length lines': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
      'Content-Length as a list': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: 2, 2\r\n\r\nab`,
      'Content-Length with a sign': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: +2\r\n\r\nab`,
      'bare LF line ends': `POST /up/a/x HTTP/1.1\nHost: gw\n${A.trim()}\nContent-Length: 2\n\nab`,
      'chunk size with trailing space': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\n\r\n2 \r\nab\r\n0\r\n\r\n`,
      'chunk size overflowing 64 bits': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF2\r\nab\r\n0\r\n\r\n`,
      'chunk data not followed by CRLF': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n`,
      'NUL in a header value': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}X-Y: a\0b\r\nContent-Length: 0\r\n\r\n`,
    };
    for (const [name, bytes] of Object.entries(cases)) {
      it(`${name} -> 400, the connection closed, nothing upstream`, async () => {
        const m = mark();
        const res = await rawExchange(gw.url, [bytes], { expect: 2 });
        expect(res.raw).to.match(/^HTTP\/1\.1 400 /);
        expect(res.responses).to.have.length(1);
        expect(res.closed).to.equal(true);
        expect(up.bytes()).to.equal(m.upBytes);
      });
    }
  });

  describe("what the gateway adds to Node's parser (RFC 9112 §3.2, §6.1)", () => {
    const cases: Record<string, string> = {
      'Transfer-Encoding `gzip, chunked` (the upstream would get gzip bytes unlabelled)': `POST /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
      'Transfer-Encoding in an HTTP/1.0 request': `POST /up/a/x HTTP/1.0\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      'two Host lines': `GET /up/a/x HTTP/1.1\r\nHost: gw\r\nHost: evil\r\n${A}\r\n`,
    };
    for (const [name, bytes] of Object.entries(cases)) {
      it(`${name} -> 400 in the route's dialect, nothing upstream`, async () => {
        const m = mark();
        const res = await rawExchange(gw.url, [bytes]);
        expect(res.responses[0]?.status).to.equal(400);
        expect(res.responses[0].json().responseCode).to.equal('400');
        expect(up.bytes()).to.equal(m.upBytes);
      });
    }

    it('a request target in absolute form (`GET http://host/…`) reaches no upstream', async () => {
      const m = mark();
      const res = await rawExchange(gw.url, [`GET http://127.0.0.1/up/a/x HTTP/1.1\r\nHost: gw\r\n${A}\r\n`]);
      expect([400, 404]).to.include(res.responses[0]?.status);
      expect(up.bytes()).to.equal(m.upBytes);
    });

    it('TRACE -> 404/405 and CONNECT -> connection closed: neither reaches the upstream', async () => {
      const m = mark();
      const trace = await rawExchange(gw.url, [`TRACE /up/a/x HTTP/1.1\r\nHost: gw\r\n${A}\r\n`]);
      expect([404, 405]).to.include(trace.responses[0]?.status);
      const connect = await rawExchange(gw.url, [`CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n${A}\r\n`]);
      expect(connect.closed).to.equal(true);
      expect(connect.raw).not.to.match(/^HTTP\/1\.1 200/);
      expect(up.bytes()).to.equal(m.upBytes);
    });
  });

  describe('a body that is forwarded is framed by the gateway, on both upstream clients', () => {
    const cases: { name: string; method: string; framing: 'chunked' | 'length'; size: number }[] = [
      { name: 'DELETE, chunked (streamed path)', method: 'DELETE', framing: 'chunked', size: 600 },
      { name: 'DELETE, 100 KB Content-Length (streamed path)', method: 'DELETE', framing: 'length', size: 100 * 1024 },
      { name: 'DELETE, small Content-Length (managed client)', method: 'DELETE', framing: 'length', size: 600 },
      { name: 'POST, chunked (streamed path)', method: 'POST', framing: 'chunked', size: 600 },
      { name: 'POST, 100 KB Content-Length (streamed path)', method: 'POST', framing: 'length', size: 100 * 1024 },
      { name: 'PATCH, chunked (streamed path)', method: 'PATCH', framing: 'chunked', size: 600 },
    ];
    for (const c of cases) {
      it(`${c.name}: the upstream parses one request whose body is exactly the caller's bytes`, async () => {
        const m = mark();
        const body = smuggled('upstream').padEnd(c.size, 'x');
        const head = `${c.method} /lax/a/x HTTP/1.1\r\nHost: gw\r\n${A}`;
        const bytes =
          c.framing === 'chunked'
            ? `${head}Transfer-Encoding: chunked\r\n\r\n${chunk(body.slice(0, 100))}${chunk(body.slice(100))}0\r\n\r\n`
            : `${head}Content-Length: ${body.length}\r\n\r\n${body}`;
        const res = await rawExchange(gw.url, [bytes.replace('/lax/a/x', '/up/a/x')]);
        expect(res.responses[0]?.status).to.equal(200);
        const seen = parsedSince(m);
        expect(seen).to.have.length(1);
        expect(seen[0].method).to.equal(c.method);
        expect(seen[0].body.toString('latin1')).to.equal(body);
        const lengths = seen[0].lines.filter(([n]) => n === 'content-length' || n === 'transfer-encoding');
        expect(lengths, 'exactly one framing header').to.have.length(1);
        if (c.method === 'DELETE') {
          // A lax server may ignore a DELETE's length: `Connection: close` forbids it a next request.
          expect(seen[0].headers.connection).to.equal('close');
        }
      });
    }

    it('a DELETE body on a lax upstream that ignores its length (CL.0) is never read as a next request', async () => {
      const m = mark();
      const body = smuggled('upstream').padEnd(600, 'x');
      const res = await rawExchange(gw.url, [
        `DELETE /lax/a/x HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: ${body.length}\r\n\r\n${body}`,
      ]);
      expect(res.responses[0]?.status).to.equal(200);
      const seen = parsedSince(m);
      expect(seen.map((r) => `${r.method} ${r.target}`)).to.deep.equal(['DELETE /a/x']);
      expect(seen[0].headers.connection).to.equal('close');
      await lax.connections[seen[0].connection].whenClosed;
    });

    it("the issue's attack: A smuggles an unfinished `POST … Content-Length: 330` and B's next call is not swallowed", async () => {
      const m = mark();
      const body = smuggled('upstream');
      const a = await rawExchange(gw.url, [
        `DELETE /lax/a/x HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\n\r\n${chunk(body)}0\r\n\r\n`,
      ]);
      expect(a.responses[0]?.status).to.equal(200);
      const b = await rawExchange(gw.url, [`POST /lax/b/call HTTP/1.1\r\nHost: gw\r\n${B}Content-Length: 2\r\n\r\n{}`]);
      expect(b.responses[0]?.status).to.equal(200);
      const seen = parsedSince(m);
      expect(seen.map((r) => `${r.method} ${r.target}`)).to.deep.equal(['DELETE /a/x', 'POST /b/call']);
      expect(seen[1].headers.authorization).to.equal(`Bearer ${SECRET}`);
      expect(a.raw).not.to.contain(SECRET);
    });

    it('`Connection` naming Content-Length, Transfer-Encoding, Host and forwarding headers changes none of them', async () => {
      const m = mark();
      const body = 'y'.repeat(80 * 1024);
      const res = await rawExchange(gw.url, [
        `POST /up/a/c HTTP/1.1\r\nHost: gw\r\n${A}Connection: keep-alive, content-length, host, transfer-encoding, x-forwarded-for, authorization, forwarded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ]);
      expect(res.responses[0]?.status).to.equal(200);
      const [seen] = parsedSince(m);
      expect(seen.headers['content-length']).to.equal(String(body.length));
      expect(seen.body.length).to.equal(body.length);
      expect(seen.headers.host).to.equal(new URL(up.url).host);
      expect(seen.headers['x-forwarded-for']).to.equal('127.0.0.1');
      expect(seen.headers.forwarded).to.match(/^for=127\.0\.0\.1;proto=http/);
      expect(seen.headers.authorization).to.equal(`Bearer ${SECRET}`);
    });

    it('`Upgrade: h2c` / `websocket` is never passed on: the upstream sees a plain request (h2c smuggling)', async () => {
      const m = mark();
      for (const proto of ['h2c', 'websocket']) {
        const res = await rawExchange(gw.url, [
          `GET /up/a/u HTTP/1.1\r\nHost: gw\r\n${A}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: ${proto}\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
        ]);
        expect(res.responses[0]?.status).to.equal(200);
      }
      expect(parsedSince(m)).to.have.length(2);
      for (const seen of parsedSince(m)) {
        expect(seen.headers).not.to.have.property('upgrade');
        expect(seen.headers).not.to.have.property('http2-settings');
        expect(seen.headers.connection ?? '').not.to.match(/upgrade/i);
      }
    });

    it('`Expect: 100-continue` is answered by the gateway and not forwarded', async () => {
      const m = mark();
      const res = await rawExchange(
        gw.url,
        [`POST /up/a/e HTTP/1.1\r\nHost: gw\r\n${A}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n{}`],
        { expect: 2 },
      );
      expect(res.responses.map((r) => r.status)).to.deep.equal([100, 200]);
      const [seen] = parsedSince(m);
      expect(seen.headers).not.to.have.property('expect');
    });

    it('`Expect: 100-continue` on a streamed body is not forwarded either (httpxy skipped its request hooks for it)', async () => {
      const m = mark();
      const body = 'e'.repeat(70 * 1024);
      const res = await rawExchange(
        gw.url,
        [
          `POST /up/a/e2 HTTP/1.1\r\nHost: gw\r\n${A}Expect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`,
          body,
        ],
        { expect: 2 },
      );
      expect(res.responses.map((r) => r.status)).to.deep.equal([100, 200]);
      const [seen] = parsedSince(m);
      expect(seen.headers).not.to.have.property('expect');
      expect(seen.headers['content-length']).to.equal(String(body.length));
      expect(seen.body.length).to.equal(body.length);
    });
  });

  describe('an upstream connection whose exchange ended abnormally is never reused', () => {
    for (const framing of ['length', 'chunked'] as const) {
      it(`the caller leaves mid-body (${framing}, streamed): the upstream connection is closed, the next call is clean`, async () => {
        const m = mark();
        const part = 'z'.repeat(70 * 1024);
        const head =
          framing === 'length'
            ? `POST /up/a/left HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: ${200 * 1024}\r\n\r\n`
            : `POST /up/a/left HTTP/1.1\r\nHost: gw\r\n${A}Transfer-Encoding: chunked\r\n\r\n`;
        const carrying = () => up.connections.find((c) => c.raw.includes(`POST /a/left?${framing}`));
        const upstreamGotBytes = until(() => carrying() !== undefined, 'upstream got the head');
        await rawExchange(
          gw.url,
          [head.replace('/up/a/left', `/up/a/left?${framing}`), framing === 'length' ? part : chunk(part)],
          {
            leaveWhen: upstreamGotBytes,
          },
        );
        const used = carrying()!;
        await used.whenClosed;
        expect(
          up.requests().filter((r) => r.target.startsWith('/a/left')),
          'the partial request was never completed',
        ).to.have.length(0);
        const next = await rawExchange(gw.url, [`GET /up/a/next HTTP/1.1\r\nHost: gw\r\n${A}\r\n`]);
        expect(next.responses[0]?.status).to.equal(200);
        const seen = parsedSince(m);
        expect(seen.map((r) => r.target)).to.deep.equal(['/a/next']);
        expect(seen[0].connection).not.to.equal(used.index);
      });
    }

    it('the caller leaves while the managed client waits for the answer: that connection is closed, not pooled', async () => {
      const held = await startCapturingUpstream({ hold: (r) => r.target.endsWith('/hold') });
      const g = await oneSocketGateway(held.url, 'h');
      try {
        const upstreamGotIt = until(() => held.requests().length === 1, 'upstream got the call');
        const left = await rawExchange(g.url, [`GET /h/hold HTTP/1.1\r\nHost: gw\r\n${A}\r\n`], {
          leaveWhen: upstreamGotIt,
        });
        expect(left.responses).to.have.length(0);
        await held.connections[0].whenClosed;
        const next = await rawExchange(g.url, [`GET /h/next HTTP/1.1\r\nHost: gw\r\n${A}\r\n`]);
        expect(next.responses[0]?.status).to.equal(200);
        expect(held.requests().map((r) => `${r.connection} ${r.target}`)).to.deep.equal(['0 /hold', '1 /next']);
      } finally {
        await g.close();
        await held.close();
      }
    });

    it('an upstream that answers before reading the body: the answer is relayed, the connection not reused', async () => {
      const early = await startCapturingUpstream({ answerEarly: (r) => r.target.endsWith('/early') });
      const g = await oneSocketGateway(early.url, 'e');
      try {
        const body = 'w'.repeat(300 * 1024);
        const res = await rawExchange(g.url, [
          `POST /e/early HTTP/1.1\r\nHost: gw\r\n${A}Content-Length: ${body.length}\r\n\r\n`,
          body,
        ]);
        expect(res.responses[0]?.status).to.equal(200);
        const next = await rawExchange(g.url, [`GET /e/next HTTP/1.1\r\nHost: gw\r\n${A}\r\n`]);
        expect(next.responses[0]?.status).to.equal(200);
        const nextSeen = early.requests().find((r) => r.target === '/next')!;
        expect(nextSeen, 'the next call arrived as a request of its own').not.to.equal(undefined);
        for (const c of early.connections) expect(c.fault).to.equal(undefined);
        // Either the early connection was closed, or the body was completed before the next request on it.
        const first = early.connections[0];
        if (nextSeen.connection === first.index) expect(first.requests[0].body.length).to.equal(body.length);
      } finally {
        await g.close();
        await early.close();
      }
    });

    for (const path of ['/up/a/bad', '/up/a/bad-stream']) {
      it(`an upstream answer with both Content-Length and Transfer-Encoding (${path.endsWith('stream') ? 'streamed' : 'managed'}) -> 502, connection dropped`, async () => {
        const bad = await startCapturingUpstream({
          answer: () =>
            'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
        });
        const g = await oneSocketGateway(bad.url, 'up', '/up/a');
        try {
          const body = path.endsWith('stream') ? 'q'.repeat(70 * 1024) : '';
          const method = body ? 'POST' : 'GET';
          const res = await rawExchange(g.url, [
            `${method} ${path} HTTP/1.1\r\nHost: gw\r\n${A}${body ? `Content-Length: ${body.length}\r\n` : ''}\r\n${body}`,
          ]);
          expect(res.responses[0]?.status).to.equal(502);
          await bad.connections[0].whenClosed;
        } finally {
          await g.close();
          await bad.close();
        }
      });
    }
  });

  describe('client-side desync: an early error answer never leaves the body to be read as a next request', () => {
    for (const [name, path, key] of [
      ['404 (no route)', '/nowhere/x', A],
      ['401 (bad key)', '/up/a/x', 'X-API-Key: wrong\r\n'],
      ['403 (route of B)', '/up/b/x', A],
    ] as const) {
      it(`${name}: one answer, then the connection is closed`, async () => {
        const m = mark();
        const body = `GET /up/b/x HTTP/1.1\r\nHost: gw\r\n${B}\r\n`;
        const res = await rawExchange(
          gw.url,
          [`POST ${path} HTTP/1.1\r\nHost: gw\r\n${key}Content-Length: ${body.length}\r\n\r\n${body}`],
          { expect: 2 },
        );
        expect(res.responses).to.have.length(1);
        expect(res.responses[0].status).to.be.within(400, 499);
        expect(up.requests().length).to.equal(m.up);
      });
    }
  });
});
