import { PassThrough } from 'node:stream';
import nock from 'nock';
import type { PluginRef } from '../../../src/config/types.ts';
import {
  createCredentialChain,
  createTokenCache,
  type OutgoingCall,
  type TokenCache,
} from '../../../src/credentials/index.ts';
import { createLogger } from '../../../src/logging/logger.ts';

/** A clock tests move by hand. */
export function fakeClock(start = Date.parse('2025-07-01T08:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** A logger whose lines a test can read back. */
export function capturingLogger() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  return { logger: createLogger({ stream, level: 'debug' }), text: () => lines.join('\n') };
}

/** Builds a chain for one upstream with a fake clock, a fresh token cache and a capturing logger. */
export function buildChain(
  refs: PluginRef[],
  extra: {
    env?: Record<string, string | undefined>;
    tokenCache?: TokenCache;
    clock?: ReturnType<typeof fakeClock>;
  } = {},
) {
  const clock = extra.clock ?? fakeClock();
  const tokenCache = extra.tokenCache ?? createTokenCache();
  const log = capturingLogger();
  const chain = createCredentialChain(
    refs,
    { upstreamId: 'molisa', logger: log.logger, clock, tokenCache, env: extra.env ?? {} },
    ['upstreams', 'molisa', 'credentials'],
  );
  return { chain, clock, tokenCache, log };
}

export function call(extra: Partial<OutgoingCall> = {}): OutgoingCall {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, ...extra };
}

/** Mocha hooks for a suite whose endpoints are nock interceptors: no real connection, none left to the next test. */
export function onlyNock(): void {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  after(() => nock.enableNetConnect());
}
