import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type http from 'node:http';
import type { PluginRef } from '../../../src/config/types.ts';
import { createCredentialChain, createTokenCache, type OutgoingCall } from '../../../src/credentials/index.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { ADMIN_KEY, ADMIN_KEY_SHA256, CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type Reply, type TestServer } from '../../helpers/http.ts';
import { registerSecret } from '../../helpers/written-registry.ts';

/**
 * Issue 13 items 4, 5, 6, 8 and issue 14.7 (token-endpoint errors): the national credentials the gateway
 * holds stay confined to the hop they are meant for. Written as an attacker on a provincial app would try
 * it: a grant the province never allowed, an upstream answer that quotes the injected token (in every
 * encoding a server may use, split across TCP writes), a path that answers 401 to make the gateway
 * hammer the national token endpoint, and a token endpoint that echoes the gateway's request.
 */

const auth = { 'x-api-key': CONSUMER_KEY };
/** Secrets with every character that changes under URL, form, JSON or base64 encoding. */
const ECHO_KEY = 'echo-client:1';
const ECHO_SECRET = 'Echo+Secret/=:é 4%2F&x';
const LOGIN_SECRET = 'pa"ss\\wörd+/=<&>';
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

/** Tokens the echo upstream refuses with 401, as a national platform does with a revoked token. */
const revokedTokens = new Set<string>();

/** The encodings an upstream may quote a token in, each written independently of the gateway's masker. */
const ECHOES: Record<string, (token: string) => string> = {
  clear: (t) => t,
  url: (t) => encodeURIComponent(t),
  'url-lower': (t) => encodeURIComponent(t).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
  form: (t) => new URLSearchParams({ t }).toString().slice(2),
  json: (t) => JSON.stringify(t).slice(1, -1),
  'json-php': (t) => JSON.stringify(t).slice(1, -1).replace(/\//g, '\\/'),
  'json-dotnet': (t) => JSON.stringify(t).slice(1, -1).replace(/\+/g, '\\u002B'),
  // An echoed "Authorization: Bearer <token>" header inside a longer base64 run, at each byte alignment.
  'base64-0': (t) => Buffer.from(`Bearer ${t}`).toString('base64'),
  'base64-1': (t) => Buffer.from(`Bearer  ${t}`).toString('base64'),
  'base64-2': (t) => Buffer.from(`Bearer   ${t}`).toString('base64'),
  base64url: (t) => Buffer.from(`Bearer ${t}`).toString('base64url'),
};

/** The upstream's refusal quoting the token, written as text (a JSON-escaped quote is not escaped twice). */
function echoBody(quoted: string): string {
  return `{"error_code":1,"message":"token refused","echo":"${quoted}"}`;
}

/** Every encoding of `secret` that must not appear in what the gateway gave back. */
function encodingsOf(secret: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    new URLSearchParams({ s: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    Buffer.from(secret).toString('base64').slice(0, -4), // the run without its last (padding) group
  ];
}

function expectNoSecret(text: string, secret: string, where: string): void {
  for (const encoded of encodingsOf(secret)) {
    expect(text.includes(encoded), `${where} holds the secret (${encoded.slice(0, 6)}…)`).to.equal(false);
  }
}

describe('security: national credentials stay confined (issue 13.4-13.6, 13.8, 14.7)', function () {
  this.timeout(20_000);
  let now = Date.now();
  const clock = { now: () => now };
  let tokenServer: TestServer;
  let idp: TestServer;
  let echo: TestServer;
  let gw: TestGateway;
  let issued = 0;
  const tokenCalls = () => tokenServer.requests.filter((r) => r.url === '/oauth/token').length;

  before(async () => {
    tokenServer = await startServer((req, res, body) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/oauth/token') {
        issued++;
        // `+`, `/`, `~` and `=` make every encoding of the token differ from the clear text.
        const token = `Tk${issued}-x+Q9/zR~e.W_${randomBytes(8).toString('hex')}=`;
        registerSecret(token);
        return res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
      }
      if (req.url === '/molisa/GetToken') {
        issued++;
        const token = `Mo${issued}+/${randomBytes(8).toString('hex')}`;
        registerSecret(token);
        return res.end(JSON.stringify({ error_code: 0, token }));
      }
      if (req.url === '/oauth/echo') {
        // A token endpoint that quotes the request it refused: the form (URL-encoded secret) and the header.
        res.statusCode = 400;
        const said = `bad request ${body.toString('utf8')} with ${String(req.headers.authorization)}`;
        return res.end(JSON.stringify({ error: 'invalid_request', error_description: said }));
      }
      if (req.url === '/login/echo') {
        // ...or the JSON login it received, as plain text (JSON-escaped secret).
        res.writeHead(500, { 'content-type': 'text/plain' });
        return res.end(`cannot parse ${body.toString('utf8')}`);
      }
      res.statusCode = 404;
      res.end('{}');
    });
    idp = await startServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: 'citizen-session-token', token_type: 'Bearer' }));
    });
    echo = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const injected = injectedToken(req.headers);
      if (url.pathname.endsWith('/always401') || (injected !== undefined && revokedTokens.has(injected))) {
        res.statusCode = 401;
        return res.end('{"error":"invalid_token"}');
      }
      const mode = url.pathname.split('/').pop() ?? 'clear';
      const encode = ECHOES[mode];
      if (!encode || !injected) {
        res.setHeader('set-cookie', ['NATSESSION=abc; Path=/', 'lb=node2']);
        return res.end('{"ok":true}');
      }
      const quoted = encode(injected);
      const body = Buffer.from(echoBody(quoted));
      const at = body.indexOf(quoted);
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/json',
        'x-echo-token': injected,
        'www-authenticate': `Bearer error="invalid_token", token="${quoted}"`,
        'set-cookie': [`NATSESSION=${encodeURIComponent(injected)}; Path=/; HttpOnly`, 'lb=node2'],
      };
      const coding = url.searchParams.get('coding');
      if (coding) {
        // An upstream that compresses although the gateway asked for identity.
        headers['content-encoding'] = coding;
        headers['content-length'] = coding === 'gzip' ? gzipSync(body).length : body.length;
        res.writeHead(400, headers);
        return res.end(coding === 'gzip' ? gzipSync(body) : body);
      }
      if (url.searchParams.has('cl')) headers['content-length'] = body.length;
      res.writeHead(400, headers);
      // Three writes, the boundaries inside the quoted token, each flushed before the next.
      const cuts = [at + 3, at + Math.floor(quoted.length / 2)];
      res.write(body.subarray(0, cuts[0]), () =>
        res.write(body.subarray(cuts[0], cuts[1]), () => res.end(body.subarray(cuts[1]))),
      );
    });
    for (const secret of [
      'cs-confine-secret',
      'vneid+secret/with:chars é',
      'molisa-confine-password',
      ECHO_SECRET,
      LOGIN_SECRET,
    ])
      registerSecret(secret);
    gw = await startGateway(
      {
        'gateway.yaml': `version: 1\nadmin: { apiKeys: [{ sha256: ${ADMIN_KEY_SHA256} }] }\n`,
        'upstreams.yaml': `upstreams:
  nat:
    url: "${echo.url}/nat"
    credentials:
      - type: oauth2-client-credentials
        tokenUrl: "${tokenServer.url}/oauth/token"
        consumerKey: ck-confine
        consumerSecret: cs-confine-secret
        minRetryIntervalMs: 1000
  molisa:
    url: "${echo.url}/molisa"
    errorDialect: molisa
    credentials:
      - type: login-token
        tokenUrl: "${tokenServer.url}/molisa/GetToken"
        secrets: { username: molisa-user, password: molisa-confine-password }
        success: { path: error_code, in: [0] }
        inject: { header: AccessKey }
        tokenRejected: { when: [{ path: error_code, in: [2] }] }
  vneid-sso:
    url: "${idp.url}"
    credentials:
      - type: client-secret
        clientId: vneid-client
        clientSecret: "vneid+secret/with:chars é"
  plain:
    url: "${echo.url}/plain"
  echobasic:
    url: "${echo.url}/nat"
    credentials:
      - { type: oauth2-client-credentials, tokenUrl: "${tokenServer.url}/oauth/echo", consumerKey: "${ECHO_KEY}", consumerSecret: "${ECHO_SECRET}", minRetryIntervalMs: 0 }
  echobody:
    url: "${echo.url}/nat"
    credentials:
      - { type: oauth2-client-credentials, tokenUrl: "${tokenServer.url}/oauth/echo", consumerKey: "${ECHO_KEY}", consumerSecret: "${ECHO_SECRET}", clientAuth: body, minRetryIntervalMs: 0 }
  echologin:
    url: "${echo.url}/molisa"
    errorDialect: molisa
    credentials:
      - type: login-token
        tokenUrl: "${tokenServer.url}/login/echo"
        secrets: { username: molisa-user, password: '${LOGIN_SECRET}' }
        inject: { header: AccessKey }
        minRetryIntervalMs: 0
consumers:
  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
`,
        'routes.yaml': `routes:
  - { id: nat, methods: [GET, POST], path: /nat/*, upstream: nat, consumers: [mcdt] }
  - { id: nat-cookies, methods: [GET], path: /natcookies/*, upstream: nat, upstreamPath: /*, consumers: [mcdt], allowSetCookie: true }
  - { id: molisa, methods: [GET, POST], path: /molisa/*, upstream: molisa, consumers: [mcdt] }
  - { id: vneid-sso-token, methods: [POST], path: /vneid-sso/token, upstream: vneid-sso, upstreamPath: /realms/citizen/protocol/openid-connect/token, consumers: [mcdt] }
  - { id: plain, methods: [GET], path: /plain/*, upstream: plain, consumers: [mcdt] }
  - { id: echobasic, methods: [GET], path: /echobasic/*, upstream: echobasic, consumers: [mcdt] }
  - { id: echobody, methods: [GET], path: /echobody/*, upstream: echobody, consumers: [mcdt] }
  - { id: echologin, methods: [GET], path: /echologin/*, upstream: echologin, consumers: [mcdt] }
`,
      },
      { clock },
    );
  });
  after(async () => {
    await gw?.close();
    await Promise.all([tokenServer?.close(), idp?.close(), echo?.close()]);
  });

  describe('13.4 the VNeID client secret is added only to the grants the province allows', () => {
    const form = (body: string, query = '') =>
      request(`${gw.url}/vneid-sso/token${query}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });

    const refused: [string, string, string][] = [
      ['client_credentials', 'grant_type=client_credentials', ''],
      ['password', 'grant_type=password&username=a&password=b', ''],
      ['token exchange', 'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange', ''],
      ['two grant types', 'grant_type=authorization_code&code=x&grant_type=client_credentials', ''],
      ['no grant type', 'code=x', ''],
      ['a grant type in other case', 'Grant_Type=client_credentials', ''],
      ['an allowed grant with padding', 'grant_type=authorization_code%20', ''],
    ];
    for (const [what, body] of refused) {
      it(`refuses ${what} before the secret is added: the token endpoint sees nothing`, async () => {
        const before = idp.requests.length;
        const reply = await form(body);
        expect(reply.status).to.equal(400);
        expect(reply.json().code).to.equal('GW_GRANT_NOT_ALLOWED');
        expect(idp.requests.length).to.equal(before);
        expectNoSecret(reply.body.toString('utf8'), 'vneid+secret/with:chars é', 'the refusal');
      });
    }

    it('refuses OAuth client parameters smuggled in the query string (servers that merge query and form)', async () => {
      const before = idp.requests.length;
      for (const query of ['?grant_type=client_credentials', '?GRANT_TYPE=client_credentials', '?client%5Fid=other']) {
        const reply = await form('grant_type=authorization_code&code=abc', query);
        expect(reply.status, query).to.equal(400);
        expect(reply.json().code).to.equal('GW_BAD_REQUEST');
      }
      expect(idp.requests.length).to.equal(before);
    });

    it('adds client_id/client_secret to authorization_code and refresh_token, overwriting the app', async () => {
      for (const body of [
        'grant_type=authorization_code&code=abc&client_secret=guess',
        'grant_type=refresh_token&refresh_token=r',
      ]) {
        const before = idp.requests.length;
        const reply = await form(body);
        expect(reply.status, body).to.equal(200);
        expect(idp.requests.length).to.equal(before + 1);
        const seen = new URLSearchParams(idp.requests[before].body.toString('utf8'));
        expect(seen.getAll('client_secret')).to.deep.equal(['vneid+secret/with:chars é']);
        expect(seen.get('client_id')).to.equal('vneid-client');
      }
    });
  });

  describe('13.5 injected credentials never come back in an answer', () => {
    const paths = [
      // The managed client relaying as it reads (no body stage on the route).
      {
        name: 'managed relay',
        call: (mode: string, q = '') => request(`${gw.url}/nat/echo/${mode}${q}`, { headers: auth }),
      },
      // The managed client reading the whole answer (a MOLISA body signal is looked for).
      {
        name: 'buffered read',
        call: (mode: string, q = '?cl=1') => request(`${gw.url}/molisa/echo/${mode}${q}`, { headers: auth }),
      },
      // The stream forwarder (chunked upload).
      {
        name: 'streamed',
        call: (mode: string, q = '') =>
          request(`${gw.url}/nat/echo/${mode}${q}`, { method: 'POST', headers: auth, body: ['{"a":', '1}'] }),
      },
    ];
    for (const path of paths) {
      for (const mode of Object.keys(ECHOES)) {
        it(`${path.name}: a token quoted ${mode} (split across writes) is masked in body and headers`, async () => {
          const reply = await path.call(mode);
          expect(reply.status).to.equal(400);
          const token = sentToken(echo);
          const text = reply.body.toString('utf8');
          expect(text.includes(ECHOES[mode](token)), 'body quotes the token').to.equal(false);
          expectNoSecret(text, token, 'body');
          // Same length masks: the body keeps its length, and the JSON stays JSON.
          expect(reply.body.length).to.equal(Buffer.byteLength(echoBody(ECHOES[mode](token))));
          expect(JSON.parse(text).echo).to.contain('*'.repeat(16));
          const head = JSON.stringify(reply.headers);
          expectNoSecret(head, token, 'headers');
          expect(reply.headers['x-echo-token']).to.equal('*'.repeat(token.length));
          expect(reply.headers['set-cookie'], 'Set-Cookie from the national side').to.equal(undefined);
        });
      }
      it(`${path.name}: a declared Content-Length stays true after masking`, async () => {
        const reply = await path.call('json', '?cl=1');
        expect(reply.status).to.equal(400);
        expect(Number(reply.headers['content-length'])).to.equal(reply.body.length);
        expectNoSecret(reply.body.toString('utf8'), sentToken(echo), 'body');
      });
    }

    for (const path of paths) {
      it(`${path.name}: an answer gzipped although identity was asked for is decoded, masked and relayed`, async () => {
        const reply = await path.call('json', '?coding=gzip');
        expect(reply.status).to.equal(400);
        expect(reply.headers['content-encoding']).to.equal(undefined);
        const text = reply.body.toString('utf8');
        expectNoSecret(text, sentToken(echo), 'body');
        expect(JSON.parse(text).echo).to.contain('*'.repeat(16));
      });
    }

    it('an answer in a coding the gateway cannot decode is not relayed unchecked', async () => {
      const managed = await request(`${gw.url}/nat/echo/clear?coding=compress`, { headers: auth });
      expect(managed.status).to.equal(502);
      expect(managed.json().code).to.equal('GW_UPSTREAM_BAD_RESPONSE');
      expectNoSecret(managed.body.toString('utf8'), sentToken(echo), 'the 502');
      const streamed = await request(`${gw.url}/nat/echo/clear?coding=compress`, {
        method: 'POST',
        headers: auth,
        body: ['{}'],
      }).then(
        (r) => r.body.toString('utf8'),
        () => '',
      );
      expectNoSecret(streamed, sentToken(echo), 'the streamed answer');
    });

    it('drops Set-Cookie on routes without credentials too, and relays it where a route allows it', async () => {
      const plain = await request(`${gw.url}/plain/anything`, { headers: auth });
      expect(plain.status).to.equal(200);
      expect(plain.headers['set-cookie']).to.equal(undefined);
      const allowed = await request(`${gw.url}/natcookies/ok`, { headers: auth });
      expect(allowed.status).to.equal(200);
      expect(allowed.headers['set-cookie']).to.deep.equal(['NATSESSION=abc; Path=/', 'lb=node2']);
    });

    it('leaves an answer with no secret in it byte for byte as the upstream sent it', async () => {
      const reply = await request(`${gw.url}/nat/ok`, { headers: auth });
      expect(reply.body.toString('utf8')).to.equal('{"ok":true}');
    });
  });

  describe('13.6 a path that answers 401 cannot make the gateway hammer the token endpoint', () => {
    async function call401(stream: boolean): Promise<Reply> {
      now += 50;
      return stream
        ? request(`${gw.url}/nat/always401`, { method: 'POST', headers: auth, body: ['{}'] })
        : request(`${gw.url}/nat/always401`, { headers: auth });
    }

    for (const stream of [false, true]) {
      it(`${stream ? 'streamed' : 'managed'}: 12 calls in a burst cost at most 1 token refresh`, async () => {
        await request(`${gw.url}/nat/ok`, { headers: auth }); // a token in the cache
        now += 60_000; // ...old enough that a refusal may replace it
        const before = tokenCalls();
        for (let i = 0; i < 12; i++) expect((await call401(stream)).status).to.equal(401);
        expect(tokenCalls() - before).to.be.at.most(1);
      });
    }

    it('12 calls paced just past minRetryIntervalMs: refreshes back off (was 12 token calls for 12 calls)', async () => {
      now += 600_000;
      await request(`${gw.url}/nat/always401`, { headers: auth }); // one refresh: the old token may be stale
      const before = tokenCalls();
      for (let i = 0; i < 12; i++) {
        now += 1100;
        expect((await request(`${gw.url}/nat/always401`, { headers: auth })).status).to.equal(401);
      }
      // Each refreshed token refused again doubles the wait: 2 s, 4 s, 8 s... -> 2 refreshes in 13 s.
      expect(tokenCalls() - before).to.be.at.most(3);
    });

    it('a token refused for real (revoked upstream) is replaced at once and the call succeeds', async () => {
      now += 600_000;
      const revoked = await request(`${gw.url}/nat/ok`, { headers: auth });
      expect(revoked.status).to.equal(200);
      const token = sentToken(echo);
      now += 5_000;
      revokedTokens.add(token);
      const before = tokenCalls();
      const reply = await request(`${gw.url}/nat/ok`, { headers: auth });
      expect(reply.status).to.equal(200);
      expect(tokenCalls() - before).to.equal(1);
      expect(sentToken(echo)).to.not.equal(token);
    });
  });

  describe('14.7 a token endpoint that echoes the request leaks no secret into the 502, the log or /admin', () => {
    const cases = [
      {
        upstream: 'echobasic',
        secrets: [
          ECHO_SECRET,
          `Basic ${Buffer.from(`${formEncode(ECHO_KEY)}:${formEncode(ECHO_SECRET)}`).toString('base64')}`,
        ],
      },
      { upstream: 'echobody', secrets: [ECHO_SECRET] },
      { upstream: 'echologin', secrets: [LOGIN_SECRET] },
    ];
    for (const c of cases) {
      it(`${c.upstream}: the echoed secret is masked in every encoding`, async () => {
        const reply = await request(`${gw.url}/${c.upstream}/x`, { headers: auth });
        expect(reply.status).to.equal(502);
        expect(reply.json().code).to.equal('GW_TOKEN_ENDPOINT_FAILED');
        const admin = await request(`${gw.url}/admin/upstreams`, { headers: { 'x-admin-key': ADMIN_KEY } });
        expect(admin.status).to.equal(200);
        const lastError = String(
          admin.json<Record<string, { credentials: { lastError?: string } }>>()[c.upstream].credentials.lastError,
        );
        // The endpoint's own words still come through, so an admin can see what it said.
        expect(reply.body.toString('utf8')).to.match(/REDACTED/);
        expect(lastError).to.match(/REDACTED/);
        const logs = JSON.stringify(gw.logs);
        for (const secret of c.secrets) {
          expectNoSecret(reply.body.toString('utf8'), secret, 'the 502');
          expectNoSecret(lastError, secret, '/admin/upstreams');
          expectNoSecret(logs, secret, 'the log');
        }
      });
    }
  });

  describe('13.8 OAuth2 client authentication is encoded as RFC 6749 §2.3.1 says', () => {
    const KEY = 'prov:client é';
    const SECRET = 'p+ss%2F:wö rd&=';
    /** HTTP Basic as a compliant authorization server reads it: base64, first ":", then form-decoding each. */
    function compliantBasic(header: string | undefined): { id: string; secret: string } | undefined {
      const m = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(header ?? '');
      if (!m) return undefined;
      const pair = Buffer.from(m[1], 'base64').toString('utf8');
      const colon = pair.indexOf(':');
      const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      try {
        return { id: decode(pair.slice(0, colon)), secret: decode(pair.slice(colon + 1)) };
      } catch {
        return undefined; // a raw "%" is malformed form-encoding: invalid_client
      }
    }
    let server: TestServer;
    before(async () => {
      registerSecret(SECRET);
      server = await startServer((req, res) => {
        const client = compliantBasic(req.headers.authorization);
        const ok = client?.id === KEY && client.secret === SECRET;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { access_token: 'rfc-token', expires_in: 60 } : { error: 'invalid_client' }));
      });
    });
    after(() => server.close());

    const chainFor = (clientAuth?: string, key = KEY) =>
      createCredentialChain(
        [
          {
            type: 'oauth2-client-credentials',
            tokenUrl: `${server.url}/token`,
            consumerKey: key,
            consumerSecret: SECRET,
            ...(clientAuth ? { clientAuth } : {}),
          } as PluginRef,
        ],
        {
          upstreamId: 'ndxp',
          logger: createLogger({ silent: true }),
          clock: { now: () => Date.now() },
          tokenCache: createTokenCache(),
        },
        ['upstreams', 'ndxp', 'credentials'],
      );

    it('by default a secret with +, %, :, space and non-ASCII is accepted by a compliant Basic parser', async () => {
      const call: OutgoingCall = { method: 'GET', headers: {} };
      await chainFor().apply(call);
      expect(call.headers.authorization).to.equal('Bearer rfc-token');
    });

    it('clientAuth: basic-raw sends key:secret as is, for servers that do not decode', async () => {
      // Unencoded, a colon in the id would end it early (RFC 7617): refused when the config loads.
      expect(() => chainFor('basic-raw')).to.throw(/basic-raw cannot carry a client id holding ":"/);
      const before = server.requests.length;
      const failure = await chainFor('basic-raw', 'prov-client é')
        .apply({ method: 'GET', headers: {} })
        .then(
          () => undefined,
          (err: Error) => err,
        );
      // A compliant server refuses the raw form (what the issue saw); a raw-reading one gets exactly key:secret.
      expect(failure?.message).to.match(/401/);
      const sent = server.requests[before].headers.authorization ?? '';
      expect(Buffer.from(sent.replace(/^Basic /, ''), 'base64').toString('utf8')).to.equal(`prov-client é:${SECRET}`);
    });
  });
});

/** The token (Bearer or AccessKey) the last call to the echo upstream carried. */
function sentToken(server: TestServer): string {
  const last = server.requests[server.requests.length - 1];
  return injectedToken(last.headers) ?? '';
}

function injectedToken(headers: http.IncomingHttpHeaders): string | undefined {
  const bearer = headers.authorization?.replace(/^Bearer /, '');
  return bearer ?? (headers.accesskey as string | undefined);
}
