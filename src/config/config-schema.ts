/**
 * JSON Schema of the merged configuration (all YAML files of the config directory together).
 * Strict (`additionalProperties: false`) so a misspelt key is an error, not a silent default.
 * Plugin option blocks (credentials, mapping ops, dialect options) are checked against each plugin's
 * own schema by the runtime builder, with the same located error reporting.
 */
const dialectRef = {
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1 }, options: { type: 'object' } },
    },
  ],
};

const apiKeyRef = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    env: { type: 'string', minLength: 1 },
    file: { type: 'string', minLength: 1 },
    label: { type: 'string' },
  },
  oneOf: [{ required: ['sha256'] }, { required: ['env'] }, { required: ['file'] }],
};

const pluginList = (discriminator: string) => ({
  type: 'array',
  items: {
    type: 'object',
    required: [discriminator],
    properties: { [discriminator]: { type: 'string', minLength: 1 } },
  },
});

const bodyStage = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mapping: pluginList('op'),
    schema: { type: 'string', minLength: 1 },
    mode: { enum: ['enforce', 'report'] },
    use: { type: 'string' },
  },
};

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export const routeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'path', 'upstream'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
    description: { type: 'string' },
    methods: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: methods }, default: ['GET'] },
    path: { type: 'string', pattern: '^/' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    upstream: { type: 'string', minLength: 1 },
    upstreamPath: { type: 'string', pattern: '^/' },
    consumers: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [] },
    errorDialect: dialectRef,
    request: bodyStage,
    response: bodyStage,
    timeoutMs: { type: 'integer', minimum: 1 },
    // Routing-override headers (X-HTTP-Method-Override, X-Original-URL...) this route lets through by name;
    // checked against the list in src/proxy/headers.ts at load.
    forwardHeaders: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [] },
    // Issue 13.5: the national side's cookies are dropped unless the route says it needs them.
    allowSetCookie: { type: 'boolean', default: false },
    answer: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { enum: ['molisa-compat-token'] },
        lifetimeSeconds: { type: 'integer', minimum: 1 },
      },
    },
  },
} as const;

export const upstreamSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', pattern: '^https?://[^\\s]+$' },
    description: { type: 'string' },
    errorDialect: dialectRef,
    timeouts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        connectMs: { type: 'integer', minimum: 1, default: 5000 },
        responseMs: { type: 'integer', minimum: 1, default: 30000 },
      },
    },
    maxSockets: { type: 'integer', minimum: 1, default: 256 },
    // Share of maxSockets one consumer may hold with streamed calls at once (at least one connection).
    consumerShare: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.25 },
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ca: { type: 'string' },
        cert: { type: 'string' },
        key: { type: 'string' },
        servername: { type: 'string' },
        rejectUnauthorized: { type: 'boolean' },
      },
    },
    credentials: { ...pluginList('type'), default: [] },
  },
} as const;

export const consumerSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    apiKeys: { type: 'array', items: apiKeyRef, default: [] },
  },
} as const;

const listen = (port: number, host: string) => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 65535, default: port },
    host: { type: 'string', default: host },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['cert', 'key'],
      properties: {
        cert: { type: 'string', minLength: 1 },
        key: { type: 'string', minLength: 1 },
        ca: { type: 'string', minLength: 1 },
        clientCertificates: { enum: ['none', 'request'], default: 'none' },
      },
    },
  },
});

/** Top-level keys, with defaults applied by ajv (`useDefaults`). */
export function buildConfigSchema(extensions: ConfigSchemaExtensions = {}): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    // `x-…` keys hold YAML anchors shared by the entries of one file (as in docker-compose).
    patternProperties: { '^x-': {} },
    required: ['version'],
    properties: {
      version: { const: 1 },
      environment: { type: 'string', minLength: 1, default: 'development' },
      listen: listen(8080, '0.0.0.0'),
      admin: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: { apiKeys: { type: 'array', items: apiKeyRef, default: [] }, ...extensions.admin },
      },
      limits: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          bodyBytes: { type: 'integer', minimum: 0, default: 10 * 1024 * 1024 },
          jsonDepth: { type: 'integer', minimum: 1, maximum: 1000, default: 64 },
          objectKeys: { type: 'integer', minimum: 1, default: 1000 },
          upload: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              // A streamed body slower than this over a window holds an upstream socket: cut, 408. 0 = off.
              minBytesPerSecond: { type: 'integer', minimum: 0, default: 1024 },
              windowMs: { type: 'integer', minimum: 100, default: 10000 },
            },
          },
        },
      },
      paths: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          schemas: { type: 'string', default: '../schemas' },
          catalogs: { type: 'string', default: 'catalogs' },
          routes: { type: 'string', default: 'routes' },
          mappings: { type: 'string', default: 'mappings' },
        },
      },
      logging: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: { level: { enum: ['error', 'warn', 'info', 'debug'], default: 'info' } },
      },
      shutdown: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: { graceMs: { type: 'integer', minimum: 0, default: 10000 } },
      },
      reload: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          debounceMs: { type: 'integer', minimum: 0, default: 300 },
          watch: { type: 'boolean', default: true },
        },
      },
      sandbox: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          enabled: { type: 'boolean', default: false },
          port: { type: 'integer', minimum: 0, maximum: 65535, default: 9180 },
          host: { type: 'string', default: '127.0.0.1' },
        },
      },
      upstreams: { type: 'object', default: {}, additionalProperties: upstreamSchema },
      consumers: {
        type: 'object',
        default: {},
        additionalProperties: {
          ...consumerSchema,
          properties: { ...consumerSchema.properties, ...extensions.consumer },
        },
      },
      routes: {
        type: 'array',
        default: [],
        items: { ...routeSchema, properties: { ...routeSchema.properties, ...extensions.route } },
      },
      ...extensions.topLevel,
    },
  };
}

/** Property fragments other modules add to the schema (consumers, rate limits, audit, metrics). */
export interface ConfigSchemaExtensions {
  topLevel?: Record<string, object>;
  consumer?: Record<string, object>;
  route?: Record<string, object>;
  admin?: Record<string, object>;
}
