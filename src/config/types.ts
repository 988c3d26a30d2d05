/**
 * The validated, frozen configuration. Built once per load by load-config.ts from the YAML files of the
 * config directory; never edited afterwards (a reload builds a new one and swaps it whole).
 */

/** A reference to a secret or key material: inline value (after ${VAR} interpolation), env var or file. */
export type SecretRef = string | { env: string } | { file: string };

export interface ListenConfig {
  readonly port: number;
  readonly host: string;
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
  readonly label?: string;
}

export interface ConsumerConfig {
  readonly name?: string;
  readonly apiKeys: readonly ApiKeyRef[];
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
  /** Answered by the gateway itself instead of the upstream (MOLISA GetToken for legacy clients). */
  readonly answer?: { readonly type: 'molisa-compat-token'; readonly lifetimeSeconds?: number };
  readonly description?: string;
  readonly [extension: string]: unknown;
}

export interface GatewayConfig {
  readonly version: 1;
  /** Free label shown in /admin/status; `production` refuses the sandbox. */
  readonly environment: string;
  readonly listen: ListenConfig;
  readonly admin: { readonly apiKeys: readonly ApiKeyRef[] };
  readonly limits: { readonly bodyBytes: number; readonly jsonDepth: number };
  /** Directories, resolved to absolute paths at load (relative ones from the config directory). */
  readonly paths: { readonly schemas: string; readonly catalogs: string };
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
