import { expect } from 'chai';
import nock from 'nock';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { buildChain, call, onlyNock } from './helpers.ts';
import { rejection } from '../../helpers/rejection.ts';

const TOKEN_URL = 'https://ndxp.test/oauth2/token';
const KEY = 'ndxp-consumer-key';
const SECRET = 'ndxp-consumer-s3cret-value';

const ref = (options: Record<string, unknown> = {}) => ({
  type: 'oauth2-client-credentials',
  tokenUrl: TOKEN_URL,
  consumerKey: KEY,
  consumerSecret: SECRET,
  ...options,
});

const applyError = (p: Promise<unknown>) => rejection(GatewayError, p);

/** The token endpoint answers `times` requests with `answer(n)` for the n-th (tok-n, an hour); `issued` counts them. */
function tokenEndpoint(
  times: number,
  answer = (n: number): Record<string, unknown> => ({ access_token: `tok-${n}`, expires_in: 3600 }),
) {
  const tokens = { issued: 0 };
  nock('https://ndxp.test')
    .post('/oauth2/token')
    .times(times)
    .reply(200, () => answer(++tokens.issued));
  return tokens;
}

describe('credentials: oauth2-client-credentials', () => {
  onlyNock();

  it('posts grant_type=client_credentials with HTTP Basic and injects Authorization: Bearer', async () => {
    const scope = nock('https://ndxp.test')
      .post('/oauth2/token', 'grant_type=client_credentials&scope=ndxp')
      .basicAuth({ user: KEY, pass: SECRET })
      .matchHeader('content-type', 'application/x-www-form-urlencoded')
      .reply(200, { access_token: 'tok-1', token_type: 'Bearer', expires_in: 3600 });
    const { chain } = buildChain([ref({ scope: 'ndxp' })]);
    const c = call({ headers: { Authorization: 'Bearer caller-token', accept: 'application/json' } });
    await chain.apply(c);
    expect(c.headers).to.deep.equal({ authorization: 'Bearer tok-1', accept: 'application/json' });
    expect(scope.isDone()).to.equal(true);
  });

  it('sends client_id/client_secret in the body with clientAuth: body, and honours header and scheme', async () => {
    // badheaders: the interceptor refuses a request that also carries Basic credentials.
    nock('https://ndxp.test', { badheaders: ['authorization'] })
      .post('/oauth2/token', (body) => body.client_id === KEY && body.client_secret === SECRET)
      .reply(200, { access_token: 'tok-b', expires_in: '600' });
    const { chain } = buildChain([ref({ clientAuth: 'body', header: 'X-Ndxp-Token', scheme: '' })]);
    const c = call();
    await chain.apply(c);
    expect(c.headers['x-ndxp-token']).to.equal('tok-b');
  });

  it('reuses the token until refreshSkewSeconds before expires_in (string) ends, then refreshes', async () => {
    const tokens = tokenEndpoint(3, (n) => ({ access_token: `tok-${n}`, expires_in: '3600' }));
    const { chain, clock } = buildChain([ref({ refreshSkewSeconds: 120 })]);
    const c = call();
    await chain.apply(c);
    clock.advance((3600 - 121) * 1000);
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer tok-1');
    clock.advance(2000); // now inside the skew window
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer tok-2');
    expect(tokens.issued).to.equal(2);
  });

  it('applyCached injects a fresh cached token without waiting; before the first fetch and inside the skew it defers to apply()', async () => {
    const tokens = tokenEndpoint(2);
    const { chain, clock } = buildChain([
      ref({ refreshSkewSeconds: 120 }),
      { type: 'static', headers: { 'X-Tinh': '52' } },
    ]);
    const first = call();
    expect(chain.applyCached(first)).to.equal(false); // nothing cached yet: no token call from here
    expect(tokens.issued).to.equal(0);
    await chain.apply(first);
    const c = call();
    expect(chain.applyCached(c)).to.equal(true);
    expect(c.headers).to.include({ authorization: 'Bearer tok-1', 'x-tinh': '52' });
    clock.advance((3600 - 119) * 1000); // inside the refresh skew: the cached token is no longer offered
    expect(chain.applyCached(call())).to.equal(false);
    const refreshed = call();
    await chain.apply(refreshed);
    expect(refreshed.headers.authorization).to.equal('Bearer tok-2');
    expect(tokens.issued).to.equal(2);
  });

  it('uses defaultLifetimeSeconds when expires_in is absent', async () => {
    const tokens = tokenEndpoint(2, (n) => ({ access_token: `tok-${n}` }));
    const { chain, clock } = buildChain([ref({ defaultLifetimeSeconds: 100, refreshSkewSeconds: 10 })]);
    await chain.apply(call());
    clock.advance(89_000);
    await chain.apply(call());
    expect(tokens.issued).to.equal(1);
    clock.advance(2000);
    await chain.apply(call());
    expect(tokens.issued).to.equal(2);
    expect(chain.describe().validUntil).to.equal(new Date(clock.now() + 100_000).toISOString());
  });

  it('makes exactly one token request for 500 concurrent first requests', async () => {
    let requests = 0;
    nock('https://ndxp.test')
      .post('/oauth2/token')
      .times(500)
      .delay(5)
      .reply(200, () => {
        requests++;
        return { access_token: 'shared', expires_in: 3600 };
      });
    const { chain } = buildChain([ref()]);
    const calls = Array.from({ length: 500 }, () => call());
    await Promise.all(calls.map((c) => chain.apply(c)));
    expect(requests).to.equal(1);
    expect(calls.every((c) => c.headers.authorization === 'Bearer shared')).to.equal(true);
  });

  it('signals 401 as token rejected; invalidate() makes the next apply fetch a new token', async () => {
    tokenEndpoint(2);
    const { chain, clock } = buildChain([ref()]);
    await chain.apply(call());
    expect(chain.isTokenRejected(401, undefined)).to.equal(true);
    expect(chain.isTokenRejected(403, undefined)).to.equal(false);
    expect(chain.isTokenRejected(200, { ok: true })).to.equal(false);
    clock.advance(5000);
    chain.invalidate();
    const c = call();
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer tok-2');
  });

  it('keeps a token obtained within the back-off window when a late 401 for the old token invalidates it', async () => {
    const tokens = tokenEndpoint(3);
    const { chain, clock } = buildChain([ref()]);
    await chain.apply(call());
    clock.advance(60_000);
    chain.invalidate(); // request A saw 401 with tok-1
    await chain.apply(call()); // A replays with tok-2
    clock.advance(200);
    chain.invalidate(); // request B, also sent with tok-1, sees its 401 later
    const c = call();
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer tok-2');
    expect(tokens.issued).to.equal(2);
  });

  it('a late 401 about an older token never drops the newer one, however old the newer one is (13.6)', async () => {
    const tokens = tokenEndpoint(3);
    const { chain, clock } = buildChain([ref()]);
    const a = call();
    await chain.apply(a); // request A carries tok-1 (slow)
    clock.advance(60_000);
    const b = call();
    await chain.apply(b);
    chain.invalidate(b); // request B refused tok-1
    await chain.apply(call()); // tok-2
    clock.advance(30_000);
    chain.invalidate(a); // A's 401 about tok-1 arrives 30 s later
    const c = call();
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer tok-2');
    expect(tokens.issued).to.equal(2);
  });

  it('doubles the wait while each refreshed token is refused too, and starts afresh after an expiry refresh (13.6)', async () => {
    const tokens = tokenEndpoint(20);
    const { chain, clock, log } = buildChain([ref({ minRetryIntervalMs: 1000 })]);
    await chain.apply(call());
    const refusals: number[] = [];
    // One refused call every 1.1 s for 60 s: each refresh brings a token that is refused again.
    for (let t = 0; t < 60_000; t += 1100) {
      clock.advance(1100);
      const c = call();
      await chain.apply(c);
      const before = tokens.issued;
      chain.invalidate(c);
      await chain.apply(call());
      if (tokens.issued > before) refusals.push(t);
    }
    // 1 s, then 2, 4, 8, 16, 32 s between refreshes: 6 token calls in a minute instead of 55.
    expect(refusals.length).to.be.within(4, 7);
    expect(log.text()).to.contain('credentials.token_refused');
    // Expiry brings a token for another reason: the next refusal is believed at once again.
    clock.advance(3600_000);
    await chain.apply(call());
    const before = tokens.issued;
    clock.advance(1100);
    const c = call();
    await chain.apply(c);
    chain.invalidate(c);
    await chain.apply(call());
    expect(tokens.issued).to.equal(before + 1);
  });

  it('masks the token in relayed answers, and the replaced one for 5 minutes after a refresh (13.5)', async () => {
    tokenEndpoint(2, (n) => ({ access_token: `token-number-${n}`, expires_in: 3600 }));
    const { chain, clock } = buildChain([ref()]);
    const masks = (text: string) => {
      const buf = Buffer.from(text);
      return chain.relayMasker()?.maskInPlace(buf) === true;
    };
    const first = call();
    await chain.apply(first);
    expect(masks('{"echo":"token-number-1"}')).to.equal(true);
    clock.advance(5000);
    chain.invalidate(first);
    await chain.apply(call());
    expect(masks('token-number-2')).to.equal(true);
    expect(masks('token-number-1')).to.equal(true); // a call sent with it may still be answering
    clock.advance(5 * 60_000 + 1);
    expect(masks('token-number-1')).to.equal(false);
    expect(masks('token-number-2')).to.equal(true);
  });

  it('passes on the endpoint error (masked) as GW_TOKEN_ENDPOINT_FAILED naming the upstream', async () => {
    nock('https://ndxp.test')
      .post('/oauth2/token')
      .reply(401, { error: 'invalid_client', error_description: `Client ${KEY} with secret ${SECRET} is unknown` });
    const { chain } = buildChain([ref()]);
    const err = await applyError(chain.apply(call()));
    expect(err.code).to.equal('GW_TOKEN_ENDPOINT_FAILED');
    expect(err.status).to.equal(502);
    expect(err.hop).to.equal('token-endpoint');
    expect(err.params.upstream).to.equal('molisa');
    expect(err.params.reason).to.contain('HTTP 401: invalid_client');
    expect(err.message).to.not.contain(SECRET);
    expect(err.message).to.contain('[REDACTED]');
  });

  it('fails on an HTML answer with its title, not the page', async () => {
    nock('https://ndxp.test')
      .post('/oauth2/token')
      .reply(502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', {
        'content-type': 'text/html',
      });
    const { chain } = buildChain([ref()]);
    const err = await applyError(chain.apply(call()));
    expect(err.params.reason).to.equal('HTTP 502 answered non-JSON (text/html): 502 Bad Gateway');
  });

  it('fails on a 200 answer with garbage, with an empty body, or without access_token', async () => {
    const { chain, clock } = buildChain([ref()]);
    nock('https://ndxp.test').post('/oauth2/token').reply(200, 'not json at all', { 'content-type': 'text/plain' });
    expect((await applyError(chain.apply(call()))).params.reason).to.match(/non-JSON \(text\/plain\): not json at all/);
    clock.advance(1000);
    nock('https://ndxp.test').post('/oauth2/token').reply(200, '');
    expect((await applyError(chain.apply(call()))).params.reason).to.equal('HTTP 200 with an empty answer');
    clock.advance(1000);
    nock('https://ndxp.test').post('/oauth2/token').reply(200, { token_type: 'Bearer', expires_in: 3600 });
    expect((await applyError(chain.apply(call()))).params.reason).to.equal('HTTP 200 answer has no access_token');
  });

  it('fails when the endpoint is down (connection refused)', async () => {
    // nock 15 passes only a message through replyWithError; the integration test uses a really closed port.
    nock('https://ndxp.test').post('/oauth2/token').replyWithError('connect ECONNREFUSED 10.0.0.1:443');
    const { chain } = buildChain([ref()]);
    const err = await applyError(chain.apply(call()));
    expect(err.params.reason).to.equal('request failed (connect ECONNREFUSED 10.0.0.1:443)');
  });

  it('fails after timeoutMs when the endpoint is slow', async () => {
    nock('https://ndxp.test').post('/oauth2/token').delay(500).reply(200, { access_token: 'late' });
    const { chain } = buildChain([ref({ timeoutMs: 20 })]);
    const err = await applyError(chain.apply(call()));
    expect(err.params.reason).to.equal('no answer within 20 ms');
  });

  it('backs off: within minRetryIntervalMs of a failure, applies fail fast without calling the endpoint', async () => {
    let calls = 0;
    nock('https://ndxp.test')
      .post('/oauth2/token')
      .times(10)
      .reply(() => {
        calls++;
        return calls < 3 ? [503, { message: 'maintenance' }] : [200, { access_token: 'back', expires_in: 3600 }];
      });
    const { chain, clock } = buildChain([ref()]);
    const first = await applyError(chain.apply(call()));
    clock.advance(999);
    const second = await applyError(chain.apply(call()));
    expect(second).to.equal(first);
    expect(calls).to.equal(1);
    expect(chain.describe().lastError).to.contain('maintenance');
    clock.advance(1);
    await applyError(chain.apply(call()));
    expect(calls).to.equal(2);
    clock.advance(1000);
    const c = call();
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer back');
    expect(calls).to.equal(3);
    expect(chain.describe().lastError).to.equal(undefined);
  });

  it('keeps serving a still-valid token when the early refresh fails', async () => {
    let calls = 0;
    nock('https://ndxp.test')
      .post('/oauth2/token')
      .times(2)
      .reply(() => (++calls === 1 ? [200, { access_token: 'old', expires_in: 3600 }] : [500, 'down']));
    const { chain, clock } = buildChain([ref()]);
    await chain.apply(call());
    clock.advance(3590_000); // inside the 60 s skew, not expired
    const c = call();
    await chain.apply(c);
    expect(c.headers.authorization).to.equal('Bearer old');
    expect(calls).to.equal(2);
    clock.advance(11_000); // now expired, and the back-off window has passed
    nock('https://ndxp.test').post('/oauth2/token').reply(500, 'down');
    await applyError(chain.apply(call()));
  });

  it('shares tokens between chains built with the same credentials on one TokenCache (hot reload)', async () => {
    const tokens = tokenEndpoint(2);
    const first = buildChain([ref()]);
    await first.chain.apply(call());
    const again = buildChain([ref()], { tokenCache: first.tokenCache, clock: first.clock });
    await again.chain.apply(call());
    expect(tokens.issued).to.equal(1);
    const rotated = buildChain([ref({ consumerSecret: 'rotated-secret' })], {
      tokenCache: first.tokenCache,
      clock: first.clock,
    });
    await rotated.chain.apply(call());
    expect(tokens.issued).to.equal(2);
  });

  it('never logs or describes the secret, the Basic header or the token', async () => {
    nock('https://ndxp.test').post('/oauth2/token').reply(200, { access_token: 'tok-secret-value', expires_in: 3600 });
    const { chain, log } = buildChain([ref()]);
    await chain.apply(call());
    const described = JSON.stringify(chain.describe());
    const basic = Buffer.from(`${KEY}:${SECRET}`).toString('base64');
    for (const text of [described, log.text()]) {
      expect(text).to.not.contain(SECRET);
      expect(text).to.not.contain(basic);
      expect(text).to.not.contain('tok-secret-value');
    }
    expect(chain.describe().secrets).to.deep.equal({
      '0.oauth2-client-credentials.consumerKey': 'set',
      '0.oauth2-client-credentials.consumerSecret': 'set',
    });
    expect(log.text()).to.contain('credentials.token_obtained');
  });
});
