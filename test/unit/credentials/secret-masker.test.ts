import { expect } from 'chai';
import fc from 'fast-check';
import { basicCredentials } from '../../../src/credentials/common.ts';
import { createSecretMasker, redactSecrets, secretEncodings } from '../../../src/logging/secret-masker.ts';

const SECRET = 'sẹcr+t%2B:/ x&<"\\';
const TOKEN = 'Tk9-x+Q9/zR~e.W_0123456789abcdef=';

/** A body quoting both secrets in each encoding an upstream may use, between ordinary JSON. */
function hostileBody(): Buffer {
  const quotes = [
    TOKEN,
    encodeURIComponent(TOKEN),
    new URLSearchParams({ t: SECRET }).toString().slice(2),
    JSON.stringify(SECRET).slice(1, -1),
    JSON.stringify(SECRET).slice(1, -1).replace(/\//g, '\\/'),
    Buffer.from(`Basic ${TOKEN}`).toString('base64'),
    Buffer.from(`xx:${SECRET}`).toString('base64url'),
  ];
  return Buffer.from(JSON.stringify({ items: quotes.map((q, i) => ({ i, note: 'tiếp nhận', q: `<${q}>` })) }));
}

describe('credentials: secret masker (issue 13.5)', () => {
  const masker = createSecretMasker([SECRET, TOKEN])!;

  it('masks every encoding in place with a mask of the same byte length', () => {
    const body = hostileBody();
    const masked = Buffer.from(body);
    expect(masker.maskInPlace(masked)).to.equal(true);
    expect(masked.length).to.equal(body.length);
    const text = masked.toString('utf8');
    for (const encoded of secretEncodings(TOKEN)) expect(text).to.not.contain(encoded);
    for (const encoded of secretEncodings(SECRET)) expect(text).to.not.contain(encoded);
    // Still JSON: the masks are inside the strings they replaced.
    expect(JSON.parse(text).items).to.have.length(7);
  });

  it('a streamed body gives the same bytes as the whole body, wherever the chunks are cut', () => {
    const body = hostileBody();
    const whole = Buffer.from(body);
    masker.maskInPlace(whole);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: body.length - 1 }), { maxLength: 6 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), body.length];
        for (const declared of [undefined, body.length]) {
          const stream = masker.stream(declared);
          const out: Buffer[] = [];
          for (let i = 1; i < points.length; i++)
            out.push(stream.push(Buffer.from(body.subarray(points[i - 1], points[i]))));
          out.push(stream.flush());
          expect(Buffer.concat(out).equals(whole)).to.equal(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaves a body with no secret untouched and holds back only what could start one (no copy)', () => {
    const body = Buffer.from(`${'x'.repeat(2000)}Tk9-x`);
    const stream = masker.stream();
    const head = stream.push(body.subarray(0, 1000));
    expect(head.buffer).to.equal(body.buffer);
    // "Tk9-x" at the very end could be the start of the token: held until the next bytes say otherwise.
    const rest = stream.push(body.subarray(1000));
    expect(rest.length).to.equal(1000);
    expect(Buffer.concat([head, rest, stream.flush()]).equals(body)).to.equal(true);
  });

  it('masks header values as the byte strings Node hands over', () => {
    const latin1 = Buffer.from(`token="${SECRET}"`, 'utf8').toString('latin1');
    const masked = masker.maskHeaderValue(latin1);
    expect(masked.length).to.equal(latin1.length);
    expect(masked).to.not.contain(Buffer.from(SECRET).toString('latin1'));
    expect(masker.maskHeaderValue('application/json')).to.equal('application/json');
  });

  it('searches no secret shorter than 6 characters (masking it would corrupt ordinary answers)', () => {
    expect(createSecretMasker(['abc', 'short'])).to.equal(undefined);
  });

  it('finds base64 of a secret at each of the 3 byte alignments inside a longer run', () => {
    const m = createSecretMasker([TOKEN])!;
    for (const prefix of ['', 'a', 'ab', 'abc', 'abcd']) {
      const run = Buffer.from(Buffer.from(`${prefix}${TOKEN}!`).toString('base64'));
      expect(m.maskInPlace(run), `prefix ${prefix.length}`).to.equal(true);
    }
  });
});

describe('credentials: secrets in token-endpoint errors (issue 14.7)', () => {
  it('redacts a secret quoted clear, URL-encoded, form-encoded, JSON-escaped or in base64', () => {
    for (const quoted of [
      SECRET,
      encodeURIComponent(SECRET),
      encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
      new URLSearchParams({ s: SECRET }).toString().slice(2),
      JSON.stringify(SECRET).slice(1, -1),
      Buffer.from(SECRET).toString('base64'),
    ]) {
      const text = redactSecrets(`invalid_client: got client_secret=${quoted}&grant_type=x`, [SECRET]);
      expect(text).to.contain('[REDACTED]');
      expect(text).to.not.contain(quoted.slice(0, 12));
    }
  });
});

describe('credentials: RFC 6749 §2.3.1 client authentication (issue 13.8)', () => {
  it('form-encodes id and secret before base64; raw leaves them as they are', () => {
    const decoded = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    expect(decoded(basicCredentials('a:b', 'p+s %/é', 'form', []))).to.equal('a%3Ab:p%2Bs+%25%2F%C3%A9');
    expect(decoded(basicCredentials('a', 'p+s %/é', 'raw', []))).to.equal('a:p+s %/é');
  });
});
