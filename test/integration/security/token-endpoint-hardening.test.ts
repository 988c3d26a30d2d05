import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConnection } from 'node:net';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { addressKey, FailureCounter } from '../../../src/auth/auth-throttle.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { gatewayLoadOptions } from '../../../src/app/default-factories.ts';
import { ADMIN_KEY, ADMIN_KEY_SHA256, CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';
import { request, type Reply } from '../../helpers/http.ts';
import { fakeClock } from '../../unit/consumers/helpers.ts';

/**
 * Issue 13.7: the gateway's own `/token` (RFC 6749 §4.4) as an attacker meets it, with NODE_ENV unset as
 * under `npm start` (Express then renders its HTML error page with the stack and file paths). Every
 * failure is RFC 6749 §5.2 JSON with `Cache-Control: no-store`; failed secrets are throttled per client
 * and per address. Addresses come from X-Forwarded-For through a trusted loopback proxy, so each test
 * plays its own caller address.
 */
const OTHER_SECRET = 'other-client-secret-0123456789abcdef';

describe('security: the gateway token endpoint (issue 13.7)', function () {
  this.timeout(20_000);
  // nock (activated by unit tests earlier in a full run) would intercept, and decompress, these requests.
  suspendNockDuring(this);
  const clock = fakeClock();
  let gw: TestGateway;
  let savedEnv: string | undefined;
  let adminUrl: string;

  before(async () => {
    savedEnv = process.env.NODE_ENV;
    delete process.env.NODE_ENV; // as under `npm start`: Express would show stacks
    const { createHash } = await import('node:crypto');
    const otherSha = createHash('sha256').update(OTHER_SECRET).digest('hex');
    gw = await startGateway(
      {
        'gateway.yaml': `version: 1
admin: { apiKeys: [{ sha256: ${ADMIN_KEY_SHA256} }] }
auth:
  trustedProxies: ["127.0.0.1/32"]
  tokens:
    enabled: true
    throttle: { windowSeconds: 60, maxFailuresPerClient: 3, maxFailuresPerAddress: 5, maxTracked: 100 }
`,
        'consumers.yaml': `consumers:
  mcdt: { clientSecrets: [{ sha256: ${CONSUMER_KEY_SHA256} }] }
  other: { clientSecrets: [{ sha256: ${otherSha} }] }
  fenced: { clientSecrets: [{ sha256: ${otherSha} }], ipAllow: ["10.9.0.0/16"] }
`,
      },
      { clock },
    );
    adminUrl = (await gw.gateway.listenAdmin(0, '127.0.0.1')).url;
  });
  after(async () => {
    await gw?.close();
    if (savedEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = savedEnv;
  });

  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const token = (from: string, body: string | Buffer, headers: Record<string, string> = form) =>
    request(`${gw.url}/token`, { method: 'POST', headers: { 'x-forwarded-for': from, ...headers }, body });
  const creds = (id: string, secret: string) =>
    `grant_type=client_credentials&client_id=${encodeURIComponent(id)}&client_secret=${encodeURIComponent(secret)}`;

  /** An RFC 6749 §5.2 answer: JSON `{error, error_description}`, no-store, and nothing of Express's page. */
  function expectOAuthError(res: Reply, status: number, error: string): Record<string, string> {
    const text = res.body.toString('utf8');
    expect(res.status, text).to.equal(status);
    expect(res.headers['content-type']).to.match(/^application\/json/);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(text).not.to.match(/<html|<!DOCTYPE|<pre>|\n\s+at |node_modules|\/work\/|\.ts:\d+/i);
    const body = res.json<Record<string, string>>();
    expect(body.error).to.equal(error);
    expect(body.error_description).to.be.a('string');
    expect(Object.keys(body).sort()).to.deep.equal(['error', 'error_description']);
    return body;
  }

  describe('body-parser failures are JSON, never a stack', () => {
    it('oversized body -> 413 invalid_request', async () => {
      const res = await token('10.1.0.1', `grant_type=client_credentials&pad=${'a'.repeat(9000)}`);
      expectOAuthError(res, 413, 'invalid_request');
    });
    it('unsupported charset -> 415 invalid_request', async () => {
      const res = await token('10.1.0.2', creds('mcdt', CONSUMER_KEY), {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-7',
      });
      expectOAuthError(res, 415, 'invalid_request');
    });
    it('gzip body, valid or broken -> 415 invalid_request (no inflation at /token)', async () => {
      for (const body of [gzipSync(creds('mcdt', CONSUMER_KEY)), Buffer.from('\x1f\x8b\x08\x00garbage')]) {
        const res = await token('10.1.0.3', body, { ...form, 'content-encoding': 'gzip' });
        expectOAuthError(res, 415, 'invalid_request');
      }
    });
    it('unknown Content-Encoding -> 415 invalid_request', async () => {
      const res = await token('10.1.0.3', creds('mcdt', CONSUMER_KEY), { ...form, 'content-encoding': 'br, x-evil' });
      expectOAuthError(res, 415, 'invalid_request');
    });
    it('too many parameters -> 400 invalid_request', async () => {
      const res = await token('10.1.0.4', Array.from({ length: 40 }, (_, i) => `p${i}=1`).join('&'));
      expectOAuthError(res, 400, 'invalid_request');
    });
    it('a JSON body -> 415 invalid_request; a repeated parameter -> 400 invalid_request', async () => {
      const json = await token('10.1.0.5', JSON.stringify({ grant_type: 'client_credentials' }), {
        'content-type': 'application/json',
      });
      expectOAuthError(json, 415, 'invalid_request');
      const twice = await token('10.1.0.5', `${creds('mcdt', CONSUMER_KEY)}&grant_type=client_credentials`);
      expectOAuthError(twice, 400, 'invalid_request');
    });
    it('a body shorter than its Content-Length, cut by the caller, gets no HTML either', async () => {
      const socket = createConnection(Number(new URL(gw.url).port), '127.0.0.1');
      await once(socket, 'connect');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => undefined);
      socket.end(
        'POST /token HTTP/1.1\r\nHost: gw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\ngrant_type=cli',
      );
      await once(socket, 'close');
      expect(Buffer.concat(chunks).toString('utf8')).not.to.match(/<html|\n\s+at |node_modules/i);
    });
    it('an empty body -> 400 invalid_request (grant_type is required)', async () => {
      expectOAuthError(await token('10.1.0.7', ''), 400, 'invalid_request');
    });
    it('GET /token -> 405 invalid_request with Allow: POST', async () => {
      const res = await request(`${gw.url}/token`);
      expectOAuthError(res, 405, 'invalid_request');
      expect(res.headers.allow).to.equal('POST');
    });
    it('an unknown grant type -> 400 unsupported_grant_type; a good request still gets a token', async () => {
      expectOAuthError(
        await token('10.1.0.6', 'grant_type=password&username=a&password=b'),
        400,
        'unsupported_grant_type',
      );
      const ok = await token('10.1.0.6', creds('mcdt', CONSUMER_KEY));
      expect(ok.status).to.equal(200);
      expect(ok.headers['cache-control']).to.equal('no-store');
      expect(ok.json()).to.have.property('access_token');
    });
  });

  describe('throttling of failed client secrets', () => {
    it('per client, from any address: after 3 failures even the right secret gets 429 until the window ends', async () => {
      for (const from of ['10.2.0.1', '10.2.0.2', '10.2.0.3']) {
        const res = await token(from, creds('mcdt', 'wrong-secret-guess'));
        expectOAuthError(res, 401, 'invalid_client');
        expect(res.headers['www-authenticate']).to.match(/^Basic/);
        expect(res.body.toString()).not.to.contain('wrong-secret-guess');
      }
      const locked = await token('10.2.0.4', creds('mcdt', CONSUMER_KEY));
      expectOAuthError(locked, 429, 'invalid_client');
      const wait = Number(locked.headers['retry-after']);
      expect(wait).to.be.within(1, 60);
      // Another client is not affected.
      expect((await token('10.2.0.4', creds('other', OTHER_SECRET))).status).to.equal(200);
      clock.advance(wait * 1000);
      expect((await token('10.2.0.4', creds('mcdt', CONSUMER_KEY))).status).to.equal(200);
    });

    it('per address: 5 failures against assorted (unknown) client ids lock that address for every client', async () => {
      for (let i = 0; i < 5; i++)
        expectOAuthError(await token('10.3.0.1', creds(`guess-${i}`, 'x')), 401, 'invalid_client');
      const locked = await token('10.3.0.1', creds('other', OTHER_SECRET));
      expectOAuthError(locked, 429, 'invalid_client');
      expect(Number(locked.headers['retry-after'])).to.be.within(1, 60);
      // The same client from another address is served.
      expect((await token('10.3.0.2', creds('other', OTHER_SECRET))).status).to.equal(200);
      clock.advance(60_000);
      expect((await token('10.3.0.1', creds('other', OTHER_SECRET))).status).to.equal(200);
    });

    it('a client with ipAllow: no token from elsewhere, and outsiders cannot lock it out', async () => {
      expectOAuthError(await token('10.5.0.1', creds('fenced', OTHER_SECRET)), 401, 'invalid_client');
      for (let i = 0; i < 4; i++) {
        expectOAuthError(await token(`10.6.0.${i}`, creds('fenced', 'guess')), 401, 'invalid_client');
      }
      expect((await token('10.9.0.1', creds('fenced', OTHER_SECRET))).status).to.equal(200);
    });

    it('IPv6 callers are counted by their /64: rotating addresses inside it does not help', async () => {
      for (let i = 1; i <= 5; i++) {
        expectOAuthError(
          await token(`2001:db8:1:2::${i.toString(16)}`, creds(`v6guess-${i}`, 'x')),
          401,
          'invalid_client',
        );
      }
      expectOAuthError(await token('2001:db8:1:2:ffff::9', creds('other', OTHER_SECRET)), 429, 'invalid_client');
      expect((await token('2001:db8:1:3::1', creds('other', OTHER_SECRET))).status).to.equal(200);
      clock.advance(60_000);
    });

    it('address keys: IPv4 as is, IPv6 by /64 whatever its spelling', () => {
      expect(addressKey('10.0.0.1')).to.equal('10.0.0.1');
      for (const a of [
        '2001:db8:1:2::1',
        '2001:0db8:0001:0002:ffff:0:0:1',
        '2001:DB8:1:2:0:0:1.2.3.4',
        '2001:db8:1:2::7%eth0',
      ]) {
        expect(addressKey(a), a).to.equal('2001:db8:1:2::/64');
      }
      expect(addressKey('::1')).to.equal('0:0:0:0::/64');
    });

    it('HTTP Basic failures count the same', async () => {
      const basic = (secret: string) => ({
        ...form,
        authorization: `Basic ${Buffer.from(`mcdt:${secret}`).toString('base64')}`,
      });
      for (let i = 0; i < 3; i++) {
        expectOAuthError(
          await token(`10.4.0.${i}`, 'grant_type=client_credentials', basic('nope')),
          401,
          'invalid_client',
        );
      }
      expectOAuthError(
        await token('10.4.0.9', 'grant_type=client_credentials', basic(CONSUMER_KEY)),
        429,
        'invalid_client',
      );
      clock.advance(60_000);
    });

    it('the throttle table is bounded: 100 000 distinct failing addresses keep at most maxTracked entries', () => {
      const counter = new FailureCounter(clock, 1000);
      for (let i = 0; i < 100_000; i++) counter.recordFailure(`a${i}`, 60_000);
      expect(counter.size).to.equal(1000);
      // The most recent ones are kept (and counted).
      for (let i = 0; i < 3; i++) counter.recordFailure('a99999', 60_000);
      expect(counter.lockedFor('a99999', 4, 60_000)).to.be.greaterThan(0);
      expect(counter.lockedFor('a0', 1, 60_000)).to.equal(0);
    });

    it('the schema defaults are the documented ones', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-throttle-'));
      try {
        writeFileSync(path.join(dir, 'gateway.yaml'), 'version: 1\n');
        const { config } = loadConfig(dir, gatewayLoadOptions({}));
        expect(config.auth.tokens.throttle).to.deep.equal({
          windowSeconds: 900,
          maxFailuresPerClient: 10,
          maxFailuresPerAddress: 30,
          maxTracked: 10_000,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('other Express-served endpoints', () => {
    it('admin listener: an unknown path is problem+json, not Express HTML', async () => {
      const res = await request(`${adminUrl}/admin/nope`, { headers: { 'x-admin-key': ADMIN_KEY } });
      expect(res.status).to.equal(404);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.toString()).not.to.match(/<html|Cannot GET|\n\s+at /i);
      const other = await request(`${adminUrl}/elsewhere`);
      expect(other.status).to.equal(404);
      expect(other.headers['content-type']).to.match(/^application\/problem\+json/);
    });
    it('main listener: admin paths without a key and odd paths are JSON', async () => {
      for (const path of ['/admin/status', '/admin/%E0%A4%A', '/healthz/..;/admin/status', '/.well-known/x']) {
        const res = await request(`${gw.url}${path}`);
        expect(res.headers['content-type'], path).to.match(/json/);
        expect(res.body.toString(), path).not.to.match(/<html|Cannot GET|\n\s+at /i);
      }
    });
  });
});
