import { FORBIDDEN_KEYS } from '../path.ts';
import {
  check,
  compileContainerStep,
  fieldError,
  opSchema,
  removeField,
  report,
  stringList,
  toPointer,
  type BaseOptions,
  type MappingOp,
} from './common.ts';

/**
 * allowOnly: keeps only the listed keys in each container `at` selects. Other keys are dropped
 * (`action: drop`) or reported as `additionalProperties` FieldErrors (`action: reject`, the default).
 * Without this op unknown fields pass through to the schema.
 */
interface Options extends BaseOptions {
  fields: string[];
  action?: 'drop' | 'reject';
}

export const allowOnlyOp: MappingOp<Options> = {
  schema: opSchema({ fields: stringList, action: { enum: ['drop', 'reject'] } }, ['fields']),
  create(o, { path }) {
    o.fields.forEach((f, i) =>
      check(
        !FORBIDDEN_KEYS.has(f) && !/[.[\]]/.test(f),
        [...path, 'fields', i],
        'pattern',
        `"${f}": only a key name is accepted`,
      ),
    );
    const allowed = new Set(o.fields);
    const drop = o.action === 'drop';
    const run = compileContainerStep(o.at ?? '', path, (obj, trail, ctx) => {
      for (const key of Object.keys(obj)) {
        if (allowed.has(key) || obj[key] === undefined) continue;
        if (drop) removeField(obj, key, ctx);
        else report(ctx, fieldError(toPointer(trail, key), 'additionalProperties', 'không được phép gửi', key));
      }
      return obj;
    });
    return { run };
  },
};
