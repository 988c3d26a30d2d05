import { expect } from 'chai';
import { adapt } from '../../../../src/pipeline/stages/adapt.ts';
import { matchedFixture, thrownBy } from './exchange-fixture.ts';

const code = (stage: () => unknown) => thrownBy(stage)?.code;

describe('pipeline stage: adapt', () => {
  it('a pass route: forwarded headers, upstream path with the query, the body left as the caller sent it', () => {
    const { ex } = matchedFixture({ url: '/molisa/api/v1/Service/DongBoDVC?page=2', body: 'raw' });
    ex.body = Buffer.from('raw');
    adapt(ex);
    expect(ex.upstreamPath).to.equal('/api/v1/Service/DongBoDVC?page=2');
    expect(ex.call).to.include({ method: 'POST', query: '?page=2', json: undefined, form: undefined });
    expect(ex.call.headers['x-request-id']).to.equal('req-0001');
    expect(String(ex.body)).to.equal('raw');
  });

  it('a JSON route: parsed, mapped, validated; the adapted value is what is sent and audited', () => {
    const audited: unknown[] = [];
    const { ex } = matchedFixture({
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"MaHoSo":"A1"}',
      request: (body) => ({ body: { ...(body as object), mapped: true }, errors: [] }),
      hooks: { onBody: (_record, body) => audited.push(body) },
    });
    ex.body = Buffer.from('{"MaHoSo":"A1"}');
    adapt(ex);
    expect(ex.call.json).to.deep.equal({ MaHoSo: 'A1', mapped: true });
    expect(audited).to.have.length(1);
    expect(audited[0]).to.equal(ex.call.json);
    expect(ex.body).to.equal(undefined);
  });

  it('a body the mapping or schema refuses: 400 with every field error, counted as a rejection', () => {
    const errors = [{ pointer: '/MaHoSo', rule: 'required', message: 'thiếu' }];
    const { ex } = matchedFixture({ body: '{}', request: (body) => ({ body, errors }) });
    ex.body = Buffer.from('{}');
    const thrown = thrownBy(() => adapt(ex));
    expect(thrown?.code).to.equal('GW_VALIDATION_FAILED');
    expect(thrown?.details).to.deep.equal(errors);
    expect(ex.record.validationRejected).to.equal(true);
  });

  it('a route that needs a JSON body refuses none; a credential-only JSON route passes an empty body on', () => {
    const needs = matchedFixture({ method: 'GET', request: (body) => ({ body, errors: [] }) });
    expect(code(() => adapt(needs.ex))).to.equal('GW_BAD_REQUEST');
    const credentialOnly = matchedFixture({ credentials: { bodyNeed: 'json' } });
    credentialOnly.ex.body = Buffer.alloc(0);
    adapt(credentialOnly.ex);
    expect(credentialOnly.ex.call.json).to.equal(undefined);
    expect(credentialOnly.ex.body?.length).to.equal(0);
  });

  it('the byte guard runs before the parser: too deep, or malformed, is the caller’s 400', () => {
    const deep = matchedFixture({
      body: '[[[[1]]]]',
      limits: { jsonDepth: 3 },
      request: (b) => ({ body: b, errors: [] }),
    });
    deep.ex.body = Buffer.from('[[[[1]]]]');
    expect(code(() => adapt(deep.ex))).to.match(/^GW_(BAD_REQUEST|JSON_TOO_DEEP|MALFORMED_JSON)/);
    const broken = matchedFixture({ body: '{"a":', request: (b) => ({ body: b, errors: [] }) });
    broken.ex.body = Buffer.from('{"a":');
    expect(code(() => adapt(broken.ex))).to.equal('GW_MALFORMED_JSON');
  });

  it('a form route: parsed so a credential can write into it, labelled UTF-8', () => {
    const { ex } = matchedFixture({
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=2',
      credentials: { bodyNeed: 'form' },
    });
    ex.body = Buffer.from('a=1&b=2');
    adapt(ex);
    expect(ex.call.form?.get('b')).to.equal('2');
    expect(ex.body).to.equal(undefined);
  });

  it('a bearer token the gateway verified is not forwarded; an API key header never is', () => {
    const { ex } = matchedFixture({
      headers: { authorization: 'Bearer caller-token', 'x-api-key': 'caller-key' },
      consumer: { id: 'tinh-a', via: 'jwt' },
    });
    adapt(ex);
    expect(ex.call.headers.authorization).to.equal(undefined);
    expect(ex.call.headers['x-api-key']).to.equal(undefined);
  });
});
