import { expect } from 'chai';
import { GatewayError } from '../../../../src/errors/gateway-error.ts';
import { announceLimits, limit } from '../../../../src/pipeline/stages/limit.ts';
import { matchedFixture } from './exchange-fixture.ts';

describe('pipeline stage: limit', () => {
  it('nothing to wait for when the config sets no limit', () => {
    const { ex } = matchedFixture();
    expect(limit(ex)).to.equal(undefined);
  });

  it("spends the consumer's and the route's budgets and announces what is left", async () => {
    const { ex, runtime, written, route } = matchedFixture();
    const spent: string[] = [];
    runtime.consumers.rateLimit = async (c, r) => {
      spent.push(`${c.id} ${r.id}`);
      return { 'ratelimit-limit': '10', 'ratelimit-remaining': '9' };
    };
    announceLimits(ex, (await limit(ex))!);
    expect(spent).to.deep.equal([`tinh-a ${route.id}`]);
    expect(written.headers).to.include({ 'ratelimit-limit': '10', 'ratelimit-remaining': '9' });
  });

  it('a spent budget is the limiter’s GW_RATE_LIMITED', async () => {
    const { ex, runtime } = matchedFixture();
    runtime.consumers.rateLimit = () => Promise.reject(new GatewayError('GW_RATE_LIMITED', { retryAfter: 1 }));
    const err = (await limit(ex)!.catch((e: unknown) => e)) as GatewayError;
    expect(err.code).to.equal('GW_RATE_LIMITED');
  });
});
