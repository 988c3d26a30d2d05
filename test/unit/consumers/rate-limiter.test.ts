import { expect } from 'chai';
import { createRateLimiter } from '../../../src/policy/rate-limiter.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { makeConfig, memoryLogger } from './helpers.ts';
import { freePort } from '../../helpers/http.ts';
import { rejection } from '../../helpers/rejection.ts';

const limited = (p: Promise<unknown>) => rejection(GatewayError, p);

const consumers = { mcdt: { apiKeys: [], rateLimit: { requests: 3, windowSeconds: 60 } }, portal: { apiKeys: [] } };

describe('rate limiter', () => {
  it('sets RateLimit headers and answers 429 with Retry-After when the consumer budget is spent', async () => {
    const limiter = createRateLimiter(makeConfig({ consumers }), { logger: memoryLogger() });
    const first = await limiter.consume('mcdt', 'r1');
    expect(first).to.include({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '2', 'RateLimit-Policy': '3;w=60' });
    expect(Number(first['RateLimit-Reset'])).to.be.within(1, 60);
    expect((await limiter.consume('mcdt', 'r2'))['RateLimit-Remaining']).to.equal('1');
    expect((await limiter.consume('mcdt', 'r1'))['RateLimit-Remaining']).to.equal('0');
    const err = await limited(limiter.consume('mcdt', 'r1'));
    expect(err).to.include({ code: 'GW_RATE_LIMITED', status: 429 });
    expect(Number(err.headers['Retry-After'])).to.be.within(1, 60);
    expect(err.headers).to.include({ 'RateLimit-Limit': '3', 'RateLimit-Remaining': '0' });
    expect(err.message).to.contain('mcdt');
    // Another consumer has no budget configured: unlimited, no headers.
    expect(await limiter.consume('portal', 'r1')).to.deep.equal({});
  });

  it('applies a route budget per consumer by default, shared with scope: route, and reports the tightest', async () => {
    const routes = [
      { id: 'per', consumers: [], rateLimit: { requests: 2, windowSeconds: 10 } },
      { id: 'shared', consumers: [], rateLimit: { requests: 2, windowSeconds: 10, scope: 'route' } },
    ];
    const limiter = createRateLimiter(makeConfig({ consumers, routes }), { logger: memoryLogger() });
    const h = await limiter.consume('mcdt', 'per');
    expect(h).to.include({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1', 'RateLimit-Policy': '3;w=60, 2;w=10' });
    await limiter.consume('portal', 'per');
    await limiter.consume('portal', 'per');
    expect((await limited(limiter.consume('portal', 'per'))).status).to.equal(429);
    await limiter.consume('mcdt', 'per'); // mcdt still has its own route budget
    await limiter.consume('portal', 'shared');
    await limiter.consume('portal', 'shared');
    expect((await limited(limiter.consume('mcdt', 'shared'))).status).to.equal(429); // shared budget spent
  });

  it('lets a burst budget absorb requests beyond the steady rate, then refuses', async () => {
    const config = makeConfig({
      consumers: {
        a: { apiKeys: [], rateLimit: { requests: 2, windowSeconds: 60, burst: { requests: 2, windowSeconds: 600 } } },
      },
    });
    const limiter = createRateLimiter(config, { logger: memoryLogger() });
    for (let i = 0; i < 4; i++) await limiter.consume('a', 'r');
    expect((await limited(limiter.consume('a', 'r'))).status).to.equal(429);
  });

  it('uses defaultConsumer for consumers without a budget of their own', async () => {
    const config = makeConfig({
      consumers,
      rateLimits: { store: 'memory', onStoreError: 'deny', defaultConsumer: { requests: 1, windowSeconds: 60 } },
    });
    const limiter = createRateLimiter(config, { logger: memoryLogger() });
    await limiter.consume('portal', 'r');
    expect((await limited(limiter.consume('portal', 'r'))).status).to.equal(429);
  });

  describe('when the Redis store is down', () => {
    const withStore = async (onStoreError: string) => {
      const port = await freePort();
      const config = makeConfig({
        consumers,
        rateLimits: { store: 'redis', redis: { url: `redis://127.0.0.1:${port}` }, onStoreError },
      });
      return createRateLimiter(config, { logger: memoryLogger() });
    };

    it('deny (default) answers 503 GW_SERVICE_UNAVAILABLE', async () => {
      const limiter = await withStore('deny');
      try {
        const err = await limited(limiter.consume('mcdt', 'r'));
        expect(err).to.include({ code: 'GW_SERVICE_UNAVAILABLE', status: 503 });
        expect(err.headers['Retry-After']).to.equal('1');
      } finally {
        await limiter.close();
      }
    });

    it('allow lets calls through without headers', async () => {
      const limiter = await withStore('allow');
      try {
        expect(await limiter.consume('mcdt', 'r')).to.deep.equal({});
      } finally {
        await limiter.close();
      }
    });

    it('memory falls back to a per-replica budget that still limits', async () => {
      const limiter = await withStore('memory');
      try {
        for (let i = 0; i < 3; i++) await limiter.consume('mcdt', 'r');
        expect((await limited(limiter.consume('mcdt', 'r'))).status).to.equal(429);
      } finally {
        await limiter.close();
      }
    });
  });
});
