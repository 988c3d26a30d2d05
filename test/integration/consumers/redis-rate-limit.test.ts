import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createRateLimiter } from '../../../src/policy/rate-limiter.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { memoryLogger, redisLimitedConfig } from '../../unit/consumers/helpers.ts';
import { useRedis } from '../../helpers/redis.ts';
import { rejection } from '../../helpers/rejection.ts';

describe('rate limiter on Redis (skipped when redis-server is not installed)', function () {
  const redis = useRedis();

  it('two replicas share one budget', async () => {
    const config = redisLimitedConfig(3, { url: redis().url, keyPrefix: `test:${Date.now()}` });
    const clients = [
      new Redis(redis().port, '127.0.0.1', { enableOfflineQueue: true }),
      new Redis(redis().port, '127.0.0.1', { enableOfflineQueue: true }),
    ];
    await Promise.all(clients.map((c) => c.ping()));
    const replicas = clients.map((redis) => createRateLimiter(config, { logger: memoryLogger(), redis }));
    try {
      expect((await replicas[0].consume('mcdt', 'r'))['RateLimit-Remaining']).to.equal('2');
      expect((await replicas[1].consume('mcdt', 'r'))['RateLimit-Remaining']).to.equal('1');
      expect((await replicas[0].consume('mcdt', 'r'))['RateLimit-Remaining']).to.equal('0');
      const fourth = await rejection(GatewayError, replicas[1].consume('mcdt', 'r'));
      expect(fourth.status, 'the fourth call across the replicas').to.equal(429);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await Promise.all(clients.map((c) => c.quit()));
    }
  });
});
