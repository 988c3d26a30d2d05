import { expect } from 'chai';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { createRateLimiter } from '../../../src/consumers/rate-limiter.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { makeConfig, memoryLogger } from '../../unit/consumers/helpers.ts';

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts a throw-away redis-server and resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return child;
}

describe('rate limiter on Redis (skipped when redis-server is not installed)', function () {
  let redisProcess: ChildProcess | undefined;
  let port = 0;

  before(async function () {
    if (spawnSync('which', ['redis-server']).status !== 0) this.skip();
    port = await freePort();
    redisProcess = await startRedis(port);
  });

  after(async () => {
    if (redisProcess && redisProcess.exitCode === null) {
      const exited = once(redisProcess, 'exit');
      redisProcess.kill('SIGTERM');
      await exited;
    }
  });

  it('two replicas share one budget', async () => {
    const config = makeConfig({
      consumers: { mcdt: { apiKeys: [], rateLimit: { requests: 3, windowSeconds: 60 } } },
      rateLimits: {
        store: 'redis',
        redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: `test:${Date.now()}` },
        onStoreError: 'deny',
      },
    });
    const clients = [
      new Redis(port, '127.0.0.1', { enableOfflineQueue: true }),
      new Redis(port, '127.0.0.1', { enableOfflineQueue: true }),
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
