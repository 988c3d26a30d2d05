import { ALLOWED_ALGORITHMS, TOKEN_DEFAULTS } from './token-issuer.ts';
import { AUDIT_DEFAULTS } from './audit.ts';

/**
 * JSON Schema fragments (draft-07, ajv with `useDefaults`) for the config keys of consumers, auth,
 * rate limits, audit, metrics and admin. The main config schema merges them: `topLevel` into the root
 * `properties`, `consumer` into each consumer's, `route` into each route's.
 */

const secretRef = {
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      properties: { env: { type: 'string', minLength: 1 } },
      required: ['env'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: { file: { type: 'string', minLength: 1 } },
      required: ['file'],
      additionalProperties: false,
    },
  ],
};

/** One key: its SHA-256 (what gen-key prints), or the key itself from an env var or a file. */
const apiKeyRef = {
  type: 'object',
  properties: {
    sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    env: { type: 'string', minLength: 1 },
    file: { type: 'string', minLength: 1 },
    sandboxDefault: { type: 'string', minLength: 16 },
    label: { type: 'string' },
  },
  oneOf: [{ required: ['sha256'] }, { required: ['env'] }, { required: ['file'] }],
  dependencies: { sandboxDefault: ['env'] },
  additionalProperties: false,
};

const keyList = { type: 'array', items: apiKeyRef, default: [] };

const cidrList = { type: 'array', items: { type: 'string', minLength: 2 }, minItems: 1 };

const rateLimitProperties = {
  requests: { type: 'integer', minimum: 1 },
  windowSeconds: { type: 'integer', minimum: 1 },
  burst: {
    type: 'object',
    properties: { requests: { type: 'integer', minimum: 1 }, windowSeconds: { type: 'integer', minimum: 1 } },
    required: ['requests', 'windowSeconds'],
    additionalProperties: false,
  },
};

const rateLimit = {
  type: 'object',
  properties: rateLimitProperties,
  required: ['requests', 'windowSeconds'],
  additionalProperties: false,
};

const fieldList = { type: 'array', items: { type: 'string', minLength: 1 } };

export const consumerConfigSchema: {
  topLevel: Record<string, object>;
  consumer: Record<string, object>;
  route: Record<string, object>;
} = {
  topLevel: {
    auth: {
      type: 'object',
      default: {},
      properties: {
        trustedProxies: { ...cidrList, minItems: 0, default: [] },
        tokens: {
          type: 'object',
          default: {},
          properties: {
            enabled: { type: 'boolean', default: TOKEN_DEFAULTS.enabled },
            issuer: { type: 'string', minLength: 1, default: TOKEN_DEFAULTS.issuer },
            audience: { type: 'string', minLength: 1, default: TOKEN_DEFAULTS.audience },
            ttlSeconds: { type: 'integer', minimum: 30, maximum: 86400, default: TOKEN_DEFAULTS.ttlSeconds },
            algorithm: { enum: [...ALLOWED_ALGORITHMS], default: TOKEN_DEFAULTS.algorithm },
            clockToleranceSeconds: {
              type: 'integer',
              minimum: 0,
              maximum: 300,
              default: TOKEN_DEFAULTS.clockToleranceSeconds,
            },
            throttle: {
              type: 'object',
              default: {},
              additionalProperties: false,
              properties: {
                windowSeconds: { type: 'integer', minimum: 1, maximum: 86400, default: 900 },
                maxFailuresPerClient: { type: 'integer', minimum: 1, default: 10 },
                maxFailuresPerAddress: { type: 'integer', minimum: 1, default: 30 },
                maxTracked: { type: 'integer', minimum: 100, maximum: 1000000, default: 10000 },
              },
            },
            signingKeys: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  kid: { type: 'string', minLength: 1 },
                  alg: { enum: [...ALLOWED_ALGORITHMS] },
                  privateKey: secretRef,
                  publicKey: secretRef,
                },
                required: ['kid'],
                oneOf: [{ required: ['privateKey'] }, { required: ['publicKey'] }],
                additionalProperties: false,
              },
            },
          },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
    rateLimits: {
      type: 'object',
      default: {},
      properties: {
        store: { enum: ['memory', 'redis'], default: 'memory' },
        redis: {
          type: 'object',
          properties: { url: secretRef, keyPrefix: { type: 'string', minLength: 1, default: 'lgsp:rl' } },
          required: ['url'],
          additionalProperties: false,
        },
        onStoreError: { enum: ['deny', 'allow', 'memory'], default: 'deny' },
        defaultConsumer: rateLimit,
      },
      if: { properties: { store: { const: 'redis' } }, required: ['store'] },
      then: { required: ['redis'] },
      additionalProperties: false,
    },
    audit: {
      type: 'object',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: AUDIT_DEFAULTS.enabled },
        onFailure: { enum: ['refuse', 'continue'], default: AUDIT_DEFAULTS.onFailure },
        bufferBytes: { type: 'integer', minimum: 65_536, default: AUDIT_DEFAULTS.bufferBytes },
        retryMs: { type: 'integer', minimum: 10, maximum: 600_000, default: AUDIT_DEFAULTS.retryMs },
        output: { enum: ['file', 'stdout'], default: AUDIT_DEFAULTS.output },
        dir: { type: 'string', minLength: 1, default: AUDIT_DEFAULTS.dir },
        filename: { type: 'string', pattern: '%DATE%', default: AUDIT_DEFAULTS.filename },
        retentionDays: { type: 'integer', minimum: 1, default: AUDIT_DEFAULTS.retentionDays },
        compress: { type: 'boolean', default: AUDIT_DEFAULTS.compress },
        hmacKey: secretRef,
        dossierFields: { ...fieldList, default: [...AUDIT_DEFAULTS.dossierFields] },
        subjectFields: { ...fieldList, default: [...AUDIT_DEFAULTS.subjectFields] },
      },
      additionalProperties: false,
    },
    metrics: {
      type: 'object',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        path: { type: 'string', pattern: '^/', default: '/metrics' },
        defaultMetrics: { type: 'boolean', default: true },
        public: { type: 'boolean', default: false },
      },
      additionalProperties: false,
    },
    admin: {
      type: 'object',
      default: {},
      properties: {
        apiKeys: keyList,
        listen: {
          type: 'object',
          properties: {
            port: { type: 'integer', minimum: 0, maximum: 65535 },
            host: { type: 'string', minLength: 1, default: '127.0.0.1' },
            requireKey: { type: 'boolean' },
          },
          required: ['port'],
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
  },
  consumer: {
    name: { type: 'string' },
    apiKeys: keyList,
    clientSecrets: keyList,
    ipAllow: cidrList,
    mtlsSubject: { type: 'string', minLength: 1 },
    rateLimit,
  },
  route: {
    rateLimit: {
      type: 'object',
      properties: { ...rateLimitProperties, scope: { enum: ['consumer', 'route'], default: 'consumer' } },
      required: ['requests', 'windowSeconds'],
      additionalProperties: false,
    },
    audit: {
      type: 'object',
      properties: {
        keys: { type: 'boolean', default: true },
        onFailure: { enum: ['refuse', 'continue'] },
        dossierFields: fieldList,
        subjectFields: fieldList,
      },
      additionalProperties: false,
    },
  },
};
