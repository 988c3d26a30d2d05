import http from 'node:http';
import https from 'node:https';
import type { Pool as UndiciPool } from 'undici';
import { Pool } from './undici-parts.ts';

/** One keep-alive agent per upstream, so sockets to each national platform are pooled and bounded. */
export function createUpstreamAgent(url: URL, options: { maxSockets: number; tls?: https.AgentOptions }): http.Agent {
  const common = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxSockets: options.maxSockets,
    maxFreeSockets: Math.min(options.maxSockets, 64),
    // LIFO reuses the most recently used socket, the one least likely to have been closed by the upstream.
    scheduling: 'lifo' as const,
  };
  return url.protocol === 'https:' ? new https.Agent({ ...common, ...options.tls }) : new http.Agent(common);
}

/**
 * The managed client's connection pool for one upstream (undici): same bound as the agent, connect
 * timeout and TLS options (private CA, client certificate for mutual TLS) on every connection.
 */
export function createUpstreamPool(
  url: URL,
  options: { maxSockets: number; connectTimeoutMs: number; tls?: https.AgentOptions },
): UndiciPool {
  return new Pool(url.origin, {
    connections: options.maxSockets,
    pipelining: 1,
    connect: {
      timeout: options.connectTimeoutMs,
      ...(url.protocol === 'https:' ? tlsConnectOptions(options.tls) : {}),
    },
  });
}

function tlsConnectOptions(tls: https.AgentOptions | undefined): Record<string, unknown> {
  if (!tls) return {};
  const out: Record<string, unknown> = {};
  for (const key of ['ca', 'cert', 'key', 'passphrase', 'servername', 'rejectUnauthorized', 'minVersion'] as const) {
    if (tls[key] !== undefined) out[key] = tls[key];
  }
  return out;
}
