import { ConfigPathError } from '../config/config-error.ts';
import type { FieldError } from '../errors/gateway-error.ts';
import { compileMapping, type MappingDeps } from './compile-mapping.ts';
import type { BodyFacts } from './ops/common.ts';
import { numericView } from './exact-numbers.ts';
import { admitShapes, type PendingShapes } from './shape.ts';
import type { ValidatorFactory } from './validator.ts';

/** The `request:` / `response:` block of a route (config/types.ts BodyStageConfig). */
export interface BodyStage {
  readonly mapping?: readonly Record<string, unknown>[];
  readonly schema?: string;
  readonly mode?: 'enforce' | 'report';
}

/**
 * Result of one stage: the body to send on, and every problem found (empty when all is well).
 * `rawNumbers`: the body holds numbers carried as their source text (the parser said so, exact-numbers.ts);
 * the schema then judges a copy with the nearest doubles, and the body sent keeps the source text.
 * `consumer`: whose body it is (request stages), for the code forms it declared (code-forms.ts).
 * `facts`: what the caller read off the bytes it parsed (ops/common.ts BodyFacts; text.ts
 * mayHoldCombiningMarks), for the ops that can trust it.
 */
export type BodyStageFn = (
  body: unknown,
  rawNumbers?: boolean,
  consumer?: string,
  facts?: BodyFacts,
) => { body: unknown; errors: FieldError[] };

/**
 * map -> validate -> post-validation ops, the order issue 4 fixes: the schema judges the mapped body (the
 * upstream's dialect), and fields parsed from embedded JSON are serialised again only after validation.
 * A pointer already reported by the mapping is not reported again by the schema. What to do with errors
 * (400 for a request; 502 or a log line for a response per `mode`) is the caller's decision.
 */
export function compileBodyStage(
  stage: BodyStage,
  deps: MappingDeps & { readonly validators: ValidatorFactory },
  path: readonly (string | number)[],
): BodyStageFn {
  if (stage.mode !== undefined && stage.mode !== 'enforce' && stage.mode !== 'report') {
    throw new ConfigPathError([...path, 'mode'], 'enum', 'mode must be enforce or report');
  }
  const map = stage.mapping ? compileMapping(stage.mapping, deps, [...path, 'mapping']) : undefined;
  const validate = stage.schema ? deps.validators.compile(stage.schema, [...path, 'schema']) : undefined;
  const post = map?.post;
  return (input, rawNumbers = false, consumer, facts) => {
    let body = input;
    let errors: FieldError[] = [];
    // Record shapes the mapping met are cached only if the whole stage accepts the body (issue 14.1).
    const shapes: PendingShapes = [];
    if (map) {
      const mapped = map(body, shapes, consumer, facts);
      ({ body, errors } = mapped);
      if (mapped.rawNumbers) rawNumbers = true;
    }
    if (validate) {
      const found = validate(rawNumbers ? numericView(body) : body);
      if (found.length > 0) {
        if (errors.length === 0) errors = found;
        else {
          const seen = new Set(errors.map((e) => e.pointer));
          for (const e of found) if (!seen.has(e.pointer)) errors.push(e);
        }
      }
    }
    if (post && errors.length === 0) {
      const r = post(body, shapes, consumer);
      body = r.body;
      errors.push(...r.errors);
    }
    if (shapes.length > 0 && errors.length === 0) admitShapes(shapes);
    return { body, errors };
  };
}
