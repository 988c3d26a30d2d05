import { expect } from 'chai';
import { GatewayError } from '../../../../src/errors/gateway-error.ts';
import { authenticate } from '../../../../src/pipeline/stages/authenticate.ts';
import { authorize } from '../../../../src/pipeline/stages/authorize.ts';
import { consumer, matchedFixture } from './exchange-fixture.ts';

describe('pipeline stages: authenticate, authorize', () => {
  it('authenticate settles with the consumer the authenticator found; a refusal is its error', async () => {
    const { ex, runtime } = matchedFixture();
    expect(await authenticate(ex)).to.equal(consumer);
    runtime.consumers.authenticator.authenticate = () => Promise.reject(new GatewayError('GW_UNAUTHENTICATED', {}));
    const err = await Promise.resolve(authenticate(ex)).catch((e: unknown) => e);
    expect((err as GatewayError).code).to.equal('GW_UNAUTHENTICATED');
  });

  it("authenticate takes the authenticator's identify when it has one: an API key settles without a promise", () => {
    const { ex, runtime } = matchedFixture();
    const authenticator = runtime.consumers.authenticator as { identify?: unknown; authenticate: unknown };
    authenticator.authenticate = () => Promise.reject(new Error('identify was not used'));
    authenticator.identify = () => consumer;
    expect(authenticate(ex)).to.equal(consumer);
    authenticator.identify = () => {
      throw new GatewayError('GW_UNAUTHENTICATED', {});
    };
    expect(() => authenticate(ex))
      .to.throw(GatewayError)
      .with.property('code', 'GW_UNAUTHENTICATED');
  });

  it('authorize records the consumer, checks the route, then asks the observers to admit the exchange', () => {
    const order: string[] = [];
    const { ex, runtime, route } = matchedFixture({ hooks: { admit: (r) => order.push(`admit ${r.id}`) } });
    ex.consumer = undefined;
    (runtime.consumers as { authorize: unknown }).authorize = (r: { id: string }, c: { id: string }) =>
      order.push(`authorize ${r.id} ${c.id}`);
    authorize(ex, consumer);
    expect(order).to.deep.equal([`authorize ${route.id} tinh-a`, `admit ${route.id}`]);
    expect(ex.consumer).to.equal(consumer);
    expect(ex.record.consumer).to.equal('tinh-a');
  });

  it('a consumer refused by the route is never admitted, and is recorded for the access log', () => {
    const admitted: string[] = [];
    const { ex, runtime } = matchedFixture({ hooks: { admit: (r) => admitted.push(r.id) } });
    (runtime.consumers as { authorize: unknown }).authorize = () => {
      throw new GatewayError('GW_FORBIDDEN', { consumer: 'tinh-a', route: 'molisa-dongbo' });
    };
    expect(() => authorize(ex, consumer)).to.throw(GatewayError);
    expect(admitted).to.deep.equal([]);
    expect(ex.record.consumer).to.equal('tinh-a');
  });

  it('an audit trail that cannot record refuses the exchange (GW_AUDIT_UNAVAILABLE) before any work', () => {
    const { ex } = matchedFixture({
      hooks: {
        admit: () => {
          throw new GatewayError('GW_AUDIT_UNAVAILABLE', {});
        },
      },
    });
    expect(() => authorize(ex, consumer))
      .to.throw(GatewayError)
      .with.property('code', 'GW_AUDIT_UNAVAILABLE');
  });
});
