import { Type } from '../../plugin/schema-type.ts';
import { parseJsonText } from '../json-body.ts';
import { compileFieldStep, defineOp, fieldsOf, fieldOpSchema, reportAt } from './common.ts';

/**
 * embeddedJson: some fields carry JSON as a string — VNeID userinfo `loAS` (seed 001 part A §7), the
 * civil-status push `data` (domain.md §4). `mode: parse` turns the string into a value so later ops and the
 * schema see inside it (same depth and `__proto__` checks as a body); `mode: stringify` turns it back.
 * `reserialize: true` on a parse adds the stringify after schema validation, so the upstream still gets
 * a string. A value that is already an object/array is left alone by parse (and a string by stringify).
 */
export const embeddedJsonOp = defineOp(
  fieldOpSchema({
    mode: Type.Enum(['parse', 'stringify']),
    reserialize: Type.Boolean({ default: false }),
    maxDepth: Type.Integer({ minimum: 1, maximum: 1000, default: 32 }),
    onInvalid: Type.Enum(['reject', 'pass'], { default: 'reject' }),
  }),
  (o, { path }) => {
    const fields = fieldsOf(o, path);
    const at = o.at;
    const limits = { maxDepth: o.maxDepth };
    const reject = o.onInvalid === 'reject';
    const stringify = compileFieldStep(at, fields, path, (obj, key) => {
      const v = obj[key];
      if (Object.hasOwn(obj, key) && typeof v === 'object' && v !== null) obj[key] = JSON.stringify(v);
    });
    if (o.mode === 'stringify') return stringify;
    const parse = compileFieldStep(at, fields, path, (obj, key, trail, ctx) => {
      const v = obj[key];
      if (!Object.hasOwn(obj, key) || typeof v !== 'string') return;
      const r = parseJsonText(v, limits);
      if (r.ok) {
        obj[key] = r.value;
        if (r.rawNumbers) ctx.rawNumbers = true;
      } else if (reject) {
        const reason = String(r.error.params.reason ?? r.error.message);
        reportAt(ctx, trail, key, 'embeddedJson', `không chứa JSON hợp lệ: ${reason}`);
      }
    });
    return o.reserialize ? { ...parse, post: stringify.run } : parse;
  },
);
