import { expect } from 'chai';
import { errorDialects } from '../../../src/errors/dialects/index.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';

/**
 * Issue 17: "accepted for delivery" is a 202 notice every dialect renders, with the tracking id, and never
 * with the dialect's success code (a caller must not take a stored push for one the ministry has).
 */
describe('delivery notices in every error dialect (issue 17)', () => {
  const notice = new GatewayError('GW_DELIVERY_ACCEPTED', {
    upstream: 'molisa',
    trackingId: 'trk-0123456789abcdef',
    state: 'queued',
    reason: 'GW_UPSTREAM_CONNECT_FAILED',
  });
  const render = (name: string) => {
    const dialect = errorDialects[name];
    const renderer = dialect.create({} as never, {}) as (
      err: GatewayError,
      ctx: { requestId: string; path: string },
    ) => { status: number; body: string };
    const out = renderer(notice, { requestId: 'req-1', path: '/molisa/x' });
    return { status: out.status, body: JSON.parse(out.body) as Record<string, unknown> };
  };

  it('HTTP 202 and the tracking id in each dialect', () => {
    for (const name of Object.keys(errorDialects)) {
      const out = render(name);
      expect(out.status, name).to.equal(202);
      expect(out.body.trackingId, name).to.equal('trk-0123456789abcdef');
      expect(out.body.deliveryState, name).to.equal('queued');
    }
  });

  it('never the success code: MOLISA error_code ≠ 0, NDXP responseCode ≠ "200", civil status status ≠ "1"', () => {
    expect(render('molisa').body.error_code).to.equal(202);
    expect(render('ndxp').body.responseCode).to.equal('202');
    expect(render('hotich').body.status).to.equal('0');
    expect(render('hotich').body.errorCode).to.equal('GW_DELIVERY_ACCEPTED');
    expect(render('problem+json').body.code).to.equal('GW_DELIVERY_ACCEPTED');
  });

  it('other codes still never render a 2xx (the 202 is for the notice codes alone)', () => {
    const failure = new GatewayError('GW_UPSTREAM_TIMEOUT', { upstream: 'molisa', timeoutMs: 1, phase: 'response' });
    Object.assign(failure, { status: 202 });
    const dialect = errorDialects.molisa;
    const out = (
      dialect.create({} as never, {}) as (e: GatewayError, c: { requestId: string; path: string }) => { status: number }
    )(failure, { requestId: 'r', path: '/' });
    expect(out.status).to.equal(500);
  });
});
