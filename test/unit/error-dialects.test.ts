import { expect } from 'chai';
import { GatewayError } from '../../src/errors/gateway-error.ts';
import { errorDialects } from '../../src/errors/dialects/index.ts';

const ctx = { requestId: 'req-1', path: '/molisa/x' };

describe('error dialects', () => {
  const err = new GatewayError('GW_UPSTREAM_TIMEOUT', { upstream: 'molisa', timeoutMs: 100, phase: 'response' });

  it('problem+json carries code, hop, upstream and request id', () => {
    const out = errorDialects['problem+json'].create({} as never, {})(err, ctx);
    const body = JSON.parse(out.body);
    expect(out.status).to.equal(504);
    expect(out.contentType).to.match(/^application\/problem\+json/);
    expect(body).to.include({ code: 'GW_UPSTREAM_TIMEOUT', hop: 'upstream', upstream: 'molisa', requestId: 'req-1' });
    expect(body.detail).to.contain('molisa');
  });

  it('molisa renders a non-zero error_code', () => {
    const body = JSON.parse(errorDialects.molisa.create({} as never, {})(err, ctx).body);
    expect(body.error_code).to.equal(504);
    expect(body.message).to.contain('100 ms');
  });

  it('ndxp renders responseCode as a string', () => {
    const body = JSON.parse(errorDialects.ndxp.create({} as never, {})(err, ctx).body);
    expect(body.responseCode).to.equal('504');
  });

  it('hotich renders status "0" with the GW code as errorCode', () => {
    const body = JSON.parse(errorDialects.hotich.create({} as never, {})(err, ctx).body);
    expect(body).to.include({ status: '0', errorCode: 'GW_UPSTREAM_TIMEOUT', requestId: 'req-1' });
  });
});
