import { spawn, spawnSync } from 'node:child_process';
import { stopChild } from './child-process.ts';
import { freePort } from './http.ts';

/** Whether `redis-server` runs on this machine: the Redis tests skip themselves where it does not. */
export const hasRedisServer = (): boolean => spawnSync('redis-server', ['--version']).status === 0;

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** SIGTERM, resolved once the process has exited (a Redis outage, or the end of the test). */
  stop(): Promise<void>;
}

/**
 * Starts a throw-away `redis-server` on loopback without persistence, on `port` (a free one by default; the
 * same one again to bring a stopped Redis back), and resolves once it accepts connections.
 */
export async function startRedis(port?: number): Promise<RedisProcess> {
  const at = port ?? (await freePort());
  const child = spawn(
    'redis-server',
    ['--port', String(at), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
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
  return { port: at, url: `redis://127.0.0.1:${at}`, stop: async () => void (await stopChild(child)) };
}

/**
 * Mocha hooks for a suite that needs a Redis of its own: one is started before the suite (which is skipped
 * where redis-server is missing) and stopped after it. Returns the running one.
 */
export function useRedis(): () => RedisProcess {
  let redis: RedisProcess | undefined;
  before(async function () {
    if (!hasRedisServer()) this.skip();
    redis = await startRedis();
  });
  after(async () => redis?.stop());
  return () => redis!;
}
