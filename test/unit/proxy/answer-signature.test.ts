import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import type { AnswerSignatureConfig } from '../../../src/config/types.ts';
import { createAnswerVerifier, verifySignedAnswer } from '../../../src/upstream/answer-signature.ts';

const clock = { now: () => Date.now() };
const config = (over: Partial<AnswerSignatureConfig> = {}): AnswerSignatureConfig => ({
  keys: ['x'],
  algorithms: ['ES256'],
  clockToleranceSeconds: 30,
  jwksCooldownSeconds: 30,
  jwksMaxAgeSeconds: 600,
  jwksTimeoutMs: 5000,
  ...over,
});
const build = (texts: string[]) => () =>
  createAnswerVerifier(config(), texts, { clock }, ['upstreams', 'vneid', 'answerSignature']);

/** Issue 16.2: only the national side's public, asymmetric keys are trusted; anything else fails at load. */
describe('answerSignature keys (issue 16.2)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  it('accepts a PEM public key, a JWK and a JWKS', () => {
    const jwk = publicKey.export({ format: 'jwk' });
    expect(build([publicKey.export({ format: 'pem', type: 'spki' }).toString()])).not.to.throw();
    expect(build([JSON.stringify(jwk)])).not.to.throw();
    expect(build([JSON.stringify({ keys: [{ ...jwk, kid: 'a' }] })])).not.to.throw();
  });

  it('refuses a private key (PEM or JWK), a symmetric key, an empty JWKS and text that is no key', () => {
    const cases: [string, string][] = [
      [privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'key-type'],
      [JSON.stringify(privateKey.export({ format: 'jwk' })), 'key-type'],
      [JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }), 'key-type'],
      [JSON.stringify({ keys: [] }), 'required'],
      ['not a key', 'key-format'],
    ];
    for (const [text, rule] of cases) {
      let error: unknown;
      try {
        build([text])();
      } catch (err) {
        error = err;
      }
      expect(error, text.slice(0, 30)).to.be.instanceOf(ConfigPathError);
      expect((error as ConfigPathError).rule).to.equal(rule);
    }
  });

  it('an answer that is no JSON object cannot carry a signature: refused', async () => {
    const verifier = build([publicKey.export({ format: 'pem', type: 'spki' }).toString()])();
    for (const body of [[1], 'text', null]) {
      const err = await verifySignedAnswer(body, { jws: 'signedData', payload: 'data' }, verifier, 'vneid').catch(
        (e: unknown) => e,
      );
      expect(err).to.have.property('code', 'GW_UPSTREAM_SIGNATURE_INVALID');
    }
  });
});

describe('response.signature at load (issue 16.2)', () => {
  const routes = (stage: string) => `routes:
  - { id: r, methods: [POST], path: /up/x, upstream: up, consumers: [c], ${stage} }
`;
  const files = (stage: string, upstream = '') => ({
    'gateway.yaml': 'version: 1\nlogging: { level: error }\n',
    'upstreams.yaml': `upstreams:\n  up: { url: "http://127.0.0.1:9"${upstream} }\nconsumers:\n  c: { apiKeys: [{ sha256: "${'0'.repeat(64)}" }] }\n`,
    'routes.yaml': routes(stage),
  });
  const refusal = async (f: Record<string, string>) => {
    const { startGateway } = await import('../../helpers/gateway.ts');
    const err = await startGateway(f).then(
      async (gw) => {
        await gw.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err, 'the config is refused').to.be.instanceOf(Error);
    return err!.message;
  };

  it('a route asking for a signature its upstream has no keys for is refused, naming both', async () => {
    const message = await refusal(files('response: { signature: { jws: signedData, payload: data } }'));
    expect(message).to.contain('routes[0].response.signature').and.contain('upstream up has no answerSignature');
  });

  it('a signature on requests, an HS256 or none algorithm, and both key sources at once are refused', async () => {
    const keys = ', answerSignature: { jwksUrl: "http://127.0.0.1:9/jwks" }';
    expect(await refusal(files('request: { signature: { jws: a, payload: b } }', keys))).to.contain(
      'routes[0].request.signature',
    );
    for (const algorithm of ['HS256', 'none']) {
      expect(
        await refusal(
          files('', `, answerSignature: { jwksUrl: "http://127.0.0.1:9/jwks", algorithms: [${algorithm}] }`),
        ),
      ).to.contain('answerSignature.algorithms');
    }
    expect(
      await refusal(files('', ', answerSignature: { jwksUrl: "http://127.0.0.1:9/jwks", keys: ["x"] }')),
    ).to.contain('answerSignature');
  });
});
