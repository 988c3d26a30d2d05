import { Type } from '../../plugin/schema-type.ts';
import {
  compileCanonicalTest,
  compileFormatter,
  compileParser,
  isCanonicalFormat,
  parseOffset,
  shiftParts,
  type DateParser,
  type DateParts,
} from '../date-format.ts';
import { trimmed } from '../text.ts';
import {
  check,
  compileValueStep,
  defineOp,
  emptyPolicyProps,
  fieldsOf,
  fieldOpSchema,
  KEEP,
  reportAt,
  type ValueFn,
} from './common.ts';

/**
 * date: parses a field with the first of `from` formats that matches strictly (31/02 is invalid) and
 * writes it in `to`. Formats are date-fns tokens or `ISO` (see date-format.ts). An ISO value with an offset
 * is an instant and is moved to `offset` (default `+07:00`, Vietnam has no DST); every other value is a
 * wall-clock time and is kept as is. Numbers (`20181220221912`) are read as their digits.
 * An unparseable value is a FieldError naming the field and the accepted formats.
 */
export const dateOp = defineOp(
  fieldOpSchema({
    ...emptyPolicyProps,
    from: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    to: Type.String({ minLength: 1 }),
    offset: Type.String({ pattern: '^[+-]\\d{2}:\\d{2}$', default: '+07:00' }),
  }),
  (o, { path, generate = true }) => {
    const offset = parseOffset(o.offset);
    check(offset !== undefined, [...path, 'offset'], 'format', `invalid time-zone offset: ${o.offset}`);
    const parsers: DateParser[] = o.from.map((f, i) => {
      try {
        return compileParser(f);
      } catch (err) {
        check(false, [...path, 'from', i], 'format', `unusable date format: ${(err as Error).message}`);
        throw err;
      }
    });
    let format: (p: DateParts) => string;
    try {
      format = compileFormatter(o.to, offset!, generate);
    } catch (err) {
      check(false, [...path, 'to'], 'format', `unusable date format: ${(err as Error).message}`);
      throw err;
    }
    // An input parsed by the target format itself, when that format writes back what it reads, is
    // already the output (the common case: most senders send dd/MM/yyyy already).
    const keepsText = o.from.map((f) => f === o.to && isCanonicalFormat(f));
    // Such an input needs only a yes or no: a test generated for the format, without the parts object.
    const accepts = o.from.map((f, i) => (generate && keepsText[i] ? compileCanonicalTest(f) : undefined));
    const accepted = o.from.join(', ');
    const step: ValueFn = (value, _obj, key, trail, ctx) => {
      const text =
        typeof value === 'string'
          ? trimmed(value)
          : typeof value === 'number' && Number.isInteger(value)
            ? String(value)
            : undefined;
      if (text !== undefined) {
        for (let i = 0; i < parsers.length; i++) {
          const test = accepts[i];
          if (test !== undefined) {
            if (test(text)) return text !== value ? text : KEEP;
            continue;
          }
          const p = parsers[i](text) as (DateParts & { offsetMin?: number }) | undefined;
          if (p === undefined) continue;
          if (keepsText[i] && p.offsetMin === undefined) return text !== value ? text : KEEP;
          return format(p.offsetMin === undefined ? p : shiftParts(p, p.offsetMin, offset!));
        }
      }
      reportAt(ctx, trail, key, 'date', `không phải ngày hợp lệ theo định dạng ${accepted}`, o.from);
      return KEEP;
    };
    return compileValueStep(o, fieldsOf(o, path), path, step, generate);
  },
);
