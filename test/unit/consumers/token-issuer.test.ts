import { expect } from 'chai';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { base64url, SignJWT } from 'jose';
import type { GatewayConfig } from '../../../src/config/types.ts';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { genKey } from '../../../src/auth/api-keys.ts';
import { createTokenIssuer, type TokenIssuer } from '../../../src/auth/token-issuer.ts';
import { fakeClock, makeConfig, memoryLogger } from './helpers.ts';
import { rejection } from '../../helpers/rejection.ts';

const pem = (k: KeyObject, type: 'pkcs8' | 'spki') => k.export({ format: 'pem', type }) as string;

function ecPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKey, privatePem: pem(privateKey, 'pkcs8'), publicPem: pem(publicKey, 'spki') };
}

function configWith(keys: unknown[], extra: Record<string, unknown> = {}): GatewayConfig {
  return makeConfig({
    consumers: { mcdt: { apiKeys: [], clientSecrets: [{ sha256: genKey().sha256 }] } },
    auth: {
      tokens: {
        enabled: true,
        issuer: 'lgsp-test',
        audience: 'lgsp-test',
        ttlSeconds: 300,
        algorithm: 'ES256',
        clockToleranceSeconds: 5,
        signingKeys: keys,
        ...extra,
      },
    },
  });
}

const rejects = (p: Promise<unknown>) => rejection(Error, p);

describe('token issuer verification', () => {
  const clock = fakeClock();
  const nowSec = () => Math.floor(clock.now() / 1000);
  const k1 = ecPair();
  let issuer: TokenIssuer;

  const sign = (key: KeyObject | Uint8Array, header: Record<string, unknown>, claims: Record<string, unknown> = {}) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt', ...header })
      .setIssuer((claims.iss as string) ?? 'lgsp-test')
      .setAudience((claims.aud as string) ?? 'lgsp-test')
      .setSubject('mcdt')
      .setIssuedAt(nowSec())
      .setExpirationTime(nowSec() + 300)
      .sign(key);

  before(async () => {
    issuer = await createTokenIssuer(configWith([{ kid: 'k1', privateKey: k1.privatePem }]), {
      clock,
      logger: memoryLogger(),
      env: {},
    });
  });

  it('accepts a well-formed token signed by the configured key', async () => {
    expect(await issuer.verify(await sign(k1.privateKey, {}))).to.deep.equal({
      id: 'mcdt',
      name: undefined,
      via: 'jwt',
    });
  });

  it('publishes the public key with kid, alg and use, and no private part', () => {
    const [jwk] = issuer.jwks().keys;
    expect(jwk).to.include({ kid: 'k1', alg: 'ES256', use: 'sig', kty: 'EC', crv: 'P-256' });
    expect(jwk).to.not.have.property('d');
  });

  it('rejects alg none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', kid: 'k1', typ: 'JWT' }));
    const payload = base64url.encode(
      JSON.stringify({ iss: 'lgsp-test', aud: 'lgsp-test', sub: 'mcdt', iat: nowSec(), exp: nowSec() + 300 }),
    );
    await rejects(issuer.verify(`${header}.${payload}.`));
  });

  it('rejects an unknown kid, and a known kid over a foreign signature', async () => {
    const other = ecPair();
    await rejects(issuer.verify(await sign(other.privateKey, { kid: 'k9' })));
    await rejects(issuer.verify(await sign(other.privateKey, { kid: 'k1' })));
    await rejects(issuer.verify(await sign(k1.privateKey, { kid: undefined })));
  });

  it('rejects an expired token (fake clock), honouring only the configured tolerance', async () => {
    const token = await sign(k1.privateKey, {});
    const later = fakeClock(clock.now());
    const issuer2 = await createTokenIssuer(configWith([{ kid: 'k1', privateKey: k1.privatePem }]), {
      clock: later,
      logger: memoryLogger(),
      env: {},
    });
    later.advance(304_000);
    await issuer2.verify(token);
    later.advance(2_000);
    const err = await rejects(issuer2.verify(token));
    expect((err as { code?: string }).code).to.equal('ERR_JWT_EXPIRED');
  });

  it('rejects a token of another JWT type (typ must be at+jwt)', async () => {
    await rejects(issuer.verify(await sign(k1.privateKey, { typ: 'JWT' })));
  });

  it('rejects a wrong audience, a wrong issuer and a subject that is not a consumer', async () => {
    await rejects(issuer.verify(await sign(k1.privateKey, {}, { aud: 'someone-else' })));
    await rejects(issuer.verify(await sign(k1.privateKey, {}, { iss: 'evil' })));
    const ghost = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer('lgsp-test')
      .setAudience('lgsp-test')
      .setSubject('ghost')
      .setIssuedAt(nowSec())
      .setExpirationTime(nowSec() + 60)
      .sign(k1.privateKey);
    await rejects(issuer.verify(ghost));
  });

  it('rejects an HMAC token keyed with the published public key (alg confusion)', async () => {
    const jwkText = JSON.stringify(issuer.jwks().keys[0]);
    for (const secret of [k1.publicPem, jwkText]) {
      for (const alg of ['HS256', 'HS512']) {
        const forged = await sign(new TextEncoder().encode(secret), { alg });
        await rejects(issuer.verify(forged));
      }
    }
  });

  it('rejects a token whose header names another asymmetric alg than the key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await rejects(issuer.verify(await sign(rsa.privateKey, { alg: 'RS256' })));
  });

  it('refuses config keys that do not fit their algorithm, and a key set without a signer', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const deps = { clock, logger: memoryLogger(), env: {} };
    const err = await rejects(
      createTokenIssuer(configWith([{ kid: 'r', privateKey: pem(rsa.privateKey, 'pkcs8') }]), deps),
    );
    expect(err).to.be.instanceOf(ConfigPathError);
    expect((err as ConfigPathError).rule).to.equal('key-type');
    const noSigner = await rejects(createTokenIssuer(configWith([{ kid: 'p', publicKey: k1.publicPem }]), deps));
    expect(noSigner).to.be.instanceOf(ConfigPathError);
    const badAlg = await rejects(createTokenIssuer(configWith([], { algorithm: 'HS256' }), deps));
    expect(badAlg).to.be.instanceOf(ConfigPathError);
  });

  it('keeps a retired public key (config rotation) verifying while configured', async () => {
    const k2 = ecPair();
    const rotated = await createTokenIssuer(
      configWith([
        { kid: 'k2', privateKey: k2.privatePem },
        { kid: 'k1', publicKey: k1.publicPem },
      ]),
      { clock, logger: memoryLogger(), env: {} },
    );
    expect(rotated.jwks().keys.map((k) => k.kid)).to.deep.equal(['k2', 'k1']);
    await rotated.verify(await sign(k1.privateKey, {}));
  });

  it('carries keys dropped by a reload until their tokens expire', async () => {
    const c = fakeClock(clock.now());
    const oldToken = await sign(k1.privateKey, {});
    const k2 = ecPair();
    const reloaded = await createTokenIssuer(configWith([{ kid: 'k2', privateKey: k2.privatePem }]), {
      clock: c,
      logger: memoryLogger(),
      env: {},
      previous: issuer,
    });
    expect(reloaded.jwks().keys.map((k) => k.kid)).to.deep.equal(['k2', 'k1']);
    await reloaded.verify(oldToken);
    c.advance(306_000);
    expect(reloaded.jwks().keys.map((k) => k.kid)).to.deep.equal(['k2']);
  });
});
