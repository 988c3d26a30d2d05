import { Ajv } from 'ajv';
import type { FieldError } from '../../src/errors/gateway-error.ts';
import type { RuntimeFactories } from '../../src/runtime/runtime.ts';

/**
 * Schemas for tests, keyed by the `schema:` file name a route names, plugged in through
 * `factories.compileStage` (withTestSchemas) so fault tests do not depend on the shipped schema files.
 */
export const testSchemas: Record<string, object> = {
  // A cut-down DongBoDVC record list (seed 004, §IV.3): the ID-number rule and a few length limits.
  'dongbo.request.json': {
    type: 'array',
    minItems: 1,
    maxItems: 100,
    items: {
      type: 'object',
      required: ['MaHoSo', 'HoVaTen', 'CMND'],
      additionalProperties: false,
      properties: {
        MaHoSo: { type: 'string', minLength: 1, maxLength: 25 },
        HoVaTen: { type: 'string', minLength: 1, maxLength: 250 },
        CMND: { type: 'string', pattern: '^[0-9]{12}$' },
        StatusId: { type: 'integer' },
      },
    },
  },
  // Accepts any JSON: the route still parses and re-serialises the body (limits, guards) before forwarding.
  'any.json': {},
  // MOLISA answers `{error_code, message}` (seed 004, Appendix 1).
  'molisa.response.json': {
    type: 'object',
    required: ['error_code'],
    properties: { error_code: { type: ['integer', 'string'] }, message: { type: 'string' } },
  },
};

const ajv = new Ajv({ allErrors: true, strict: false });

/** Compiles a test schema to a validator: every problem found, none when the body is valid. */
export function compileTestSchema(file: string): (body: unknown) => FieldError[] {
  const schema = testSchemas[file];
  if (!schema) throw new Error(`no test schema ${file}`);
  const validate = ajv.getSchema(file) ?? (ajv.addSchema(schema, file), ajv.getSchema(file)!);
  return (body) =>
    validate(body)
      ? []
      : (validate.errors ?? []).map((e): FieldError => ({
          pointer: e.instancePath,
          rule: e.keyword,
          message: e.message ?? e.keyword,
        }));
}

/** True when `body` passes the named test schema (used by upstreams to check what reached them). */
export function isValidFor(file: string, body: unknown): boolean {
  return compileTestSchema(file)(body).length === 0;
}

/** The default factories, with stages naming a test schema (and no mapping) validated by it. */
export function withTestSchemas(factories: RuntimeFactories): RuntimeFactories {
  return {
    ...factories,
    compileStage(stage, path) {
      if (stage.schema && testSchemas[stage.schema] && !stage.mapping?.length) {
        const validate = compileTestSchema(stage.schema);
        return (body) => ({ body, errors: validate(body) });
      }
      if (!factories.compileStage) throw new Error('no compileStage factory');
      return factories.compileStage(stage, path);
    },
  };
}
