/**
 * The validated, frozen configuration. Built once per load by load-config.ts from the YAML files of the
 * config directory; never edited afterwards (a reload builds a new one and swaps it whole).
 */

/** A reference to a secret or key material: inline value (after ${VAR} interpolation), env var or file. */
export type SecretRef = string | { env: string } | { file: string };

export interface ListenConfig {
  readonly port: number;
  readonly host: string;
  /**
   * TLS on the gateway's own listener (PEM files, relative to the config directory). With
   * `clientCertificates: request` callers may present a certificate signed by `ca`; its subject CN
   * identifies a consumer (`consumers.<id>.mtlsSubject`). Read at start: a change needs a restart.
   */
  readonly tls?: {
    readonly cert: string;
    readonly key: string;
    readonly ca?: string;
    readonly clientCertificates: 'none' | 'request';
  };
}

export interface TlsClientConfig {
  /** PEM CA bundle file (private CA of the national platform). */
  readonly ca?: string;
  /** PEM client certificate and key files, for mutual TLS. */
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  /** Certificate checks are on unless this is set to false explicitly (a loud warning at load). */
  readonly rejectUnauthorized?: boolean;
}

/** `{ type, ...options }`: one entry of a pluggable list (credentials, mapping ops). */
export interface PluginRef {
  readonly type: string;
  readonly [option: string]: unknown;
}

/** Error dialect by name, or `{ name, options }`. */
export type DialectRef = string | { readonly name: string; readonly options?: Record<string, unknown> };

export interface UpstreamConfig {
  readonly url: string;
  readonly errorDialect?: DialectRef;
  readonly timeouts: { readonly connectMs: number; readonly responseMs: number };
  readonly maxSockets: number;
  /** Share of maxSockets one consumer may hold with streamed calls at once (issue 14.3). */
  readonly consumerShare: number;
  readonly tls?: TlsClientConfig;
  /** Ordered credential strategies (issue 3); each `{ type, ...options }`. */
  readonly credentials: readonly PluginRef[];
  readonly description?: string;
}

export interface ApiKeyRef {
  /** Hex SHA-256 of the key (what `lgsp-gateway gen-key` prints). */
  readonly sha256?: string;
  /** Or the key itself from an env var / file, hashed at load and not kept in clear. */
  readonly env?: string;
  readonly file?: string;
  /**
   * Demo only: the key used when `env` is unset, so the shipped sandbox config starts with no setup.
   * Refused when `environment: production`.
   */
  readonly sandboxDefault?: string;
  readonly label?: string;
}

/** Requests per window for one budget; `burst` adds a second, longer budget spent only once the first is empty. */
export interface RateLimitConfig {
  readonly requests: number;
  readonly windowSeconds: number;
  readonly burst?: { readonly requests: number; readonly windowSeconds: number };
}

/** A route's limit: `scope: consumer` (default) gives each consumer its own budget; `route` shares one. */
export interface RouteRateLimitConfig extends RateLimitConfig {
  readonly scope?: 'consumer' | 'route';
}

export interface ConsumerConfig {
  readonly name?: string;
  readonly apiKeys: readonly ApiKeyRef[];
  /** OAuth2 client secrets for `POST /token` (client_id = consumer id), stored like API keys. */
  readonly clientSecrets?: readonly ApiKeyRef[];
  /** Source addresses allowed (CIDR or single address); absent = any. */
  readonly ipAllow?: readonly string[];
  /** Client certificate subject CN required on the gateway's own TLS listener (and usable to authenticate). */
  readonly mtlsSubject?: string;
  readonly rateLimit?: RateLimitConfig;
  readonly [extension: string]: unknown;
}

export interface BodyStageConfig {
  /** Ordered mapping operations (issue 4): `{ op, ...options }`. */
  readonly mapping?: readonly PluginRef[];
  /** Schema file, relative to the schemas directory (`molisa/DongBoDVC.request.json`). */
  readonly schema?: string;
  /** Response schemas only: `enforce` answers 502 on violation, `report` logs and passes on. */
  readonly mode?: 'enforce' | 'report';
}

export interface RouteConfig {
  readonly id: string;
  readonly methods: readonly string[];
  /** Gateway path: literal segments, `:param` segments and an optional trailing `*`. */
  readonly path: string;
  /** Optional header match: every listed header must equal the value (case-insensitive name). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly upstream: string;
  /**
   * Path on the upstream, a template using the route's `:params` and `*`. Default: the gateway path with
   * the leading `/<upstream-id>` removed, so `/molisa/api/v1/x` goes to `<molisa url>/api/v1/x`.
   */
  readonly upstreamPath?: string;
  /** Consumer ids allowed to call. An empty or missing list closes the route (fail closed). */
  readonly consumers: readonly string[];
  readonly errorDialect?: DialectRef;
  readonly request?: BodyStageConfig;
  readonly response?: BodyStageConfig;
  readonly timeoutMs?: number;
  /** Routing-override headers forwarded on this route (by default every one is dropped). */
  readonly forwardHeaders?: readonly string[];
  /** Relay the upstream's `Set-Cookie` headers to the caller (default false: dropped). */
  readonly allowSetCookie?: boolean;
  /** Answered by the gateway itself instead of the upstream (MOLISA GetToken for legacy clients). */
  readonly answer?: { readonly type: 'molisa-compat-token'; readonly lifetimeSeconds?: number };
  readonly description?: string;
  readonly rateLimit?: RouteRateLimitConfig;
  readonly audit?: RouteAuditConfig;
  readonly [extension: string]: unknown;
}

/** Per-route audit settings: `keys: false` drops business keys (the record itself is always written). */
export interface RouteAuditConfig {
  readonly keys?: boolean;
  /** Overrides `audit.onFailure` for this route. */
  readonly onFailure?: AuditFailureMode;
  readonly dossierFields?: readonly string[];
  readonly subjectFields?: readonly string[];
}

/** One signing key of the token issuer: PEM (PKCS#8 / SPKI) or JWK text, inline, from env or from file. */
export interface SigningKeyConfig {
  readonly kid: string;
  readonly alg?: string;
  /** Private key: the first entry that has one signs; the others only verify (rotation). */
  readonly privateKey?: SecretRef;
  /** Public key alone: a retired key kept in the JWKS until the tokens it signed expire. */
  readonly publicKey?: SecretRef;
}

/** `auth.tokens.throttle`: failed client authentications allowed per window before `/token` answers 429. */
export interface TokenThrottleConfig {
  /** Failures counted over this many seconds from the first one; the lock lasts until the window ends. */
  readonly windowSeconds: number;
  /** Failed secrets for one configured client id, from any address. */
  readonly maxFailuresPerClient: number;
  /** Failed secrets from one caller address, for any client id. */
  readonly maxFailuresPerAddress: number;
  /** Addresses (and unknown client ids) remembered at most; the least recently failed are forgotten first. */
  readonly maxTracked: number;
}

export interface TokenIssuerConfig {
  readonly enabled: boolean;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  readonly algorithm: string;
  readonly clockToleranceSeconds: number;
  readonly signingKeys?: readonly SigningKeyConfig[];
  /** Failed client authentications allowed at `/token` (issue 13.7); defaulted by the schema. */
  readonly throttle?: TokenThrottleConfig;
}

export interface AuthConfig {
  /** Proxies (CIDR) whose X-Forwarded-For is believed when finding the caller's address. */
  readonly trustedProxies?: readonly string[];
  readonly tokens?: TokenIssuerConfig;
}

export interface RateLimitsConfig {
  readonly store: 'memory' | 'redis';
  readonly redis?: { readonly url: SecretRef; readonly keyPrefix?: string };
  /** What a call gets when Redis fails: `deny` (503), `allow`, or `memory` (per-replica budget). */
  readonly onStoreError: 'deny' | 'allow' | 'memory';
  /** Budget of a consumer that has no `rateLimit` of its own; absent = unlimited. */
  readonly defaultConsumer?: RateLimitConfig;
}

/** What a call gets while its audit line cannot be written: `refuse` (503 GW_AUDIT_UNAVAILABLE) or `continue`. */
export type AuditFailureMode = 'refuse' | 'continue';

export interface AuditConfig {
  readonly enabled: boolean;
  readonly onFailure: AuditFailureMode;
  /** Bytes of audit lines kept in memory while writes fail; lines beyond are dropped and counted. */
  readonly bufferBytes: number;
  /** How often a failing audit writer retries the lines it holds (the retry is the recovery probe). */
  readonly retryMs: number;
  readonly output: 'file' | 'stdout';
  /** Directory of the daily files (resolved by the loader like `paths`). */
  readonly dir: string;
  readonly filename: string;
  readonly retentionDays: number;
  readonly compress: boolean;
  /** HMAC-SHA256 key for personal identifiers: required when audit is enabled. */
  readonly hmacKey?: SecretRef;
  readonly dossierFields: readonly string[];
  readonly subjectFields: readonly string[];
}

export interface MetricsConfig {
  readonly enabled: boolean;
  readonly path: string;
  readonly defaultMetrics: boolean;
  /** false (default): /metrics answers only admin credentials, like /admin/*. */
  readonly public: boolean;
}

export interface AdminConfig {
  readonly apiKeys: readonly ApiKeyRef[];
  /** Separate admin listener; bound to 127.0.0.1 by default. */
  readonly listen?: { readonly port: number; readonly host: string; readonly requireKey?: boolean };
}

export interface GatewayConfig {
  readonly version: 1;
  /** Free label shown in /admin/status; `production` refuses the sandbox. */
  readonly environment: string;
  readonly listen: ListenConfig;
  readonly admin: AdminConfig;
  readonly auth?: AuthConfig;
  readonly rateLimits?: RateLimitsConfig;
  readonly audit?: AuditConfig;
  readonly metrics?: MetricsConfig;
  readonly limits: {
    readonly bodyBytes: number;
    readonly jsonDepth: number;
    readonly objectKeys: number;
    /** Minimum rate of a streamed body, checked per window (issue 14.3). */
    readonly upload: { readonly minBytesPerSecond: number; readonly windowMs: number };
  };
  /** Directories, resolved to absolute paths at load (relative ones from the config directory). */
  readonly paths: {
    readonly schemas: string;
    readonly catalogs: string;
    /** Route files (every YAML below it); default `routes/` of the config directory. */
    readonly routes: string;
    /** Shipped mapping blocks that routes `use:`; default `mappings/`. */
    readonly mappings: string;
  };
  readonly logging: { readonly level: string };
  readonly shutdown: { readonly graceMs: number };
  readonly reload: { readonly debounceMs: number; readonly watch: boolean };
  readonly sandbox: { readonly enabled: boolean; readonly port: number; readonly host: string };
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  readonly consumers: Readonly<Record<string, ConsumerConfig>>;
  readonly routes: readonly RouteConfig[];
  readonly [extension: string]: unknown;
}

/** Time source, passed in so tests control expiry without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
