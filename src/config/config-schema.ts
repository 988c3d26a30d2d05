import type { Static } from 'typebox';
import { Type } from '../plugin/schema-type.ts';
import {
  ALLOWED_ALGORITHMS,
  AdminSchema,
  AuditSchema,
  AuthSchema,
  ConsumerSchema,
  MetricsSchema,
  RateLimitsSchema,
  RouteAuditSchema,
  RouteRateLimitSchema,
  SecretRefSchema,
  StringMap,
} from './consumers-schema.ts';
import { DeliveryStoreSchema } from './delivery-store-schema.ts';

/**
 * The merged configuration (all YAML files of the config directory together), written once as TypeBox
 * schemas: each is the JSON Schema ajv validates and, through `Static<>`, the TypeScript type of the
 * validated value (src/config/types.ts names them). Strict (`additionalProperties: false`) so a misspelt
 * key is an error, not a silent default. Defaults live here alone: a key with a `default` is required, as
 * ajv (`useDefaults`) fills it in before checking `required`, so the code never falls back on its own.
 * Plug-in option blocks (credentials, mapping ops, dialect options, route answers) are checked against
 * each plug-in's own schema by src/config/plugin-options.ts, with the same located error reporting.
 */

/** `{ type, ...options }` / `{ op, ...options }`: one entry of a pluggable list, checked by the plug-in's schema. */
const pluginRef = <K extends string>(discriminator: K) =>
  Type.Unsafe<{ readonly [key in K]: string } & { readonly [option: string]: unknown }>({
    type: 'object',
    required: [discriminator],
    properties: { [discriminator]: { type: 'string', minLength: 1 } },
  });

export const CredentialRefSchema = pluginRef('type');
export type PluginRef = Static<typeof CredentialRefSchema>;
export const MappingOpRefSchema = pluginRef('op');

/** Error dialect by name, or `{ name, options }` (options checked by the dialect's own schema). */
export const DialectRefSchema = Type.Unsafe<string | { name: string; options?: Record<string, unknown> }>({
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1 }, options: { type: 'object' } },
    },
  ],
});
export type DialectRef = Static<typeof DialectRefSchema>;

export const BodyStageSchema = Type.Object(
  {
    /** Ordered mapping operations (issue 4): `{ op, ...options }`. */
    mapping: Type.Optional(Type.Array(MappingOpRefSchema)),
    /** Schema file, relative to the schemas directory (`molisa/DongBoDVC.request.json`). */
    schema: Type.Optional(Type.String({ minLength: 1 })),
    /** Response schemas only: `enforce` answers 502 on violation, `report` logs and passes on. */
    mode: Type.Optional(Type.Enum(['enforce', 'report'])),
    /** `<file>.<key>` of the shipped mapping blocks; replaced by the block at load (load-config.ts). */
    use: Type.Optional(Type.String()),
    /**
     * Response stages only: the answer carries the national side's signature (a compact JWS at `jws`),
     * checked with the upstream's `answerSignature` keys before mapping; the verified claims replace
     * `payload` (issue 16.2). `jws` and `payload` may name the same field (the answer's data is the JWS).
     */
    signature: Type.Optional(
      Type.Object(
        {
          /** Dotted path of the compact JWS in the answer (`signedData`). */
          jws: Type.String({ minLength: 1, pattern: '^[^.]+(\\.[^.]+)*$' }),
          /** Dotted path the verified claims are written to (`data`); a plain copy there must match them. */
          payload: Type.String({ minLength: 1, pattern: '^[^.]+(\\.[^.]+)*$' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type BodyStageConfig = Static<typeof BodyStageSchema>;

const headerName = Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" });

/**
 * `officer:` of a route (issue 16.6): which officer asked. Seed 002 binds every C06 account to one
 * officer's signed commitment; a look-up through the province's platform account must therefore say who
 * asked, and the audit trail records it. Read from a header, a top-level JSON field and/or an XML element
 * (every source given must agree); carried on to the upstream as `forwardAs` says.
 */
export const RouteOfficerSchema = Type.Object(
  {
    /** A call without an officer identity is refused (400 GW_OFFICER_REQUIRED). */
    required: Type.Boolean({ default: false }),
    /** Header the caller may carry it in (`X-Ma-Can-Bo`). */
    header: Type.Optional(headerName),
    /** Top-level field of a JSON body, as the request stage leaves it (`maCanBo`). */
    field: Type.Optional(Type.String({ minLength: 1 })),
    /** Element (local name) of an XML body (`MaCanBo`); needs `bodies: [.., xml]`. */
    element: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9._-]*$' })),
    /**
     * How the upstream receives it: in this header, and/or written into this top-level field of a JSON body
     * (an XML body is never rewritten). Default: as the caller sent it.
     */
    forwardAs: Type.Optional(
      Type.Object(
        { header: Type.Optional(headerName), field: Type.Optional(Type.String({ minLength: 1 })) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
  },
  {
    additionalProperties: false,
    anyOf: [{ required: ['header'] }, { required: ['field'] }, { required: ['element'] }],
  },
);
export type RouteOfficerConfig = Static<typeof RouteOfficerSchema>;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

// ---- Durable delivery (issue 17): the engine's keys (src/delivery/). ---------------------------------

/** Retry policy of a queued push: exponential backoff with full jitter, then the dead letter. */
export const DeliveryRetrySchema = Type.Object(
  {
    /** Delay before the first retry (the backoff's base); each further retry doubles it, up to `maxMs`. */
    initialMs: Type.Integer({ minimum: 1, default: 2000 }),
    maxMs: Type.Integer({ minimum: 1, default: 600000 }),
    /** Attempts in all (the first included); then the dead letter. */
    maxAttempts: Type.Integer({ minimum: 1, default: 30 }),
    /** Age after which a push not yet delivered is dead, whatever its attempts (7 days). */
    maxAgeMs: Type.Integer({ minimum: 1000, default: 604800000 }),
  },
  { additionalProperties: false, default: {} },
);

/** `delivery:` of a route: direct (today's behaviour, recorded in the ledger) or queued (store and forward). */
export const RouteDeliverySchema = Type.Object(
  {
    mode: Type.Enum(['direct', 'queued'], { default: 'direct' }),
    /**
     * Where the business key is: dot path(s) into the mapped body (`MaHoSo`; in a JSON array of records,
     * each record's). Its keyed HMAC orders pushes of one object and makes the same push twice one delivery.
     */
    businessKey: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
    ),
    /** Routes that push the same business object share a group (order and duplicates); default the upstream id. */
    group: Type.Optional(Type.String({ minLength: 1 })),
    /** The call's name in the ledger and reports; default the route id. */
    operation: Type.Optional(Type.String({ minLength: 1 })),
    /** Dot path into the mapped body naming the call per push instead (the civil-status `module`). */
    operationField: Type.Optional(Type.String({ minLength: 1 })),
    retry: DeliveryRetrySchema,
    /**
     * Compatibility answer (off by default): what the caller gets instead of the 202 "accepted for delivery"
     * when the upstream did not accept at once. A string `{trackingId}` in the body is replaced by the id.
     */
    acceptedAnswer: Type.Optional(
      Type.Object(
        {
          status: Type.Integer({ minimum: 200, maximum: 299 }),
          body: Type.Unsafe<unknown>({}),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** An HTTP status or a class of them (`2xx`). */
const StatusMatchSchema = Type.Unsafe<number | string>({
  oneOf: [
    { type: 'integer', minimum: 100, maximum: 599 },
    { type: 'string', pattern: '^[1-5]xx$' },
  ],
});
/** A field of the upstream's JSON answer and the values it must (`in`) or must not (`notIn`) hold. */
const AnswerFieldSchema = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    in: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { minItems: 1 })),
    notIn: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { minItems: 1 })),
  },
  { additionalProperties: false },
);

/**
 * `delivery:` of an upstream: how its answer to a push is judged, per its contract. Accepted: a status in
 * `accepted.statuses` and every `accepted.json` condition holds (MOLISA answers 200 with `error_code` ≠ 0
 * for failures). Refused for good (relayed, never retried): a status in `refused.statuses` or any
 * `refused.json` match. Anything else (no answer, timeout, 5xx, 408, 429, 200 with a failure code not
 * listed as refused) is retried.
 */
export const UpstreamDeliverySchema = Type.Object(
  {
    accepted: Type.Object(
      {
        statuses: Type.Array(StatusMatchSchema, { minItems: 1, default: ['2xx'] }),
        json: Type.Array(AnswerFieldSchema, { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
    refused: Type.Object(
      {
        statuses: Type.Array(StatusMatchSchema, { default: [400, 403, 404, 405, 409, 410, 413, 415, 422] }),
        json: Type.Array(AnswerFieldSchema, { default: [] }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

/** The engine's keys of the top-level `delivery:` section (the store's `delivery.store` sits beside them). */
export const deliveryEngineKeys = {
  /**
   * AES-256-GCM key of the stored payloads, and (derived from it) the HMAC key of business keys: 32 bytes
   * as 64 hex digits or base64. Required when any route has `delivery:`.
   */
  encryptionKey: Type.Optional(SecretRefSchema),
  /** Earlier keys, still read (payloads sealed before a rotation); never used to seal. */
  previousKeys: Type.Array(SecretRefSchema, { default: [] }),
  worker: Type.Object(
    {
      /** How long a claim holds: a crashed process's deliveries are claimable again after it. */
      leaseMs: Type.Integer({ minimum: 1000, default: 300000 }),
      /** Most deliveries claimed per wake-up. */
      batch: Type.Integer({ minimum: 1, maximum: 1000, default: 32 }),
      /** Longest sleep between two looks at the store (other replicas may have queued work). */
      idleMs: Type.Integer({ minimum: 100, default: 30000 }),
    },
    { additionalProperties: false, default: {} },
  ),
  /**
   * Most queued and in-flight pushes one consumer may have stored: past it a queued push is refused (429
   * GW_DELIVERY_BACKLOG_FULL), so one consumer cannot fill the store while an upstream is down.
   */
  maxPendingPerConsumer: Type.Integer({ minimum: 1, default: 10000 }),
  /** Per-upstream circuit: opened after `failures` in a row, one probe after `coolDownMs`. */
  circuit: Type.Object(
    {
      failures: Type.Integer({ minimum: 1, default: 5 }),
      coolDownMs: Type.Integer({ minimum: 100, default: 30000 }),
    },
    { additionalProperties: false, default: {} },
  ),
};

/** `answer:` of a route, answered by the gateway itself: `{ type, ...options }`, checked by that route answer's schema. */
export const RouteAnswerRefSchema = pluginRef('type');
/** An entry of a route's `guards:`: `{ type, ...options }`, checked by that guard's schema. */
export const RouteGuardRefSchema = pluginRef('type');

export const RouteSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    description: Type.Optional(Type.String()),
    methods: Type.Array(Type.String(), { minItems: 1, uniqueItems: true, items: { enum: METHODS }, default: ['GET'] }),
    /** Gateway path: literal segments, `:param` segments and an optional trailing `*`. */
    path: Type.String({ pattern: '^/' }),
    /** Optional header match: every listed header must equal the value (case-insensitive name). */
    headers: Type.Optional(StringMap(Type.String())),
    upstream: Type.String({ minLength: 1 }),
    /**
     * Path on the upstream, a template using the route's `:params` and `*`. Default: the gateway path with
     * the leading `/<upstream-id>` removed, so `/molisa/api/v1/x` goes to `<molisa url>/api/v1/x`.
     */
    upstreamPath: Type.Optional(Type.String({ pattern: '^/' })),
    /** Consumer ids allowed to call. An empty list closes the route (fail closed). */
    consumers: Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, default: [] }),
    errorDialect: Type.Optional(DialectRefSchema),
    request: Type.Optional(BodyStageSchema),
    response: Type.Optional(BodyStageSchema),
    /**
     * Bodies a route that reads JSON accepts, by Content-Type: `json` (parsed, mapped, validated) and `xml`
     * (`text/xml`, `application/xml`, `*+xml` such as SOAP 1.2's `application/soap+xml`: checked to be an
     * XML document without a DTD, then sent byte-identical; the JSON stages do not apply). Issue 16.4.
     */
    bodies: Type.Optional(Type.Array(Type.Enum(['json', 'xml']), { minItems: 1, uniqueItems: true })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
    officer: Type.Optional(RouteOfficerSchema),
    // Routing-override headers (X-HTTP-Method-Override, X-Original-URL...) this route lets through by name;
    // checked against the list in src/upstream/headers.ts at load.
    forwardHeaders: Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true, default: [] }),
    // Issue 13.5: the national side's cookies are dropped unless the route says it needs them.
    allowSetCookie: Type.Boolean({ default: false }),
    /** Answered by the gateway itself instead of the upstream (MOLISA GetToken for legacy clients). */
    answer: Type.Optional(RouteAnswerRefSchema),
    rateLimit: Type.Optional(RouteRateLimitSchema),
    audit: Type.Optional(RouteAuditSchema),
    /**
     * The API version in a path parameter must serve a body field's value (seed 003: civil-status module
     * per API version); a mismatch is refused with GW_API_VERSION_MISMATCH before the call leaves.
     */
    apiVersions: Type.Optional(
      Type.Object(
        {
          param: Type.String({ minLength: 1, default: 'version' }),
          field: Type.String({ minLength: 1 }),
          serves: StringMap(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true }), {
            minProperties: 1,
          }),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Checks on the mapped request before anything leaves, each `{ type, ...options }` (policy/guards/):
     * `ledger-module` refuses a status query whose module differs from its dossier's push (issue 16.5).
     */
    guards: Type.Optional(Type.Array(RouteGuardRefSchema, { minItems: 1 })),
    /** Durable delivery (issue 17): `mode: queued` stores the push before answering and retries it. */
    delivery: Type.Optional(RouteDeliverySchema),
  },
  { additionalProperties: false },
);
export type RouteConfig = Static<typeof RouteSchema>;

export const TlsClientSchema = Type.Object(
  {
    /** PEM CA bundle file (private CA of the national platform). */
    ca: Type.Optional(Type.String()),
    /** PEM client certificate and key files, for mutual TLS. */
    cert: Type.Optional(Type.String()),
    key: Type.Optional(Type.String()),
    servername: Type.Optional(Type.String()),
    /** Certificate checks are on unless this is set to false explicitly (a loud warning at load). */
    rejectUnauthorized: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TlsClientConfig = Static<typeof TlsClientSchema>;

/**
 * `answerSignature:` of an upstream: the keys the national side signs its answers with (seed 001 part C
 * §V.2: JWS/JWK). One of `jwksUrl` (fetched, cached `jwksMaxAgeSeconds`, fetched again for an unknown
 * `kid` at most once per `jwksCooldownSeconds`) or `keys` (PEM public keys or X.509 certificates, JWK or
 * JWKS JSON; inline, `{ env }` or `{ file }`). Asymmetric algorithms only: never `none`, never HS*.
 */
export const AnswerSignatureSchema = Type.Object(
  {
    jwksUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
    keys: Type.Optional(Type.Array(SecretRefSchema, { minItems: 1 })),
    algorithms: Type.Array(Type.Enum([...ALLOWED_ALGORITHMS]), {
      minItems: 1,
      uniqueItems: true,
      default: [...ALLOWED_ALGORITHMS],
    }),
    /** `iss` the signed answers must carry, when set. */
    issuer: Type.Optional(Type.String({ minLength: 1 })),
    /** Leeway for `exp`/`nbf` (checked when the signed claims carry them). */
    clockToleranceSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
    jwksCooldownSeconds: Type.Integer({ minimum: 0, maximum: 86400, default: 30 }),
    jwksMaxAgeSeconds: Type.Integer({ minimum: 1, maximum: 604800, default: 600 }),
    jwksTimeoutMs: Type.Integer({ minimum: 1, maximum: 60000, default: 5000 }),
  },
  { additionalProperties: false, oneOf: [{ required: ['jwksUrl'] }, { required: ['keys'] }] },
);

export const UpstreamSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^\\s]+$' }),
    description: Type.Optional(Type.String()),
    errorDialect: Type.Optional(DialectRefSchema),
    timeouts: Type.Object(
      {
        connectMs: Type.Integer({ minimum: 1, default: 5000 }),
        responseMs: Type.Integer({ minimum: 1, default: 30000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    maxSockets: Type.Integer({ minimum: 1, default: 256 }),
    // Share of maxSockets one consumer may hold with streamed calls at once (at least one connection, issue 14.3).
    consumerShare: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.25 }),
    tls: Type.Optional(TlsClientSchema),
    /** Ordered credential strategies (issue 3); each `{ type, ...options }`. */
    credentials: Type.Array(CredentialRefSchema, { default: [] }),
    answerSignature: Type.Optional(AnswerSignatureSchema),
    /** How a push's answer is judged: accepted, refused for good, or retried (issue 17). */
    delivery: UpstreamDeliverySchema,
  },
  { additionalProperties: false },
);
export type UpstreamConfig = Static<typeof UpstreamSchema>;

const port = (value: number) => Type.Integer({ minimum: 0, maximum: 65535, default: value });

export const ListenSchema = Type.Object(
  {
    port: port(8080),
    host: Type.String({ default: '0.0.0.0' }),
    /**
     * TLS on the gateway's own listener (PEM files, relative to the config directory). With
     * `clientCertificates: request` callers may present a certificate signed by `ca`; its subject CN
     * identifies a consumer (`consumers.<id>.mtlsSubject`). Read at start: a change needs a restart.
     */
    tls: Type.Optional(
      Type.Object(
        {
          cert: Type.String({ minLength: 1 }),
          key: Type.String({ minLength: 1 }),
          ca: Type.Optional(Type.String({ minLength: 1 })),
          clientCertificates: Type.Enum(['none', 'request'], { default: 'none' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);
export type ListenConfig = Static<typeof ListenSchema>;

const section = <T extends Parameters<typeof Type.Object>[0]>(properties: T) =>
  Type.Object(properties, { additionalProperties: false, default: {} });

export const LimitsSchema = section({
  bodyBytes: Type.Integer({ minimum: 0, default: 10 * 1024 * 1024 }),
  jsonDepth: Type.Integer({ minimum: 1, maximum: 1000, default: 64 }),
  objectKeys: Type.Integer({ minimum: 1, default: 1000 }),
  /** Minimum rate of a streamed body, checked per window (issue 14.3). */
  upload: section({
    // A streamed body slower than this over a window holds an upstream socket: cut, 408. 0 = off.
    minBytesPerSecond: Type.Integer({ minimum: 0, default: 1024 }),
    windowMs: Type.Integer({ minimum: 100, default: 10000 }),
  }),
});

/** Directories, resolved to absolute paths at load (relative ones from the config directory). */
export const PathsSchema = section({
  schemas: Type.String({ default: '../schemas' }),
  catalogs: Type.String({ default: 'catalogs' }),
  /** Route files (every YAML below it); default `routes/` of the config directory. */
  routes: Type.String({ default: 'routes' }),
  /** Shipped mapping blocks that routes `use:`; default `mappings/`. */
  mappings: Type.String({ default: 'mappings' }),
});

/** The delivery operations' keys of the top-level `delivery:` section (issue 17; beside the engine's and the store's). */
export const deliveryOperationKeys = {
  /**
   * Days a delivered, dead or dropped push keeps its sealed payload (then erased; the row stays as ledger).
   * Citizen data at rest only until delivered plus this. 0: erased at the next hourly sweep.
   */
  retentionDays: Type.Integer({ minimum: 0, maximum: 3650, default: 7 }),
};

/** The whole configuration; top-level keys with defaults applied by ajv (`useDefaults`). */
export const GatewayConfigSchema = Type.Object(
  {
    // `const` alone (no `type`): `version: "1"` gets one error, "must be 1".
    version: Type.Unsafe<1>({ const: 1 }),
    /** Free label shown in /admin/status; `production` refuses the sandbox. */
    environment: Type.String({ minLength: 1, default: 'development' }),
    listen: ListenSchema,
    admin: AdminSchema,
    auth: AuthSchema,
    rateLimits: RateLimitsSchema,
    audit: AuditSchema,
    metrics: MetricsSchema,
    limits: LimitsSchema,
    paths: PathsSchema,
    logging: section({ level: Type.Enum(['error', 'warn', 'info', 'debug'], { default: 'info' }) }),
    shutdown: section({ graceMs: Type.Integer({ minimum: 0, default: 10000 }) }),
    reload: section({
      debounceMs: Type.Integer({ minimum: 0, default: 300 }),
      watch: Type.Boolean({ default: true }),
    }),
    sandbox: section({
      enabled: Type.Boolean({ default: false }),
      port: port(9180),
      host: Type.String({ default: '127.0.0.1' }),
    }),
    upstreams: StringMap(UpstreamSchema, { default: {} }),
    consumers: StringMap(ConsumerSchema, { default: {} }),
    routes: Type.Array(RouteSchema, { default: [] }),
    /** Durable delivery of one-way pushes (issue 17): `store` here; the engine's keys beside it. */
    delivery: section({ store: DeliveryStoreSchema, ...deliveryEngineKeys, ...deliveryOperationKeys }),
  },
  {
    additionalProperties: false,
    // `x-…` keys hold YAML anchors shared by the entries of one file (as in docker-compose).
    patternProperties: { '^x-': {} },
  },
);
