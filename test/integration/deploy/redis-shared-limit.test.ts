import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { freePort, request, startServer, type TestServer } from '../../helpers/http.ts';
import { createRateLimiter } from '../../../src/policy/rate-limiter.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { memoryLogger, redisLimitedConfig } from '../../unit/consumers/helpers.ts';
import { hasRedisServer, startRedis, useRedis, type RedisProcess } from '../../helpers/redis.ts';
import { rejection } from '../../helpers/rejection.ts';
import { spawnGateway, type GatewayProcess } from './processes.ts';

const cli = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

/** An audit line (audit.output: stdout): the entry itself, without the log's `level`. */
const isAudit = (line: Record<string, unknown>) => line.level === undefined && typeof line.requestId === 'string';

/**
 * Horizontal scale (issue 9): two gateway PROCESSES, as two replicas would run, share one consumer budget
 * through one Redis. Each process alone would allow the whole budget (12 of 12 with the memory store);
 * exactly 10 of 12 pass only if both count in the same place.
 */
describe('deploy: two gateway processes share one rate limit through Redis (skipped without redis-server)', function () {
  let redis: RedisProcess | undefined;
  let upstream: TestServer;
  let dir: string;
  const gateways: GatewayProcess[] = [];
  const keyPrefix = `lgsp-test:${process.pid}`;

  before(async function () {
    if (!hasRedisServer()) this.skip();
    redis = await startRedis();
    upstream = await startServer();
    dir = mkdtempSync(path.join(tmpdir(), 'lgsp-deploy-'));
    // The config as a replica gets it: secrets by ${VAR} and VAR_FILE, audit to stdout, limits in Redis.
    writeFileSync(
      path.join(dir, 'gateway.yaml'),
      [
        'version: 1',
        'environment: test',
        'reload: { watch: false }',
        'rateLimits:',
        '  store: redis',
        `  redis: { url: "\${LGSP_REDIS_URL}", keyPrefix: "${keyPrefix}" }`,
        '  onStoreError: deny',
        'audit: { output: stdout, hmacKey: "${LGSP_AUDIT_HMAC_KEY}" }',
        'upstreams:',
        '  ndxp: { url: "${UPSTREAM_NDXP_URL}" }',
        'consumers:',
        `  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }], rateLimit: { requests: 10, windowSeconds: 600 } }`,
        'routes:',
        '  - { id: ndxp-echo, methods: [GET], path: /ndxp/echo, upstream: ndxp, consumers: [mcdt] }',
        '',
      ].join('\n'),
    );
    const hmacFile = path.join(dir, 'audit-hmac-key');
    writeFileSync(hmacFile, 'deploy-test-audit-hmac-key-0123456789abcdef\n');
    const env = {
      LGSP_CONFIG_DIR: dir,
      LGSP_REDIS_URL: redis.url,
      LGSP_AUDIT_HMAC_KEY_FILE: hmacFile,
      UPSTREAM_NDXP_URL: upstream.url,
    };
    gateways.push(...(await Promise.all([spawnGateway(cli, env), spawnGateway(cli, env)])));
  });

  after(async () => {
    const codes = await Promise.all(gateways.map((g) => g.stop()));
    expect(codes.every((c) => c === 0)).to.equal(true, `graceful stop exit codes ${codes.join(',')}`);
    await upstream?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('limit 10 per window: 6 calls through A and 6 through B at once -> exactly 10 pass, 2 get 429', async () => {
    const [a, b] = gateways;
    expect(a.url).to.not.equal(b.url);
    expect(a.child.pid).to.not.equal(b.child.pid);
    const call = (g: GatewayProcess) => request(`${g.url}/ndxp/echo`, { headers: { 'x-api-key': CONSUMER_KEY } });
    const replies = await Promise.all([
      ...Array.from({ length: 6 }, () => call(a)),
      ...Array.from({ length: 6 }, () => call(b)),
    ]);

    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).to.have.length(10, `statuses ${statuses.join(',')}`);
    expect(statuses.filter((s) => s === 429)).to.have.length(2, `statuses ${statuses.join(',')}`);
    expect(upstream.requests).to.have.length(10);
    for (const r of replies) {
      expect(r.headers['ratelimit-limit']).to.equal('10');
      expect(r.headers['ratelimit-policy']).to.equal('10;w=600');
      if (r.status === 429) {
        expect(Number(r.headers['retry-after'])).to.be.greaterThan(0);
        expect(r.headers['ratelimit-remaining']).to.equal('0');
      }
    }
    // Remaining counts come from the one shared counter: 9..0 each seen once among the 10 that passed.
    const remaining = replies.filter((r) => r.status === 200).map((r) => Number(r.headers['ratelimit-remaining']));
    expect(remaining.sort((x, y) => x - y)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    // The counter lives in Redis under the configured prefix.
    const client = new Redis(redis!.url);
    try {
      const keys = await client.keys(`${keyPrefix}:*`);
      expect(keys.some((k) => k.includes('c:mcdt'))).to.equal(true, keys.join(','));
    } finally {
      await client.quit();
    }

    // Each replica wrote its own audit lines to stdout as JSON: 12 exchanges in all, 2 of them refused.
    const auditOf = (g: GatewayProcess) => g.lines.filter(isAudit);
    await Promise.all(gateways.map((g) => g.waitForLines(isAudit, 6)));
    const audit = [...auditOf(a), ...auditOf(b)];
    expect(audit).to.have.length(12);
    expect(audit.filter((l) => l.status === 429)).to.have.length(2);
    expect(audit.every((l) => l.consumer === 'mcdt' && l.route === 'ndxp-echo')).to.equal(true);
  });
});

describe('deploy: a replica that has just started counts in Redis from its first call (skipped without redis-server)', function () {
  const redis = useRedis();

  it('a call made while the Redis connection is still opening waits for it instead of answering 503', async () => {
    const config = redisLimitedConfig(5, { url: redis().url, keyPrefix: `lgsp-first:${process.pid}` });
    const limiter = createRateLimiter(config, { logger: memoryLogger() });
    try {
      // Synchronously after creation: the limiter's own connection cannot be ready yet.
      const headers = await limiter.consume('mcdt', 'r');
      expect(headers['RateLimit-Remaining']).to.equal('4');
    } finally {
      await limiter.close();
    }
  });

  it('a Redis that cannot be reached at start still fails closed (503), once the connection attempt fails', async () => {
    const port = await freePort();
    const config = redisLimitedConfig(5, { url: `redis://127.0.0.1:${port}` });
    const limiter = createRateLimiter(config, { logger: memoryLogger() });
    try {
      const err = await rejection(GatewayError, limiter.consume('mcdt', 'r'));
      expect(err.code).to.equal('GW_SERVICE_UNAVAILABLE');
    } finally {
      await limiter.close();
    }
  });
});
