import type { Static, TSchema } from 'typebox';
import { Type } from '../plugin/schema-type.ts';

/**
 * The config keys of consumers, auth, rate limits, audit, metrics and admin, each written once as a
 * TypeBox schema: the JSON Schema ajv validates (with `useDefaults`) and, through `Static<>`, the
 * TypeScript type of the validated value. A key with a `default` is required in the schema: ajv fills the
 * default in before it checks `required`, so a file may leave it out and the code always finds it set.
 * src/config/config-schema.ts composes these into the whole config.
 */

/** `{ type: object, additionalProperties: <value> }`: a map with keys the config chooses (never `patternProperties: ^.*$`, which a key holding a newline escapes). */
export function StringMap<T extends TSchema>(value: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: value, ...options });
}

/**
 * A reference to a secret or key material: an inline value (after `${VAR}` interpolation), `{ env }` or
 * `{ file }`. An empty inline value passes the schema: the resolver (src/config/secrets.ts) refuses it
 * naming the secret and the `${VAR}` it came from, which says more than "must NOT have fewer than 1 characters".
 */
export const SecretRefSchema = Type.Unsafe<string | { env: string } | { file: string }>({
  oneOf: [
    { type: 'string' },
    {
      type: 'object',
      additionalProperties: false,
      required: ['env'],
      properties: { env: { type: 'string', minLength: 1 } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['file'],
      properties: { file: { type: 'string', minLength: 1 } },
    },
  ],
});
export type SecretRef = Static<typeof SecretRefSchema>;

/** Signing algorithms the token issuer accepts (asymmetric only: a shared HMAC key would let verifiers sign). */
export const ALLOWED_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const;

/** One key: its SHA-256 (what gen-key prints), or the key itself from an env var or a file. */
export const ApiKeyRefSchema = Type.Object(
  {
    /** Hex SHA-256 of the key (what `lgsp-gateway gen-key` prints). */
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
    /** Or the key itself from an env var / file, hashed at load and not kept in clear. */
    env: Type.Optional(Type.String({ minLength: 1 })),
    file: Type.Optional(Type.String({ minLength: 1 })),
    /** Demo only: the key used when `env` is unset, so the shipped sandbox config starts with no setup. Refused in production. */
    sandboxDefault: Type.Optional(Type.String({ minLength: 16 })),
    label: Type.Optional(Type.String()),
  },
  {
    additionalProperties: false,
    oneOf: [{ required: ['sha256'] }, { required: ['env'] }, { required: ['file'] }],
    dependencies: { sandboxDefault: ['env'] },
  },
);
export type ApiKeyRef = Static<typeof ApiKeyRefSchema>;

const keyList = () => Type.Array(ApiKeyRefSchema, { default: [] });
const cidrList = (options: Record<string, unknown> = {}) =>
  Type.Array(Type.String({ minLength: 2 }), { minItems: 1, ...options });
const count = () => Type.Integer({ minimum: 1 });

const burst = Type.Object({ requests: count(), windowSeconds: count() }, { additionalProperties: false });

/** Requests per window for one budget; `burst` adds a second, longer budget spent only once the first is empty. */
export const RateLimitSchema = Type.Object(
  { requests: count(), windowSeconds: count(), burst: Type.Optional(burst) },
  { additionalProperties: false },
);
export type RateLimitConfig = Static<typeof RateLimitSchema>;

/** A route's limit: `scope: consumer` (default) gives each consumer its own budget; `route` shares one. */
export const RouteRateLimitSchema = Type.Object(
  {
    requests: count(),
    windowSeconds: count(),
    burst: Type.Optional(burst),
    scope: Type.Enum(['consumer', 'route'], { default: 'consumer' }),
  },
  { additionalProperties: false },
);
export type RouteRateLimitConfig = Static<typeof RouteRateLimitSchema>;

/** What a call gets while its audit line cannot be written: `refuse` (503 GW_AUDIT_UNAVAILABLE) or `continue`. */
export const AuditFailureModeSchema = Type.Enum(['refuse', 'continue']);
export type AuditFailureMode = Static<typeof AuditFailureModeSchema>;

const fieldList = (options: Record<string, unknown> = {}) => Type.Array(Type.String({ minLength: 1 }), options);

/** Dossier codes: MOLISA `MaHoSo` (seed 004), civil-status `maHoSoMCDT` and `maDinhDanhHoSo` (seed 003). */
export const DEFAULT_DOSSIER_FIELDS = ['MaHoSo', 'maHoSoMCDT', 'maHoSoLT', 'maDinhDanhHoSo'];
/** Personal identifiers: VNeID `soDinhDanh` (seed 001), MOLISA `CMND` (seed 004), userinfo `SoDinhDanh`. */
export const DEFAULT_SUBJECT_FIELDS = ['soDinhDanh', 'CMND', 'soCMND'];

/** The gateway-wide audit trail (`audit:`). */
export const AuditSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    onFailure: Type.Enum(['refuse', 'continue'], { default: 'refuse' }),
    /** Bytes of audit lines kept in memory while writes fail; lines beyond are dropped and counted. */
    bufferBytes: Type.Integer({ minimum: 65_536, default: 8 * 1024 * 1024 }),
    /** How often a failing audit writer retries the lines it holds (the retry is the recovery probe). */
    retryMs: Type.Integer({ minimum: 10, maximum: 600_000, default: 1000 }),
    output: Type.Enum(['file', 'stdout'], { default: 'file' }),
    /** Directory of the daily files (resolved by the loader like `paths`). */
    dir: Type.String({ minLength: 1, default: 'audit' }),
    filename: Type.String({ pattern: '%DATE%', default: 'audit-%DATE%.jsonl' }),
    retentionDays: Type.Integer({ minimum: 1, default: 365 }),
    compress: Type.Boolean({ default: false }),
    /** HMAC-SHA256 key for personal identifiers: required when audit is enabled. */
    hmacKey: Type.Optional(SecretRefSchema),
    dossierFields: fieldList({ default: DEFAULT_DOSSIER_FIELDS }),
    subjectFields: fieldList({ default: DEFAULT_SUBJECT_FIELDS }),
  },
  { additionalProperties: false, default: {} },
);
export type AuditConfig = Static<typeof AuditSchema>;

/** Per-route audit settings: `keys: false` drops business keys (the record itself is always written). */
export const RouteAuditSchema = Type.Object(
  {
    keys: Type.Optional(Type.Boolean({ default: true })),
    /** Overrides `audit.onFailure` for this route. */
    onFailure: Type.Optional(AuditFailureModeSchema),
    dossierFields: Type.Optional(fieldList()),
    subjectFields: Type.Optional(fieldList()),
    /**
     * Personal identifiers read from the answer (after its signature is checked and it is mapped): whose
     * data came back, recorded as `answer.<field>#hmac` (issue 16.6). None unless listed.
     */
    answerSubjectFields: Type.Optional(fieldList()),
  },
  { additionalProperties: false },
);
export type RouteAuditConfig = Static<typeof RouteAuditSchema>;

/** One signing key of the token issuer: PEM (PKCS#8 / SPKI) or JWK text, inline, from env or from file. */
export const SigningKeySchema = Type.Object(
  {
    kid: Type.String({ minLength: 1 }),
    alg: Type.Optional(Type.Enum([...ALLOWED_ALGORITHMS])),
    /** Private key: the first entry that has one signs; the others only verify (rotation). */
    privateKey: Type.Optional(SecretRefSchema),
    /** Public key alone: a retired key kept in the JWKS until the tokens it signed expire. */
    publicKey: Type.Optional(SecretRefSchema),
  },
  { additionalProperties: false, oneOf: [{ required: ['privateKey'] }, { required: ['publicKey'] }] },
);
export type SigningKeyConfig = Static<typeof SigningKeySchema>;

/** `auth.tokens.throttle`: failed client authentications allowed per window before `/token` answers 429 (issue 13.7). */
export const TokenThrottleSchema = Type.Object(
  {
    /** Failures counted over this many seconds from the first one; the lock lasts until the window ends. */
    windowSeconds: Type.Integer({ minimum: 1, maximum: 86400, default: 900 }),
    /** Failed secrets for one configured client id, from any address. */
    maxFailuresPerClient: Type.Integer({ minimum: 1, default: 10 }),
    /** Failed secrets from one caller address, for any client id. */
    maxFailuresPerAddress: Type.Integer({ minimum: 1, default: 30 }),
    /** Addresses (and unknown client ids) remembered at most; the least recently failed are forgotten first. */
    maxTracked: Type.Integer({ minimum: 100, maximum: 1000000, default: 10000 }),
  },
  { additionalProperties: false, default: {} },
);
export type TokenThrottleConfig = Static<typeof TokenThrottleSchema>;

/** The gateway's own OAuth2 token issuer (`POST /token`). */
export const TokenIssuerSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    issuer: Type.String({ minLength: 1, default: 'lgsp-gateway' }),
    audience: Type.String({ minLength: 1, default: 'lgsp-gateway' }),
    ttlSeconds: Type.Integer({ minimum: 30, maximum: 86400, default: 300 }),
    algorithm: Type.Enum([...ALLOWED_ALGORITHMS], { default: 'ES256' }),
    clockToleranceSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 5 }),
    throttle: TokenThrottleSchema,
    signingKeys: Type.Optional(Type.Array(SigningKeySchema)),
  },
  { additionalProperties: false, default: {} },
);
export type TokenIssuerConfig = Static<typeof TokenIssuerSchema>;

export const AuthSchema = Type.Object(
  {
    /** Proxies (CIDR) whose X-Forwarded-For is believed when finding the caller's address. */
    trustedProxies: cidrList({ minItems: 0, default: [] }),
    tokens: TokenIssuerSchema,
  },
  { additionalProperties: false, default: {} },
);
export type AuthConfig = Static<typeof AuthSchema>;

export const RateLimitsSchema = Type.Object(
  {
    store: Type.Enum(['memory', 'redis'], { default: 'memory' }),
    redis: Type.Optional(
      Type.Object(
        { url: SecretRefSchema, keyPrefix: Type.String({ minLength: 1, default: 'lgsp:rl' }) },
        { additionalProperties: false },
      ),
    ),
    /** What a call gets when Redis fails: `deny` (503), `allow`, or `memory` (per-replica budget). */
    onStoreError: Type.Enum(['deny', 'allow', 'memory'], { default: 'deny' }),
    /** Budget of a consumer that has no `rateLimit` of its own; absent = unlimited. */
    defaultConsumer: Type.Optional(RateLimitSchema),
  },
  {
    additionalProperties: false,
    default: {},
    if: { properties: { store: { const: 'redis' } }, required: ['store'] },
    then: { required: ['redis'] },
  },
);
export type RateLimitsConfig = Static<typeof RateLimitsSchema>;

export const MetricsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    path: Type.String({ pattern: '^/', default: '/metrics' }),
    defaultMetrics: Type.Boolean({ default: true }),
    /** false (default): /metrics answers only admin credentials, like /admin/*. */
    public: Type.Boolean({ default: false }),
  },
  { additionalProperties: false, default: {} },
);
export type MetricsConfig = Static<typeof MetricsSchema>;

export const AdminSchema = Type.Object(
  {
    apiKeys: keyList(),
    /** Separate admin listener; bound to 127.0.0.1 by default. */
    listen: Type.Optional(
      Type.Object(
        {
          port: Type.Integer({ minimum: 0, maximum: 65535 }),
          host: Type.String({ minLength: 1, default: '127.0.0.1' }),
          requireKey: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);
export type AdminConfig = Static<typeof AdminSchema>;

/** A code form: one catalogue column, or several (`aliases` included) read together. */
export const CodeFormSchema = Type.Union([
  Type.String({ minLength: 1 }),
  Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }),
]);
export type CodeForm = Static<typeof CodeFormSchema>;

export const ConsumerSchema = Type.Object(
  {
    name: Type.Optional(Type.String()),
    apiKeys: keyList(),
    /** OAuth2 client secrets for `POST /token` (client_id = consumer id), stored like API keys. */
    clientSecrets: keyList(),
    /** Source addresses allowed (CIDR or single address); absent = any. */
    ipAllow: Type.Optional(cidrList()),
    /** Client certificate subject CN required on the gateway's own TLS listener (and usable to authenticate). */
    mtlsSubject: Type.Optional(Type.String({ minLength: 1 })),
    rateLimit: Type.Optional(RateLimitSchema),
    /**
     * The consumer's sender profile: per catalogue (`config/catalogs/<name>.yaml`), the column(s) its values
     * are written in (`ethnicity: id` for MOLISA ids, `[gso, name, aliases]` for GSO codes or names). A
     * codelist op reads this consumer's values so instead of the route's `from:` (issue 16.1).
     */
    codeForms: Type.Optional(StringMap(CodeFormSchema)),
  },
  { additionalProperties: false },
);
export type ConsumerConfig = Static<typeof ConsumerSchema>;
