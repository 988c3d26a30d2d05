import { expect } from 'chai';
import { GatewayError } from '../../../../src/errors/gateway-error.ts';
import { match } from '../../../../src/pipeline/stages/match.ts';
import { exchangeFixture, molisa, problemJson, thrownBy } from './exchange-fixture.ts';

function thrown(stage: () => void): GatewayError {
  const err = thrownBy(stage);
  expect(err).to.be.instanceOf(GatewayError);
  return err!;
}

describe('pipeline stage: match', () => {
  it('finds the route, records it, announces it in flight and decides the framing', () => {
    const inFlight: [string, number][] = [];
    const { ex, route } = exchangeFixture({
      body: '{"a":1}',
      hooks: { onInFlight: (id, delta) => inFlight.push([id, delta]) },
    });
    match(ex);
    expect(ex.route).to.equal(route);
    expect(ex.render).to.equal(molisa);
    expect(ex.record).to.include({ route: 'molisa-dongbo', upstream: 'molisa' });
    expect(ex.framing).to.deep.equal({ kind: 'length', length: 7 });
    expect(inFlight).to.deep.equal([['molisa-dongbo', 1]]);
  });

  it('refuses a path an upstream could resolve elsewhere, in the dialect of the route it would match', () => {
    const { ex } = exchangeFixture({ url: '/molisa/api/%2e%2e/admin' });
    const err = thrown(() => match(ex));
    expect(err.code).to.equal('GW_PATH_NOT_ALLOWED');
    expect(ex.render).to.equal(molisa);
    expect(ex.record.route).to.equal(undefined);
  });

  it('refuses a query that parsers disagree about (a broken escape)', () => {
    const { ex } = exchangeFixture({ url: '/molisa/x?a=%zz' });
    expect(thrown(() => match(ex)).code).to.equal('GW_PATH_NOT_ALLOWED');
  });

  it('no route: 404 in the path dialect; a known path with another method: 405 with Allow', () => {
    const none = exchangeFixture();
    (none.runtime.routes as { match: unknown }).match = () => ({ kind: 'none' });
    expect(thrown(() => match(none.ex)).code).to.equal('GW_ROUTE_NOT_FOUND');
    expect(none.ex.render).to.equal(problemJson);

    const method = exchangeFixture();
    (method.runtime.routes as { match: unknown }).match = () => ({ kind: 'method', allow: ['GET', 'HEAD'] });
    const err = thrown(() => match(method.ex));
    expect(err.code).to.equal('GW_METHOD_NOT_ALLOWED');
    expect(err.headers).to.deep.equal({ allow: 'GET, HEAD' });
  });

  it('refuses a GET that carries a body before anything reads it (framing, CL.0 desync)', () => {
    const { ex } = exchangeFixture({ method: 'GET', body: 'GET /admin HTTP/1.1\r\n\r\n' });
    expect(thrown(() => match(ex)).code).to.equal('GW_BAD_REQUEST');
    expect(ex.record.route).to.equal('molisa-dongbo'); // matched: the 400 is in the route's dialect
    expect(ex.render).to.equal(molisa);
  });

  it('refuses a parameter match that a case-folding upstream would send to another route', () => {
    const { ex, route, runtime } = exchangeFixture();
    (route as { pattern: unknown }).pattern = { paramNames: ['id'], hasWildcard: false };
    (runtime as { caseShadow: unknown }).caseShadow = () => route;
    expect(thrown(() => match(ex)).code).to.equal('GW_PATH_NOT_ALLOWED');
  });
});
