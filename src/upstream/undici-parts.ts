import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Pool as UndiciPool, fetch as UndiciFetch } from 'undici';

/**
 * The parts of undici the gateway uses, each from its own file rather than the package's index. The index
 * also loads fetch, WebSocket, EventSource, the cache stores, the mocks and the interceptors, and its cookie
 * helpers read `globalThis.Headers`, which loads Node's own bundled copy of undici besides: together ~10 MB
 * resident for code the gateway never calls (docs/benchmarks.md, RSS at rest). undici has no `exports` map,
 * so its files are reachable; the types still come from the index.
 */
const require = createRequire(import.meta.url);

/** The managed client's connection pool (upstream-agent.ts). */
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;

/** The JWKS fetches' connection pool (answer-signature.ts). */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;

let fetchModule: { fetch: typeof UndiciFetch } | undefined;

/** undici's fetch, loaded at its first use (a JWKS to fetch): routes without signed answers never load it. */
export function undiciFetch(...args: Parameters<typeof UndiciFetch>): ReturnType<typeof UndiciFetch> {
  fetchModule ??= require('undici/lib/web/fetch/index.js') as { fetch: typeof UndiciFetch };
  return fetchModule.fetch(...args);
}
