import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import type { GatewayError } from '../../../../src/errors/gateway-error.ts';
import { decode, read, SMALL_BODY_BYTES } from '../../../../src/pipeline/stages/read.ts';
import { matchedFixture, thrownBy } from './exchange-fixture.ts';

const json = { 'content-type': 'application/json' };

const code = (stage: () => unknown) => thrownBy(stage)?.code;

describe('pipeline stage: read', () => {
  it('no body: nothing to read, nothing streams', () => {
    const { ex } = matchedFixture({ method: 'GET' });
    expect(read(ex)).to.equal(undefined);
    expect(ex.streamed).to.equal(false);
  });

  it('a pass route reads a small body of declared length whole, byte for byte', async () => {
    const { ex } = matchedFixture({ body: 'abc\u0000\u00ff' });
    expect(Buffer.compare((await read(ex))!, Buffer.from('abc\u0000\u00ff'))).to.equal(0);
  });

  it('a pass route streams a chunked body, or one larger than the small-body size', () => {
    const chunked = matchedFixture({ headers: { 'transfer-encoding': 'chunked' }, body: 'x' });
    expect(read(chunked.ex)).to.equal(undefined);
    expect(chunked.ex.streamed).to.equal(true);
    const large = matchedFixture({ body: Buffer.alloc(SMALL_BODY_BYTES + 1) });
    expect(read(large.ex)).to.equal(undefined);
    expect(large.ex.streamed).to.equal(true);
  });

  it('a parsed route reads even a chunked body whole', async () => {
    const { ex } = matchedFixture({
      headers: { ...json, 'transfer-encoding': 'chunked' },
      body: '{"a":1}',
      request: (body) => ({ body, errors: [] }),
    });
    expect(String(await read(ex))).to.equal('{"a":1}');
    expect(ex.streamed).to.equal(false);
  });

  it('a declared length over the limit is a 413 before a byte is read; a body growing past it too', async () => {
    const declared = matchedFixture({ body: 'x'.repeat(100), limits: { bodyBytes: 10 } });
    expect(code(() => read(declared.ex))).to.equal('GW_PAYLOAD_TOO_LARGE');
    const chunked = matchedFixture({
      headers: { ...json, 'transfer-encoding': 'chunked' },
      body: 'x'.repeat(100),
      limits: { bodyBytes: 10 },
      request: (body) => ({ body, errors: [] }),
    });
    const err = (await read(chunked.ex)!.catch((e: unknown) => e)) as GatewayError;
    expect(err.code).to.equal('GW_PAYLOAD_TOO_LARGE');
  });
});

describe('pipeline stage: read (decode)', () => {
  const mapped = { request: (body: unknown) => ({ body, errors: [] }) };

  it('a JSON route takes only a JSON media type (415 otherwise), checked once whatever the route needs', () => {
    const { ex } = matchedFixture({ headers: { 'content-type': 'text/plain' }, body: '{}', ...mapped });
    ex.body = Buffer.from('{}');
    expect(code(() => decode(ex))).to.equal('GW_UNSUPPORTED_MEDIA_TYPE');
  });

  it('a form route takes only a form (415 otherwise)', () => {
    const { ex } = matchedFixture({ body: 'a=1', credentials: { bodyNeed: 'form' } });
    ex.body = Buffer.from('a=1');
    expect(code(() => decode(ex))).to.equal('GW_UNSUPPORTED_MEDIA_TYPE');
  });

  it('plain UTF-8 needs no decoding; a pass route is never decoded', () => {
    const plain = matchedFixture({ headers: json, body: '{}', ...mapped });
    plain.ex.body = Buffer.from('{}');
    expect(decode(plain.ex)).to.equal(undefined);
    const pass = matchedFixture({ headers: { ...json, 'content-encoding': 'gzip' }, body: 'x' });
    pass.ex.body = Buffer.from('x');
    expect(decode(pass.ex)).to.equal(undefined);
  });

  it('a gzip body is decoded before it is parsed; one that is not gzip is a 400', async () => {
    const body = gzipSync('{"a":1}');
    const { ex } = matchedFixture({ headers: { ...json, 'content-encoding': 'gzip' }, body, ...mapped });
    ex.body = body;
    expect(String(await decode(ex))).to.equal('{"a":1}');
    const broken = matchedFixture({ headers: { ...json, 'content-encoding': 'gzip' }, body: '{}', ...mapped });
    broken.ex.body = Buffer.from('{}');
    const err = (await decode(broken.ex)!.catch((e: unknown) => e)) as GatewayError;
    expect(err.code).to.equal('GW_BAD_REQUEST');
  });
});
