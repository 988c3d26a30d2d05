import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import type { Clock, GatewayConfig } from '../../../src/config/types.ts';
import { Ajv } from 'ajv';
import { GatewayConfigSchema } from '../../../src/config/config-schema.ts';
import type { AuditEntry } from '../../../src/observability/audit.ts';
import { createLogger, type Logger } from '../../../src/logging/logger.ts';

/** Fills the schema's defaults in; a value the schema refuses is kept (tests hand builders invalid configs on purpose). */
const fillDefaults = new Ajv({ useDefaults: true, allErrors: true, strict: false }).compile(GatewayConfigSchema);

/** A minimal valid config with the given consumers and routes; other sections at their schema defaults. */
export function makeConfig(extra: Partial<Record<keyof GatewayConfig, unknown>> = {}): GatewayConfig {
  const config = structuredClone({
    version: 1,
    environment: 'test',
    listen: { port: 0, host: '127.0.0.1' },
    admin: { apiKeys: [] },
    limits: {
      bodyBytes: 1_000_000,
      jsonDepth: 32,
      objectKeys: 1000,
      upload: { minBytesPerSecond: 1024, windowMs: 10000 },
    },
    paths: { schemas: '.', catalogs: '.', routes: 'routes', mappings: 'mappings' },
    logging: { level: 'error' },
    shutdown: { graceMs: 1000 },
    reload: { debounceMs: 100, watch: false },
    sandbox: { enabled: false, port: 0, host: '127.0.0.1' },
    upstreams: {},
    consumers: {},
    routes: [],
    ...extra,
  });
  fillDefaults(config);
  return config as unknown as GatewayConfig;
}

/** A config in which consumer mcdt may make `requests` calls a minute, counted in the Redis `redis` names. */
export function redisLimitedConfig(
  requests: number,
  redis: { url: string; keyPrefix?: string },
  onStoreError: 'deny' | 'allow' = 'deny',
): GatewayConfig {
  return makeConfig({
    consumers: { mcdt: { apiKeys: [], rateLimit: { requests, windowSeconds: 60 } } },
    rateLimits: { store: 'redis', redis, onStoreError },
  });
}

/** A clock the test moves by hand. */
export function fakeClock(start = Date.UTC(2025, 6, 1, 3, 0, 0)): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

/** A logger that keeps its lines in memory. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return Object.assign(createLogger({ stream, level: 'debug' }), { lines });
}

/** A fake request with headers and a socket (plain, or TLS with a peer certificate). */
export function fakeRequest(
  headers: Record<string, string | string[]> = {},
  socket: { remoteAddress?: string; authorized?: boolean; cn?: string } = {},
): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const sock: Record<string, unknown> = { remoteAddress: socket.remoteAddress ?? '127.0.0.1' };
  if (socket.authorized !== undefined) {
    sock.authorized = socket.authorized;
    sock.getPeerCertificate = () => ({ subject: { CN: socket.cn } });
  }
  return { headers: lower, socket: sock } as unknown as IncomingMessage;
}

/** Writable that collects text. */
export function sink(): NodeJS.WritableStream & { text(): string } {
  let out = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  });
  return Object.assign(w, { text: () => out });
}

/** The least an audit entry holds: request r1, a GET on route x answered 200 at time 0. */
export const AUDIT_ENTRY: AuditEntry = {
  time: new Date(0).toISOString(),
  requestId: 'r1',
  route: 'x',
  method: 'GET',
  status: 200,
  durationMs: 1,
};
