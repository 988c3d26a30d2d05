import { Type } from '../../plugin/schema-type.ts';
import { ConfigPathError } from '../../config/config-error.ts';
import { ALIASES, type CatalogEntry, type CatalogValue } from '../catalogs.ts';
import { describeEntry, findCollision, indexForm, valuesOf } from '../code-forms.ts';
import { normalizeCode, scalarToString } from '../text.ts';
import {
  check,
  compileValueStep,
  defineOp,
  emptyPolicyProps,
  fieldsOf,
  fieldOpSchema,
  KEEP,
  reportAt,
  type Pass,
  type PassStep,
  type Step,
} from './common.ts';

/**
 * codelist: maps a field's value through a catalogue (config/catalogs/<catalog>.yaml), from one or more
 * columns (`aliases` included) to another column. Values match after normalisation (trim, case, NFC,
 * leading zeros of digit codes: `"01"` finds GSO code 1, seed 004 §VI.2). `unknown` is required: `reject`
 * gives a FieldError, `pass` leaves the value for the schema to judge. `as` converts the output.
 * `from` is the route's default form; a consumer's declared form (consumers.<id>.codeForms.<catalogue>)
 * replaces it for that consumer's bodies, through a table compiled here (issue 16.1, code-forms.ts).
 */
export const codelistOp = defineOp(
  fieldOpSchema({
    ...emptyPolicyProps,
    catalog: Type.String({ minLength: 1 }),
    from: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1 })]),
    to: Type.String({ minLength: 1 }),
    as: Type.Optional(Type.Enum(['string', 'number'])),
    unknown: Type.Enum(['reject', 'pass']),
  }),
  (o, deps) => {
    const { catalogs, path } = deps;
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
    const reject = o.unknown === 'reject';
    const fields = fieldsOf(o, path);
    /**
     * The step reading values through `columns`: raw sender value -> output, and normalised value -> output,
     * built once. Two entries answering to one value across the columns is a config error (indexForm).
     */
    const readThrough = (
      columns: readonly string[],
      index: ReadonlyMap<string, CatalogEntry>,
      whose: string,
    ): PassStep => {
      const exact = new Map<string, CatalogValue>();
      const norm = new Map<string, CatalogValue>();
      for (const [key, entry] of index) norm.set(key, convert(entry[o.to] as CatalogValue));
      for (const column of columns) {
        for (const entry of cat.entries) {
          for (const v of valuesOf(entry, column)) {
            if (!exact.has(String(v))) exact.set(String(v), norm.get(normalizeCode(String(v)))!);
          }
        }
      }
      // Short digit codes as senders pad them ("01" for GSO 1, seed 004's example): `exact` answers what
      // normalizeCode would (it drops the zeros), without its NFC and case work per value (issue 19).
      for (const value of [...exact.keys()]) {
        if (!/^[0-9]{1,2}$/.test(value)) continue;
        for (const padded of [value.padStart(2, '0'), value.padStart(3, '0')]) {
          const mapped = norm.get(normalizeCode(padded));
          if (mapped !== undefined && !exact.has(padded)) exact.set(padded, mapped);
        }
      }
      const text = `có giá trị không có trong danh mục "${cat.name}" (cột ${columns.join(', ')}${whose})`;
      return compileValueStep(
        o,
        fields,
        path,
        (value, _obj, key, trail, ctx) => {
          const s = scalarToString(value);
          const mapped = s === undefined ? undefined : (exact.get(s) ?? norm.get(normalizeCode(s)));
          // A code already in the target form ("1.001753", "1048") is left in place: no store.
          if (mapped !== undefined) return Object.is(mapped, value) ? KEEP : mapped;
          if (reject) reportAt(ctx, trail, key, 'codelist', text, cat.name);
          return KEEP;
        },
        deps.generate,
      );
    };
    const defaultIndex = indexForm(cat, from, [...path, 'from']);
    const byDefault = readThrough(from, defaultIndex, '');
    // Issue 16.1: a sender profile (consumers.<id>.codeForms) replaces `from` for that consumer. Where the
    // default would read a value another column gives another meaning (ethnicity GSO 29 = Khơ-mú, id 29 =
    // Kinh), a consumer that declared nothing cannot be read by it: its sender of ids would see "29" become
    // "57" with MOLISA answering success. Such a consumer is a config error, never a guess at request time.
    const collision = deps.senders ? findCollision(cat, from, defaultIndex) : undefined;
    const bySender = new Map<string, PassStep>();
    const byForm = new Map<string, PassStep>();
    for (const sender of deps.senders ?? []) {
      const declared = deps.codeForms?.get(sender)?.get(cat.name);
      if (declared !== undefined) {
        const key = declared.join('\u0000');
        let step = byForm.get(key);
        if (step === undefined) {
          const index = indexForm(cat, declared, ['consumers', sender, 'codeForms', cat.name]);
          step = readThrough(declared, index, ', theo khai báo của hệ thống gửi');
          byForm.set(key, step);
        }
        bySender.set(sender, step);
      } else if (collision !== undefined) {
        const c = collision;
        throw new ConfigPathError(
          ['consumers', sender, 'codeForms'],
          'code-form',
          `consumer "${sender}" calls a route whose codelist (${path.join('.')}) reads catalogue "${cat.name}" ` +
            `through ${from.join(', ')} by default, and "${c.value}" means ${describeEntry(c.means)} in column ` +
            `${c.column} but reads as ${describeEntry(c.readAs)}: declare which the consumer sends ` +
            `(codeForms: { ${cat.name}: <column or list> })`,
        );
      }
    }
    if (bySender.size === 0) return byDefault;
    const run: Step = (body, ctx) =>
      (ctx.consumer === undefined ? byDefault : (bySender.get(ctx.consumer) ?? byDefault)).run(body, ctx);
    // Every step has the passes of `fields` in one order: the i-th pass of each reads the same containers.
    const passes = byDefault.passes.map((pass, i): Pass => ({
      ...pass,
      bySender: new Map([...bySender].map(([s, step]) => [s, step.passes[i].visit])),
    }));
    return { run, passes };
  },
);
