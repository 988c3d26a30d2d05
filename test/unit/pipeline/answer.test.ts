import { expect } from 'chai';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { writeFailure, writeJsonAnswer } from '../../../src/pipeline/answer.ts';
import { matchedFixture } from './stages/exchange-fixture.ts';

describe('pipeline: the one writer of the gateway’s own answers', () => {
  it('an error in the route’s dialect, never cached or sniffed, with its own headers and the request id', () => {
    const { ex, written } = matchedFixture();
    ex.req.resume();
    writeFailure(ex, new GatewayError('GW_RATE_LIMITED', {}, { headers: { 'retry-after': '3' } }));
    expect(written.status).to.equal(429);
    expect(written.headers).to.include({
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': 'req-0001',
      'retry-after': '3',
    });
    expect(JSON.parse(String(written.body))).to.have.property('error_code'); // the MOLISA dialect
    expect(written.headers['content-length']).to.equal(String(Buffer.byteLength(String(written.body))));
    expect(ex.record).to.include({ status: 429, errorCode: 'GW_RATE_LIMITED' });
  });

  it('an unexpected failure is GW_INTERNAL, logged with the request id, its message not echoed', () => {
    const { ex, written, logged } = matchedFixture();
    writeFailure(ex, new Error('secret detail at /srv/app.ts:12'));
    expect(written.status).to.equal(500);
    expect(String(written.body)).to.not.contain('secret detail');
    expect(logged[0]).to.include({ level: 'error', message: 'internal error' });
  });

  it('after the head left, a failure cuts the connection rather than writing a second answer', () => {
    const { ex, res, written } = matchedFixture();
    (res as { headersSent: boolean }).headersSent = true;
    writeFailure(ex, new GatewayError('GW_UPSTREAM_RESET', { upstream: 'molisa' }));
    expect(written.destroyed).to.equal(true);
    expect(written.status).to.equal(undefined);
  });

  it('a refusal before the body was read closes the connection after the answer', () => {
    const { ex, written } = matchedFixture({ body: 'x'.repeat(10) });
    writeFailure(ex, new GatewayError('GW_PAYLOAD_TOO_LARGE', { limit: 1 }));
    expect(written.headers.connection).to.equal('close');
  });

  it('an ID number in the path is not echoed in the error', () => {
    const { ex, written } = matchedFixture({ url: '/molisa/citizens/001099012345' });
    ex.render = (err, context) => ({ status: err.status, contentType: 'application/json', body: context.path });
    writeFailure(ex, new GatewayError('GW_ROUTE_NOT_FOUND', { method: 'GET', path: '' }));
    expect(String(written.body)).to.not.contain('001099012345');
  });

  it('a JSON answer of the gateway’s own', () => {
    const { ex, written } = matchedFixture();
    writeJsonAnswer(ex, 200, { error_code: 0, message: 'Thành công' });
    expect(written.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(JSON.parse(String(written.body))).to.deep.equal({ error_code: 0, message: 'Thành công' });
  });
});
