import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createRateLimiter } from '../../../src/consumers/rate-limiter.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { makeConfig, memoryLogger } from '../../unit/consumers/helpers.ts';
import { hasRedisServer, startRedis, type RedisProcess } from '../../helpers/redis.ts';

describe('rate limiter on Redis (skipped when redis-server is not installed)', function () {
  let redis: RedisProcess | undefined;

  before(async function () {
    if (!hasRedisServer()) this.skip();
    redis = await startRedis();
  });

  after(async () => redis?.stop());

  it('two replicas share one budget', async () => {
    const config = makeConfig({
      consumers: { mcdt: { apiKeys: [], rateLimit: { requests: 3, windowSeconds: 60 } } },
      rateLimits: {
        store: 'redis',
        redis: { url: redis!.url, keyPrefix: `test:${Date.now()}` },
        onStoreError: 'deny',
      },
    });
    const clients = [
      new Redis(redis!.port, '127.0.0.1', { enableOfflineQueue: true }),
      new Redis(redis!.port, '127.0.0.1', { enableOfflineQueue: true }),
    ];
    await Promise.all(clients.map((c) => c.ping()));
    const replicas = clients.map((redis) => createRateLimiter(config, { logger: memoryLogger(), redis }));
    try {
      expect((await replicas[0].consume('mcdt', 'r'))['RateLimit-Remaining']).to.equal('2');
      expect((await replicas[1].consume('mcdt', 'r'))['RateLimit-Remaining']).to.equal('1');
      expect((await replicas[0].consume('mcdt', 'r'))['RateLimit-Remaining']).to.equal('0');
      try {
        await replicas[1].consume('mcdt', 'r');
        expect.fail('fourth call across replicas was allowed');
      } catch (err) {
        expect(err).to.be.instanceOf(GatewayError);
        expect((err as GatewayError).status).to.equal(429);
      }
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await Promise.all(clients.map((c) => c.quit()));
    }
  });
});
