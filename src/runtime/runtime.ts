import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import type { RateLimitStoreStatus } from '../policy/rate-limiter.ts';
import type { AgentOptions } from 'node:https';
import { ConfigError, ConfigPathError, type ConfigIssue } from '../config/config-error.ts';
import { issuesFrom, type LoadedConfig } from '../config/load-config.ts';
import type { Clock, DialectRef, GatewayConfig, PluginRef, RouteConfig, UpstreamConfig } from '../config/types.ts';
import { routeAnswers } from '../credentials/route-answers.ts';
import type { PushLedger, RequestGuard } from '../policy/guards/guard.ts';
import { requestGuards } from '../policy/guards/registry.ts';
import { defaultDialect, errorDialects } from '../errors/dialects/index.ts';
import type { ErrorRenderer } from '../errors/dialects/dialect.ts';
import { buildPlugin } from '../config/plugin-options.ts';
import { caseShadowCheck } from '../routing/case-shadow.ts';
import type { FieldError } from '../errors/gateway-error.ts';
import type { Logger } from '../logging/logger.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import type { ConsumerIdentity } from '../auth/identity.ts';
import type { CredentialChain } from '../credentials/types.ts';
import { compilePathPattern, compilePathTemplate } from '../routing/path-pattern.ts';
import { createStreamForwarder, type StreamForwarder } from '../upstream/stream-forwarder.ts';
import { createUpstreamAgent, createUpstreamPool } from '../upstream/upstream-agent.ts';
import { upstreamBasePath, type UpstreamTarget } from '../upstream/upstream-call.ts';
import type { AnswerVerifier, AnswerVerifierDeps } from '../upstream/answer-signature.ts';
import { createConsumerShare, type ConsumerShare } from '../upstream/consumer-share.ts';
import { ROUTING_OVERRIDE_HEADERS } from '../upstream/headers.ts';
import { buildAddressList } from '../auth/addresses.ts';
import type { BlockList } from 'node:net';
import { compileRoutePlan, type RoutePlan } from './route-plan.ts';
import { compileApiVersionGuard, type ApiVersionGuard } from './api-versions.ts';
import { RouteTable, type MatchableRoute } from '../routing/route-table.ts';
import { compileAcceptance, type AcceptanceRule } from '../delivery/acceptance.ts';
import { compileRouteDelivery, type RouteDelivery } from '../delivery/route-delivery.ts';
import { keyPathProblem } from '../delivery/key-schema.ts';
import { readFileSync } from 'node:fs';
import nodePath from 'node:path';

/** The pieces other modules provide, passed in so the runtime builder has no hidden dependencies. */
export interface RuntimeFactories {
  createCredentials(
    refs: readonly PluginRef[],
    deps: CredentialFactoryDeps,
    path: (string | number)[],
  ): CredentialChain;
  /** Consumer authentication, authorization, rate limits, the gateway's own token issuer. */
  createConsumers(config: GatewayConfig, previous?: RuntimeConsumers): Promise<RuntimeConsumers>;
  /**
   * Compiles a body stage (mapping, then schema, then post-validation steps) into one function. `senders`:
   * the consumers whose bodies it reads (a request stage: the route's consumers), for their code forms.
   */
  compileStage?(
    stage: NonNullable<RouteConfig['request']>,
    path: (string | number)[],
    senders?: readonly string[],
  ): StageFn;
  tlsOptions?(upstream: UpstreamConfig, path: (string | number)[]): AgentOptions | undefined;
  /** The checker of an upstream's signed answers (`answerSignature`: its keys resolved and read). */
  answerVerifier?(
    config: NonNullable<UpstreamConfig['answerSignature']>,
    deps: AnswerVerifierDeps,
    path: (string | number)[],
  ): AnswerVerifier;
  /** Called once per build before routes compile (load catalogs, create an ajv instance...). */
  beginBuild?(config: GatewayConfig): void;
  /** The delivery ledger the routes' `ledger-module` guards read (issue 17); read at each call. */
  ledger?(): PushLedger | undefined;
}

/**
 * A compiled body stage: the adapted body and every problem found (empty = valid). `rawNumbers`: the body
 * holds numbers carried as their source text (the parser's flag; src/transform/exact-numbers.ts). `consumer`:
 * the caller whose body it is (request stages), whose declared code forms the code lists read. `facts`:
 * what the caller read off the bytes it parsed (src/transform/ops/common.ts BodyFacts).
 */
export type StageFn = (
  body: unknown,
  rawNumbers?: boolean,
  consumer?: string,
  facts?: { readonly noCombiningMarks?: boolean },
) => { body: unknown; errors: FieldError[] };

export interface CredentialFactoryDeps {
  readonly upstreamId: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly tls?: AgentOptions;
}

export interface UpstreamRuntime extends UpstreamTarget {
  readonly config: UpstreamConfig;
  readonly render: ErrorRenderer;
  readonly credentials: CredentialChain;
  readonly stream: StreamForwarder;
  /** Each consumer's share of the streamed connections (kept with the upstream across reloads). */
  readonly consumerShare: ConsumerShare;
  /** JSON of the config block: an unchanged upstream keeps its agent and tokens across reloads. */
  readonly key: string;
  /** Checks the signature on its answers (`answerSignature`), kept with its cached JWKS across reloads. */
  readonly answerVerifier?: AnswerVerifier;
  /** How its answer to a push is judged (`delivery:` of the upstream, issue 17). */
  readonly acceptance: AcceptanceRule;
}

export interface BodyStage {
  readonly run: StageFn;
  readonly mode: 'enforce' | 'report';
}

export interface RouteRuntime extends MatchableRoute {
  readonly config: RouteConfig;
  readonly upstream: UpstreamRuntime;
  readonly render: ErrorRenderer;
  readonly consumers: ReadonlySet<string>;
  readonly upstreamPath: (params: Record<string, string>) => string;
  readonly request?: BodyStage;
  readonly response?: BodyStage;
  /** What the request path needs to know about the route, compiled at load (route-plan.ts). */
  readonly plan: RoutePlan;
  /** Routing-override headers the route lets through (lower-case). */
  readonly forwardHeaders?: ReadonlySet<string>;
  /** Set when the gateway answers the route itself (no upstream call). */
  readonly answer?: (body: unknown) => { status: number; body: unknown };
  /** `apiVersions:`: GW_API_VERSION_MISMATCH when the path's API version does not serve the body. */
  readonly apiVersionGuard?: ApiVersionGuard;
  /** `audit.answerSubjectFields` is set (and keys recorded): the answer is read for the audit trail. */
  readonly auditsAnswer?: boolean;
  /** `response.signature`: where the signed data sits in the answer, and the upstream's verifier. */
  readonly signature?: {
    readonly spec: NonNullable<NonNullable<RouteConfig['response']>['signature']>;
    readonly verifier: AnswerVerifier;
  };
  /** The route's `guards:` in order, run on the mapped body before credentials (policy/guards/). */
  readonly guard?: RequestGuard;
  /** Durable delivery, compiled from `delivery:` when the plan's `delivery` is not `none` (issue 17). */
  readonly delivery?: RouteDelivery;
}

export interface RuntimeConsumers {
  readonly authenticator: Authenticator;
  /** Throws GatewayError GW_FORBIDDEN (or GW_IP_NOT_ALLOWED...) when the consumer may not use the route. */
  authorize(route: RouteRuntime, consumer: ConsumerIdentity, req: IncomingMessage): void;
  /** Spends the consumer's and the route's budgets; returns headers; throws GW_RATE_LIMITED. */
  rateLimit?(consumer: ConsumerIdentity, route: RouteRuntime): Promise<Record<string, string>>;
  /** The shared rate-limit store's state (`store: redis`), for /readyz and /admin/status. */
  rateLimitStore?(): RateLimitStoreStatus | undefined;
  /** Guards /admin and /metrics on the main listener; returns the admin identity (key label) that passed. */
  adminGuard(req: IncomingMessage, listener: 'main' | 'admin'): string;
  /** `POST /token` and `/.well-known/jwks.json` when the gateway issues tokens. */
  readonly tokenRouter?: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
  /** JSON of the settings a rate limiter or issuer was built from, to reuse them across reloads. */
  readonly key: string;
  /** Closes what `successor` (the runtime replacing this one) did not take over; everything at shutdown. */
  close(successor?: RuntimeConsumers): Promise<void>;
}

export interface Runtime {
  readonly config: GatewayConfig;
  readonly hash: string;
  readonly loadedAt: Date;
  readonly routes: RouteTable<RouteRuntime>;
  readonly routeList: readonly RouteRuntime[];
  readonly upstreams: ReadonlyMap<string, UpstreamRuntime>;
  readonly consumers: RuntimeConsumers;
  /** `auth.trustedProxies`: whose X-Forwarded-For entries the forwarded chain keeps. */
  readonly trustedProxies?: BlockList;
  /** Renders errors for requests that matched no route: the dialect of the upstream named by the first path segment. */
  rendererForPath(path: string): ErrorRenderer;
  /** Another route of the same upstream that a `:param`/`*` match reaches on a case-folding server, if any. */
  caseShadow?(
    method: string,
    path: string,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    matched: RouteRuntime,
  ): RouteRuntime | undefined;
  /** Requests in flight on this runtime; a retired runtime releases its resources at zero. */
  inFlight: number;
  /** Set when a newer runtime replaced this one. */
  retiredBy?: Runtime;
}

export interface BuildDeps {
  readonly factories: RuntimeFactories;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Builds a complete runtime from a loaded config, reusing unchanged upstreams of `previous`. */
export async function buildRuntime(loaded: LoadedConfig, deps: BuildDeps, previous?: Runtime): Promise<Runtime> {
  const { config } = loaded;
  const issues: ConfigIssue[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      issues.push(...issuesFrom(err, loaded));
      return undefined;
    }
  };
  attempt(() => deps.factories.beginBuild?.(config));
  if (issues.length > 0) throw new ConfigError(issues);

  const upstreams = new Map<string, UpstreamRuntime>();
  for (const [id, upstream] of Object.entries(config.upstreams)) {
    const built = attempt(() => buildUpstream(id, upstream, deps, previous));
    if (built) upstreams.set(id, built);
  }
  let consumers: RuntimeConsumers | undefined;
  try {
    consumers = await deps.factories.createConsumers(config, previous?.consumers);
  } catch (err) {
    issues.push(...issuesFrom(err, loaded));
  }
  const routes: RouteRuntime[] = [];
  config.routes.forEach((route, i) => {
    const upstream = upstreams.get(route.upstream);
    if (!upstream) return; // the loader already reported the missing upstream, or the upstream failed to build
    const built = attempt(() => buildRoute(route, i, upstream, config, deps));
    if (built) routes.push(built);
  });
  if (issues.length > 0 || !consumers) {
    if (consumers) await consumers.close(previous?.consumers);
    throw new ConfigError(issues);
  }
  const fallbackRender = createRenderer(undefined, ['errorDialect']);
  return {
    config,
    hash: loaded.hash,
    loadedAt: new Date(deps.clock.now()),
    routes: new RouteTable(routes),
    caseShadow: caseShadowCheck(routes),
    routeList: routes,
    upstreams,
    consumers,
    trustedProxies: trustedProxyList(config),
    rendererForPath: rendererForPath(upstreams, fallbackRender),
    inFlight: 0,
  };
}

/**
 * Built outside buildRuntime on purpose: a closure created inside it would share its scope, which holds
 * `previous` (captured by the upstream builders), so every runtime kept its predecessor alive and each
 * reload leaked the whole chain of retired runtimes (found by the soak, issue 8).
 */
function rendererForPath(upstreams: ReadonlyMap<string, UpstreamRuntime>, fallback: ErrorRenderer) {
  return (path: string): ErrorRenderer => {
    const slash = path.indexOf('/', 1);
    const first = path.slice(1, slash === -1 ? undefined : slash);
    return upstreams.get(first)?.render ?? fallback;
  };
}

function buildUpstream(id: string, config: UpstreamConfig, deps: BuildDeps, previous?: Runtime): UpstreamRuntime {
  const key = JSON.stringify(config);
  const reused = previous?.upstreams.get(id);
  if (reused && reused.key === key) return reused;
  const path = ['upstreams', id];
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new ConfigPathError([...path, 'url'], 'format', `"${config.url}" is not a valid URL`);
  }
  const tls = deps.factories.tlsOptions?.(config, [...path, 'tls']);
  if (config.tls?.rejectUnauthorized === false) {
    deps.logger.warn('TLS certificate verification is OFF for this upstream: only for test environments', {
      upstream: id,
    });
  }
  const agent: Agent = createUpstreamAgent(url, { maxSockets: config.maxSockets, tls });
  const target: UpstreamTarget = {
    id,
    url,
    basePath: upstreamBasePath(url),
    agent,
    dispatcher: createUpstreamPool(url, {
      maxSockets: config.maxSockets,
      connectTimeoutMs: config.timeouts.connectMs,
      tls,
    }),
    connectTimeoutMs: config.timeouts.connectMs,
    responseTimeoutMs: config.timeouts.responseMs,
  };
  const credentials = deps.factories.createCredentials(
    config.credentials,
    { upstreamId: id, logger: deps.logger, clock: deps.clock, tls },
    [...path, 'credentials'],
  );
  let answerVerifier: AnswerVerifier | undefined;
  if (config.answerSignature) {
    if (!deps.factories.answerVerifier) {
      throw new ConfigPathError(
        [...path, 'answerSignature'],
        'unsupported',
        'signed answers are not checked in this build',
      );
    }
    answerVerifier = deps.factories.answerVerifier(config.answerSignature, { tls, clock: deps.clock }, [
      ...path,
      'answerSignature',
    ]);
  }
  return {
    ...target,
    config,
    key,
    answerVerifier,
    render: createRenderer(config.errorDialect, [...path, 'errorDialect']),
    credentials,
    stream: createStreamForwarder(target),
    consumerShare: createConsumerShare(id, config.maxSockets, config.consumerShare),
    acceptance: compileAcceptance(config.delivery),
  };
}

function buildRoute(
  route: RouteConfig,
  index: number,
  upstream: UpstreamRuntime,
  config: GatewayConfig,
  deps: BuildDeps,
): RouteRuntime {
  const path = ['routes', index];
  let pattern;
  try {
    pattern = compilePathPattern(route.path);
  } catch (err) {
    throw new ConfigPathError([...path, 'path'], 'pattern', (err as Error).message);
  }
  let upstreamPath: (params: Record<string, string>) => string;
  if (route.upstreamPath) {
    try {
      upstreamPath = compilePathTemplate(route.upstreamPath, pattern.paramNames, pattern.hasWildcard);
    } catch (err) {
      throw new ConfigPathError([...path, 'upstreamPath'], 'template', (err as Error).message);
    }
  } else {
    upstreamPath = defaultUpstreamPath(route, upstream.id, pattern.paramNames, pattern.hasWildcard);
  }
  const request = buildStage(route.request, [...path, 'request'], config, deps, route.consumers);
  const response = buildStage(route.response, [...path, 'response'], config, deps);
  // The guard reads the parsed body, which only a route with a request stage has.
  if (route.apiVersions && !request) {
    throw new ConfigPathError([...path, 'apiVersions'], 'request', 'apiVersions needs a request stage (request:)');
  }
  const signature = answerSignature(route, upstream, path);
  const auditsAnswer = (route.audit?.answerSubjectFields?.length ?? 0) > 0 && route.audit?.keys !== false;
  const plan = compileRoutePlan({
    route,
    limits: config.limits,
    upstreamResponseTimeoutMs: upstream.responseTimeoutMs,
    hasRequestStage: request !== undefined,
    hasResponseStage: response !== undefined || signature !== undefined || auditsAnswer,
    verifiesAnswer: signature !== undefined,
    credentialBodyNeed: upstream.credentials.bodyNeed,
  });
  if (route.bodies?.includes('xml') && upstream.credentials.bodyNeed !== undefined) {
    throw new ConfigPathError(
      [...path, 'bodies'],
      'xml-body',
      `the credentials of upstream ${upstream.id} write into the ${upstream.credentials.bodyNeed} body: ` +
        'an XML body sent byte-identical cannot carry them',
    );
  }
  const officer = route.officer;
  if ((officer?.field || officer?.forwardAs?.field) && plan.body !== 'json') {
    throw new ConfigPathError(
      [...path, 'officer'],
      'officer-field',
      'an officer identity in a JSON field needs a route that reads JSON (a request schema or mapping)',
    );
  }
  if (officer?.element && !plan.accepts.xml) {
    throw new ConfigPathError([...path, 'officer', 'element'], 'officer-element', 'needs `bodies: [json, xml]`');
  }
  if (plan.delivery !== 'none') checkDelivery(route, plan, upstream, config, path);
  return {
    id: route.id,
    config: route,
    methods: new Set(route.methods),
    pattern,
    headerMatch: Object.entries(route.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const),
    upstream,
    render: route.errorDialect ? createRenderer(route.errorDialect, [...path, 'errorDialect']) : upstream.render,
    consumers: new Set(route.consumers),
    upstreamPath,
    request,
    response,
    plan,
    forwardHeaders: forwardHeaderSet(route.forwardHeaders, [...path, 'forwardHeaders']),
    answer: route.answer ? routeAnswer(route.answer, deps.clock, [...path, 'answer']) : undefined,
    delivery: plan.delivery === 'none' ? undefined : compileRouteDelivery(route.delivery!, route.id, upstream.id),
    apiVersionGuard: route.apiVersions
      ? compileApiVersionGuard(route.apiVersions, pattern.paramNames, [...path, 'apiVersions'])
      : undefined,
    signature,
    auditsAnswer,
    guard: route.guards ? buildGuards(route.guards, plan.body, deps, [...path, 'guards']) : undefined,
  };
}

/** A route's `guards:` as one function running each in order; they read the mapped JSON body. */
function buildGuards(
  refs: NonNullable<RouteConfig['guards']>,
  body: RoutePlan['body'],
  deps: BuildDeps,
  path: (string | number)[],
): RequestGuard {
  if (body !== 'json') {
    throw new ConfigPathError(
      path,
      'unsupported',
      'guards read the mapped JSON body: the route needs a request: block',
    );
  }
  const guardDeps = { ledger: () => deps.factories.ledger?.(), logger: deps.logger };
  const guards = refs.map(({ type, ...options }, i) =>
    buildPlugin(requestGuards, 'request guard', type, options, guardDeps, [...path, i], [...path, i, 'type']),
  );
  return async (value, consumerId) => {
    for (const guard of guards) await guard(value, consumerId);
  };
}

/** `response.signature` with the upstream's keys; a signature asked of requests, or without keys, is a config error. */
function answerSignature(route: RouteConfig, upstream: UpstreamRuntime, path: (string | number)[]) {
  if (route.request?.signature) {
    throw new ConfigPathError(
      [...path, 'request', 'signature'],
      'unsupported',
      'signatures are checked on answers only',
    );
  }
  const spec = route.response?.signature;
  if (!spec) return undefined;
  if (!upstream.answerVerifier) {
    throw new ConfigPathError(
      [...path, 'response', 'signature'],
      'reference',
      `upstream ${upstream.id} has no answerSignature (jwksUrl or keys) to check this signature with`,
    );
  }
  return { spec, verifier: upstream.answerVerifier };
}

/**
 * What a stored or recorded push needs, checked at load: a body the gateway holds whole (a streamed body
 * is gone once sent and cannot be stored), a parsed JSON body to read a business key from, a payload key.
 */
function checkDelivery(
  route: RouteConfig,
  plan: RoutePlan,
  upstream: UpstreamRuntime,
  config: GatewayConfig,
  path: (string | number)[],
): void {
  const at = [...path, 'delivery'];
  if (route.answer)
    throw new ConfigPathError(at, 'delivery', `route ${route.id} is answered by the gateway: nothing to deliver`);
  if (plan.delivery === 'queued' && plan.body !== 'json' && plan.body !== 'form') {
    throw new ConfigPathError(
      [...at, 'mode'],
      'delivery',
      `route ${route.id} cannot queue: its body is passed through (streamed when large), so it cannot be stored; ` +
        'give it a request stage (mapping or schema) so the body is read, checked and held whole',
    );
  }
  if (route.delivery?.businessKey !== undefined && plan.body !== 'json') {
    throw new ConfigPathError(
      [...at, 'businessKey'],
      'delivery',
      `route ${route.id} names a business key but its body is not parsed JSON (give it a request stage)`,
    );
  }
  const keys = route.delivery?.businessKey;
  const schemaFile = route.request?.schema;
  if (keys !== undefined && schemaFile !== undefined) {
    let schema: unknown;
    try {
      schema = JSON.parse(readFileSync(nodePath.resolve(config.paths.schemas, schemaFile), 'utf8'));
    } catch {
      schema = undefined; // the schema's own loader reports a file it cannot read
    }
    (typeof keys === 'string' ? [keys] : keys).forEach((key, i) => {
      const problem = schema === undefined ? undefined : keyPathProblem(schema, key);
      if (problem) {
        const at =
          typeof keys === 'string' ? [...path, 'delivery', 'businessKey'] : [...path, 'delivery', 'businessKey', i];
        throw new ConfigPathError(at, 'delivery', `route ${route.id}: business key ${key}: ${problem}`);
      }
    });
  }
  // A claim must outlast the attempt it covers (a refused token is replayed once), or another process
  // would claim the push while it is still being sent.
  const attemptMs = (upstream.connectTimeoutMs + plan.responseTimeoutMs) * (plan.tokenReplays + 1);
  if (plan.delivery === 'queued' && attemptMs >= config.delivery.worker.leaseMs) {
    throw new ConfigPathError(
      ['delivery', 'worker', 'leaseMs'],
      'delivery',
      `route ${route.id}: an attempt may take ${attemptMs} ms (connect + response timeout, replayed once), ` +
        `longer than the claim (${config.delivery.worker.leaseMs} ms): raise leaseMs or lower the timeouts`,
    );
  }
  if (config.delivery.encryptionKey === undefined) {
    throw new ConfigPathError(
      ['delivery', 'encryptionKey'],
      'required',
      `route ${route.id} has delivery: the stored pushes need delivery.encryptionKey (32 bytes, hex or base64)`,
    );
  }
}

/** The allowed routing-override headers, lower-cased; a name outside that list is a config error. */
function forwardHeaderSet(names: readonly string[] | undefined, path: (string | number)[]) {
  if (!names || names.length === 0) return undefined;
  const set = new Set<string>();
  names.forEach((name, i) => {
    const lower = name.toLowerCase();
    if (!ROUTING_OVERRIDE_HEADERS.includes(lower)) {
      throw new ConfigPathError(
        [...path, i],
        'enum',
        `"${name}" is not a routing-override header; one of: ${ROUTING_OVERRIDE_HEADERS.join(', ')}`,
      );
    }
    set.add(lower);
  });
  return set;
}

/** The consumers factory reports a bad `auth.trustedProxies` entry with its path; here it is just absent. */
function trustedProxyList(config: GatewayConfig): BlockList | undefined {
  const entries = (config.auth as { trustedProxies?: readonly string[] } | undefined)?.trustedProxies;
  if (!entries || entries.length === 0) return undefined;
  try {
    return buildAddressList(entries, ['auth', 'trustedProxies']);
  } catch {
    return undefined;
  }
}

/** Default: the gateway path without its leading `/<upstream-id>`, so legacy systems change only the base URL. */
function defaultUpstreamPath(route: RouteConfig, upstreamId: string, names: readonly string[], wildcard: boolean) {
  const prefix = `/${upstreamId}`;
  const template =
    route.path === prefix ? '/' : route.path.startsWith(`${prefix}/`) ? route.path.slice(prefix.length) : route.path;
  return compilePathTemplate(template, names, wildcard);
}

function buildStage(
  stage: RouteConfig['request'],
  path: (string | number)[],
  _config: GatewayConfig,
  deps: BuildDeps,
  senders?: readonly string[],
): BodyStage | undefined {
  if (!stage || (!stage.mapping?.length && !stage.schema)) return undefined;
  if (!deps.factories.compileStage) {
    throw new ConfigPathError(path, 'unsupported', 'mappings and schema validation are not available in this build');
  }
  return { run: deps.factories.compileStage(stage, path, senders), mode: stage.mode ?? 'enforce' };
}

/** The gateway's own answer of a route (`answer: { type, ...options }`), built by the plug-in loader. */
function routeAnswer(ref: NonNullable<RouteConfig['answer']>, clock: Clock, path: (string | number)[]) {
  const { type, ...options } = ref;
  return buildPlugin(routeAnswers, 'route answer', type, options, { clock }, path, [...path, 'type']);
}

function createRenderer(ref: DialectRef | undefined, path: (string | number)[]): ErrorRenderer {
  const name = ref === undefined ? defaultDialect : typeof ref === 'string' ? ref : ref.name;
  const options = typeof ref === 'object' ? (ref.options ?? {}) : {};
  const at = typeof ref === 'object' ? [...path, 'options'] : path;
  return buildPlugin(errorDialects, 'error dialect', name, options, {}, at, path);
}

/** Releases what `old` holds that `current` no longer uses (agents of changed upstreams). */
export function releaseRetired(old: Runtime, current: Runtime): void {
  if (old.consumers !== current.consumers) void old.consumers.close(current.consumers);
  for (const [id, upstream] of old.upstreams) {
    if (current.upstreams.get(id) === upstream) continue;
    upstream.credentials.close?.();
    upstream.answerVerifier?.close();
    upstream.stream.release();
    upstream.agent.destroy();
    void upstream.dispatcher.destroy();
  }
}

/** Closes everything a runtime holds (shutdown). */
export async function closeRuntime(runtime: Runtime): Promise<void> {
  await runtime.consumers.close();
  for (const upstream of runtime.upstreams.values()) {
    upstream.credentials.close?.();
    upstream.answerVerifier?.close();
    upstream.stream.release();
    upstream.agent.destroy();
    await upstream.dispatcher.destroy();
  }
}
