import { Type } from 'typebox';
import { ALIASES, type CatalogEntry, type CatalogValue } from '../catalogs.ts';
import { normalizeCode, scalarToString } from '../text.ts';
import {
  applyEmpty,
  check,
  compileEmptyTest,
  compileFieldStep,
  defineOp,
  emptyPolicyProps,
  fieldError,
  fieldOrFields,
  fieldsOf,
  oneOfFieldOrFields,
  opSchema,
  report,
  toPointer,
} from './common.ts';

/**
 * codelist: maps a field's value through a catalogue (config/catalogs/<catalog>.yaml), from one or more
 * columns (`aliases` included) to another column. Values match after normalisation (trim, case, NFC,
 * leading zeros of digit codes: `"01"` finds GSO code 1, seed 004 §VI.2). `unknown` is required: `reject`
 * gives a FieldError, `pass` leaves the value for the schema to judge. `as` converts the output.
 */
export const codelistOp = defineOp(
  opSchema(
    {
      ...fieldOrFields,
      ...emptyPolicyProps,
      catalog: Type.String({ minLength: 1 }),
      from: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1 })]),
      to: Type.String({ minLength: 1 }),
      as: Type.Optional(Type.Enum(['string', 'number'])),
      unknown: Type.Enum(['reject', 'pass']),
    },
    oneOfFieldOrFields,
  ),
  (o, { catalogs, path }) => {
    const catalog = catalogs.get(o.catalog);
    check(
      catalog !== undefined,
      [...path, 'catalog'],
      'reference',
      `no catalogue "${o.catalog}" (known: ${catalogs.names().join(', ') || 'none'})`,
    );
    const cat = catalog!;
    const from = typeof o.from === 'string' ? [o.from] : o.from;
    from.forEach((c, i) =>
      check(
        c === ALIASES || cat.columns.includes(c),
        [...path, 'from', ...(typeof o.from === 'string' ? [] : [i])],
        'reference',
        `catalogue "${cat.name}" has no column "${c}" (columns: ${[...cat.columns, ALIASES].join(', ')})`,
      ),
    );
    check(cat.columns.includes(o.to), [...path, 'to'], 'reference', `catalogue "${cat.name}" has no column "${o.to}"`);
    const convert = (v: CatalogValue): CatalogValue => {
      if (o.as === 'string') return String(v);
      if (o.as === 'number') {
        const n = typeof v === 'number' ? v : Number(v);
        check(Number.isFinite(n) && String(v).trim() !== '', [...path, 'as'], 'type', `"${v}" is not a number`);
        return n;
      }
      return v;
    };
    // Built once: raw sender value -> output, and normalised value -> output. Two entries answering to one
    // value across the `from` columns (GSO 29 is not id 29 in the ethnicity catalogue) is a config error.
    const exact = new Map<string, CatalogValue>();
    const norm = new Map<string, CatalogValue>();
    const owner = new Map<string, CatalogEntry>();
    for (const column of from) {
      for (const entry of cat.entries) {
        const raw = entry[column];
        const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw as CatalogValue];
        for (const v of values) {
          const key = normalizeCode(String(v));
          const prev = owner.get(key);
          check(
            prev === undefined || prev === entry,
            [...path, 'from'],
            'ambiguous',
            `value "${v}" matches two different entries of catalogue "${cat.name}" through columns ${from.join(', ')}`,
          );
          owner.set(key, entry);
          const out = convert(entry[o.to] as CatalogValue);
          norm.set(key, out);
          if (!exact.has(String(v))) exact.set(String(v), out);
        }
      }
    }
    const isEmpty = compileEmptyTest(o.emptyValues);
    const onEmpty = o.onEmpty;
    const reject = o.unknown === 'reject';
    const columns = from.join(', ');
    const run = compileFieldStep(o.at, fieldsOf(o, path), path, (obj, key, trail, ctx) => {
      if (!Object.hasOwn(obj, key)) return;
      const value = obj[key];
      if (value === undefined) return;
      if (isEmpty(value)) return applyEmpty(onEmpty, obj, key, trail, ctx);
      const s = scalarToString(value);
      const mapped = s === undefined ? undefined : (exact.get(s) ?? norm.get(normalizeCode(s)));
      if (mapped !== undefined) obj[key] = mapped;
      else if (reject) {
        report(
          ctx,
          fieldError(
            toPointer(trail, key),
            'codelist',
            `có giá trị không có trong danh mục "${cat.name}" (cột ${columns})`,
            cat.name,
          ),
        );
      }
    });
    return { run };
  },
);
