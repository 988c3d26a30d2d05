import http from 'node:http';
import type { Socket } from 'node:net';
import { expect } from 'chai';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { Pool } from 'undici';

/** What each error dialect's body must say about the failing hop (`hop` in problem+json, the upstream id in text). */
export const dialectChecks: Record<string, (body: Record<string, unknown>, status: number, names: string) => void> = {
  'problem+json': (b, status, names) => {
    expect(b.status).to.equal(status);
    expect(String(b.detail)).to.contain(names);
  },
  molisa: (b, status, names) => {
    expect(b.error_code).to.equal(status);
    expect(String(b.message)).to.contain(names);
  },
  ndxp: (b, status, names) => {
    expect(b.responseCode).to.equal(String(status));
    expect(String(b.responseMessage)).to.contain(names);
  },
  hotich: (b, _status, names) => {
    expect(b.status).to.equal('0');
    expect(String(b.errorDescription)).to.contain(names);
  },
};

export const dialectNames = Object.keys(dialectChecks);

/**
 * Waits until `check` holds, re-checking after each turn of the event loop (then every few ms once the
 * loop is idle); nothing is asserted about time. Fails after `maxPolls` checks.
 */
export async function until(check: () => boolean, what: string, maxPolls = 20_000): Promise<void> {
  for (let i = 0; i < maxPolls; i++) {
    if (check()) return;
    await new Promise((r) => (i < 10_000 ? setImmediate(r) : setTimeout(r, 1)));
  }
  throw new Error(`gave up waiting for: ${what}`);
}

/** Connections an upstream still holds (busy and pooled): its node:http agent and its undici pool. */
export function agentSockets(runtime: Runtime, upstream: string): { busy: number; free: number } {
  const target = runtime.upstreams.get(upstream)!;
  const agent = target.agent as http.Agent;
  const pool = (target.dispatcher as Pool).stats;
  const count = (m: NodeJS.ReadOnlyDict<Socket[]>) => Object.values(m).reduce((n, list) => n + (list?.length ?? 0), 0);
  return {
    busy: count(agent.sockets) + pool.connected - pool.free + pool.pending,
    free: count(agent.freeSockets) + pool.free,
  };
}

/** A request whose response may be cut: resolves with status, the bytes that came, and whether it ended cleanly. */
export function requestMayAbort(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent },
): Promise<{ status: number; body: Buffer; complete: boolean; error?: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent });
    req.on('error', (err) => resolve({ status: 0, body: Buffer.alloc(0), complete: false, error: err.message }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const finish = (complete: boolean, error?: string) =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete, error });
      res.on('end', () => finish(res.complete));
      res.on('error', (err) => finish(false, err.message));
      res.on('aborted', () => finish(false, 'aborted'));
    });
    req.end(options.body);
  });
}

/**
 * nock (used by unit tests of the token clients) intercepts sockets process-wide from the moment it is
 * imported, and mocha imports every test file before running any: raw-socket tests would talk to nock's
 * mock socket, not to the gateway. Suspend it around such a suite and put it back afterwards.
 */
export function suspendNockDuring(suite: Mocha.Suite): void {
  let wasActive = false;
  suite.beforeAll(async () => {
    const nock = (await import('nock')).default;
    wasActive = nock.isActive();
    if (wasActive) nock.restore();
  });
  suite.afterAll(async () => {
    const nock = (await import('nock')).default;
    if (wasActive && !nock.isActive()) nock.activate();
  });
}
