/**
 * A hand-built exchange for the stage tests: a caller's request as a stream (its body written and ended),
 * a response that records what was written, one route with its compiled plan, and a runtime whose route
 * table, consumers and credentials are stubs the test tunes. No server, no socket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { ConsumerIdentity } from '../../../../src/auth/identity.ts';
import type { CredentialChain, OutgoingCall } from '../../../../src/credentials/types.ts';
import { errorDialects } from '../../../../src/errors/dialects/index.ts';
import type { FieldError, GatewayError } from '../../../../src/errors/gateway-error.ts';
import { Exchange, type PipelineContext, type PipelineHooks } from '../../../../src/pipeline/exchange.ts';
import { parseJsonPlain } from '../../../../src/pipeline/parse-json.ts';
import { compileRoutePlan } from '../../../../src/runtime/route-plan.ts';
import type { RouteRuntime, Runtime } from '../../../../src/runtime/runtime.ts';
import type { RouteConfig } from '../../../../src/config/types.ts';

export const problemJson = errorDialects['problem+json'].create({} as never, {});
export const molisa = errorDialects['molisa'].create({} as never, {});

export interface Written {
  status?: number;
  headers: Record<string, unknown>;
  body?: string | Buffer;
  destroyed: boolean;
}

export interface FixtureOptions {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The route's config beyond id, path, methods and upstream. */
  route?: Partial<RouteConfig>;
  request?: (body: unknown) => { body: unknown; errors: FieldError[] };
  response?: { run: (body: unknown) => { body: unknown; errors: FieldError[] }; mode: 'enforce' | 'report' };
  credentials?: Partial<CredentialChain>;
  hooks?: PipelineHooks;
  limits?: Partial<{ bodyBytes: number; jsonDepth: number; objectKeys: number }>;
  consumer?: ConsumerIdentity;
}

export const consumer: ConsumerIdentity = { id: 'tinh-a', via: 'api-key' };

/** Credentials that inject one header and never refuse. */
export function stubCredentials(overrides: Partial<CredentialChain> = {}): CredentialChain {
  return {
    apply: async (call: OutgoingCall) => void (call.headers.authorization = 'Bearer fresh'),
    applyCached: (call: OutgoingCall) => ((call.headers.authorization = 'Bearer cached'), true),
    isTokenRejected: (status) => status === 401,
    invalidate: () => {},
    ...overrides,
  };
}

export function exchangeFixture(options: FixtureOptions = {}) {
  const method = options.method ?? 'POST';
  const headers: Record<string, string> = { host: 'gw.local', ...options.headers };
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  if (body !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined)
    headers['content-length'] = String(body.length);
  const stream = new PassThrough();
  const req = Object.assign(stream, {
    method,
    url: options.url ?? '/molisa/api/v1/Service/DongBoDVC',
    headers,
    rawHeaders: Object.entries(headers).flat(),
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    socket: { remoteAddress: '127.0.0.1', destroy() {} },
    complete: false,
  }) as unknown as IncomingMessage;
  stream.once('end', () => ((req as { complete: boolean }).complete = true));
  if (body !== undefined) stream.end(body);
  else stream.end();

  const written: Written = { headers: {}, destroyed: false };
  const closeListeners: (() => void)[] = [];
  const res = {
    headersSent: false,
    writableFinished: false,
    statusCode: 200,
    setHeader(name: string, value: unknown) {
      written.headers[name.toLowerCase()] = value;
    },
    getHeader: (name: string) => written.headers[name.toLowerCase()],
    writeHead(status: number, head: Record<string, unknown>) {
      written.status = status;
      for (const [k, v] of Object.entries(head)) written.headers[k.toLowerCase()] = v;
      res.headersSent = true;
    },
    end(chunk?: string | Buffer) {
      written.body = chunk;
      res.writableFinished = true;
    },
    destroy() {
      written.destroyed = true;
    },
    once(event: string, fn: () => void) {
      if (event === 'close') closeListeners.push(fn);
    },
  } as unknown as ServerResponse & { headersSent: boolean; writableFinished: boolean };

  const config = {
    id: 'molisa-dongbo',
    path: '/molisa/api/v1/Service/DongBoDVC',
    methods: ['POST'],
    upstream: 'molisa',
    ...options.route,
  } as RouteConfig;
  const limits = {
    bodyBytes: 1024 * 1024,
    jsonDepth: 32,
    objectKeys: 1000,
    upload: { minBytesPerSecond: 1, windowMs: 10_000 },
    ...options.limits,
  };
  const credentials = stubCredentials(options.credentials);
  const request = options.request ? { run: options.request, mode: 'enforce' as const } : undefined;
  const route = {
    id: config.id,
    config,
    methods: new Set(config.methods),
    pattern: { paramNames: [], hasWildcard: false },
    headerMatch: [],
    upstream: {
      id: 'molisa',
      credentials,
      responseTimeoutMs: 5000,
      consumerShare: { acquire: () => () => {} },
    },
    render: molisa,
    consumers: new Set(['tinh-a']),
    upstreamPath: () => '/api/v1/Service/DongBoDVC',
    request,
    response: options.response,
    answer: undefined as RouteRuntime['answer'],
    plan: compileRoutePlan({
      route: config,
      limits,
      upstreamResponseTimeoutMs: 5000,
      hasRequestStage: request !== undefined,
      hasResponseStage: options.response !== undefined,
      credentialBodyNeed: options.credentials?.bodyNeed,
    }),
  } as unknown as RouteRuntime;

  const runtime = {
    config: { limits },
    routes: { match: () => ({ kind: 'route', route, params: {} }) },
    consumers: {
      authenticator: { authenticate: async () => options.consumer ?? consumer },
      authorize: () => {},
    },
    rendererForPath: () => problemJson,
    inFlight: 0,
  } as unknown as Runtime & { routes: { match: unknown }; consumers: Record<string, unknown> };

  const logged: { level: string; message: string; meta?: unknown }[] = [];
  const log = (level: string) => (message: string, meta?: unknown) => logged.push({ level, message, meta });
  const ctx: PipelineContext = {
    logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') } as never,
    hooks: options.hooks,
    parseJson: parseJsonPlain,
    maxResponseBytes: 1024 * 1024,
  };
  const ex = new Exchange(req, res, runtime, ctx, 'req-0001');
  return { ex, req, res, route, runtime, written, logged, credentials, closeListeners };
}

/** The exchange as the match, authenticate and authorize stages leave it. */
export function matchedFixture(options: FixtureOptions = {}) {
  const fixture = exchangeFixture(options);
  const { ex, route } = fixture;
  ex.route = route;
  ex.params = {};
  ex.render = route.render;
  ex.consumer = options.consumer ?? consumer;
  const length = ex.req.headers['content-length'];
  ex.framing =
    ex.req.headers['transfer-encoding'] !== undefined
      ? { kind: 'chunked' }
      : length !== undefined && Number(length) > 0
        ? { kind: 'length', length: Number(length) }
        : { kind: 'none' };
  return fixture;
}

/** The GatewayError a stage threw (undefined when it threw none), for checking its code and params. */
export function thrownBy(stage: () => unknown): GatewayError | undefined {
  try {
    stage();
  } catch (err) {
    return err as GatewayError;
  }
  return undefined;
}
