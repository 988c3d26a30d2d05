import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { AnswerSignatureConfig } from '../../../src/config/types.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { createAnswerVerifier, MAX_JWKS_BYTES } from '../../../src/upstream/answer-signature.ts';
import { startServer, type TestServer } from '../../helpers/http.ts';

/**
 * Penetration test of signed answers (issue 16.2): the JWKS endpoint is the national side's, chosen by the
 * config only, but the gateway does not trust an upstream to answer with a bounded size (docs/security.md,
 * threat model). A key set larger than MAX_JWKS_BYTES is not read whole into memory: the keys are
 * unavailable (502 naming the hop), whatever valid key it also holds.
 */
describe('answerSignature JWKS: the key set read is bounded in size (penetration test)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
  let server: TestServer;
  let padding = 0;
  let chunked = false;

  before(async () => {
    server = await startServer((_req, res) => {
      const body = JSON.stringify({ keys: [jwk], padding: 'x'.repeat(padding) });
      res.setHeader('content-type', 'application/json');
      if (!chunked) res.setHeader('content-length', Buffer.byteLength(body));
      res.end(body);
    });
  });
  after(() => server.close());

  const verify = async () => {
    const config: AnswerSignatureConfig = {
      jwksUrl: `${server.url}/jwks`,
      algorithms: ['ES256'],
      clockToleranceSeconds: 30,
      jwksCooldownSeconds: 30,
      jwksMaxAgeSeconds: 600,
      jwksTimeoutMs: 5000,
    };
    const verifier = createAnswerVerifier(config, undefined, { clock: { now: () => Date.now() } }, ['u']);
    const jws = await new SignJWT({ hoTen: 'Nguyễn Văn A' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(privateKey);
    try {
      return await verifier.verify(jws, 'vneid');
    } finally {
      verifier.close();
    }
  };

  it('a small key set verifies', async () => {
    padding = 0;
    expect(await verify()).to.include({ hoTen: 'Nguyễn Văn A' });
  });

  for (const mode of ['with Content-Length', 'chunked, no length'] as const) {
    it(`a key set over the limit (${mode}) is refused as unavailable, never parsed`, async () => {
      padding = MAX_JWKS_BYTES + 1;
      chunked = mode !== 'with Content-Length';
      let error: unknown;
      try {
        await verify();
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(GatewayError);
      expect((error as GatewayError).code).to.equal('GW_UPSTREAM_SIGNING_KEYS_UNAVAILABLE');
    });
  }
});
