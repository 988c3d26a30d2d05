import { Type } from '../../plugin/schema-type.ts';
import { FORBIDDEN_KEYS } from '../path.ts';
import {
  check,
  compileContainerStep,
  defineOp,
  keepingStrings,
  opSchema,
  removeField,
  reportAt,
  stringList,
} from './common.ts';

/**
 * allowOnly: keeps only the listed keys in each container `at` selects. Other keys are dropped
 * (`action: drop`) or reported as `additionalProperties` FieldErrors (`action: reject`, the default).
 * Without this op unknown fields pass through to the schema.
 */
export const allowOnlyOp = defineOp(
  opSchema({ fields: stringList(), action: Type.Enum(['drop', 'reject'], { default: 'reject' }) }),
  (o, { path }) => {
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
    return keepingStrings(
      compileContainerStep(o.at, path, (obj, trail, ctx) => {
        for (const key of Object.keys(obj)) {
          if (allowed.has(key) || obj[key] === undefined) continue;
          if (drop) removeField(obj, key, ctx);
          else reportAt(ctx, trail, key, 'additionalProperties', 'không được phép gửi', key);
        }
        return obj;
      }),
    );
  },
);
