import { ConfigPathError } from '../config/config-error.ts';
import { ALIASES, type Catalog, type CatalogEntry, type CatalogSet, type CatalogValue } from './catalogs.ts';
import { normalizeCode } from './text.ts';

/**
 * Code forms (issue 16.1): which column(s) of a catalogue a sender writes its values in. The same
 * catalogue holds code spaces that overlap (ethnicity: MOLISA ids 29-82 and GSO codes 1-54 share 29-54 with
 * different meanings), so a value alone cannot say which it is: the form is declared, per consumer
 * (`consumers.<id>.codeForms.<catalogue>`, the sender profile) or per codelist op (`from:`, the route's
 * default), and never guessed from the value. Everything here runs at load.
 */

/** Consumer id -> catalogue name -> the columns that consumer's values are read through. */
export type CodeForms = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

export const NO_CODE_FORMS: CodeForms = new Map();

/** A form as written in YAML (`id` or `[gso, name, aliases]`) as a list of columns. */
export function formColumns(form: string | readonly string[]): readonly string[] {
  return typeof form === 'string' ? [form] : form;
}

/** Every value an entry has in `column` (`aliases` is a list). */
export function valuesOf(entry: CatalogEntry, column: string): readonly CatalogValue[] {
  const raw = entry[column];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw as CatalogValue];
}

/**
 * The lookup through a form: normalised value -> entry. Throws ConfigPathError (`ambiguous`) at `path` when one
 * value names two different entries through the form's columns: such a form would make every read a guess.
 */
export function indexForm(
  cat: Catalog,
  columns: readonly string[],
  path: readonly (string | number)[],
): Map<string, CatalogEntry> {
  const index = new Map<string, CatalogEntry>();
  for (const column of columns) {
    for (const entry of cat.entries) {
      for (const v of valuesOf(entry, column)) {
        const key = normalizeCode(String(v));
        const prev = index.get(key);
        if (prev !== undefined && prev !== entry) {
          throw new ConfigPathError(
            path,
            'ambiguous',
            `value "${v}" matches two different entries of catalogue "${cat.name}" through columns ${columns.join(', ')}: ${describeEntry(prev)} and ${describeEntry(entry)}`,
          );
        }
        index.set(key, entry);
      }
    }
  }
  return index;
}

/** A value that reads as one entry through a form and means another in a column outside it. */
export interface Collision {
  readonly column: string;
  readonly value: CatalogValue;
  readonly readAs: CatalogEntry;
  readonly means: CatalogEntry;
}

/**
 * The first value of a column outside `columns` that the form would read as another entry (ethnicity through
 * `gso`: "29" is Khơ-mú, while in `id` "29" is Kinh), or undefined when the catalogue proves no sender of
 * another form can be misread through this one.
 */
export function findCollision(
  cat: Catalog,
  columns: readonly string[],
  index: ReadonlyMap<string, CatalogEntry>,
): Collision | undefined {
  for (const column of [...cat.columns, ALIASES]) {
    if (columns.includes(column)) continue;
    for (const entry of cat.entries) {
      for (const v of valuesOf(entry, column)) {
        const readAs = index.get(normalizeCode(String(v)));
        if (readAs !== undefined && readAs !== entry) return { column, value: v, readAs, means: entry };
      }
    }
  }
  return undefined;
}

/** `id 29 / gso 01 / Kinh`: an entry by all its columns, for messages. */
export function describeEntry(entry: CatalogEntry): string {
  return Object.entries(entry)
    .filter(([k]) => k !== ALIASES)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(' / ');
}

/**
 * Compiles every consumer's `codeForms` against the catalogues of the load: each catalogue must exist, each
 * column be one of its columns (or `aliases`), each form be unambiguous on its own. Errors name
 * `consumers.<id>.codeForms.<catalogue>`.
 */
export function compileCodeForms(
  consumers: Readonly<Record<string, { readonly codeForms?: Readonly<Record<string, string | readonly string[]>> }>>,
  catalogs: CatalogSet,
): CodeForms {
  const out = new Map<string, ReadonlyMap<string, readonly string[]>>();
  for (const [id, consumer] of Object.entries(consumers)) {
    if (!consumer.codeForms) continue;
    const forms = new Map<string, readonly string[]>();
    for (const [name, form] of Object.entries(consumer.codeForms)) {
      const path = ['consumers', id, 'codeForms', name];
      const cat = catalogs.get(name);
      if (cat === undefined) {
        throw new ConfigPathError(
          path,
          'reference',
          `no catalogue "${name}" (known: ${catalogs.names().join(', ') || 'none'})`,
        );
      }
      const columns = formColumns(form);
      columns.forEach((c, i) => {
        if (c !== ALIASES && !cat.columns.includes(c)) {
          throw new ConfigPathError(
            typeof form === 'string' ? path : [...path, i],
            'reference',
            `catalogue "${name}" has no column "${c}" (columns: ${[...cat.columns, ALIASES].join(', ')})`,
          );
        }
      });
      indexForm(cat, columns, path);
      forms.set(name, Object.freeze([...columns]));
    }
    out.set(id, forms);
  }
  return out;
}

/** How one codelist op reads one consumer's values: the columns, and whether the consumer declared them. */
export interface ConsumerReading {
  readonly consumer: string;
  readonly columns: readonly string[];
  readonly declared: boolean;
}

/** One codelist op of a request mapping, as `validate` and `routes` show it. */
export interface CodelistReading {
  readonly fields: readonly string[];
  readonly catalog: string;
  readonly to: string;
  readonly defaultColumns: readonly string[];
  readonly consumers: readonly ConsumerReading[];
}

/**
 * Which consumer of a route is read how, per codelist op of its request mapping (the same resolution the op
 * compiles: the consumer's declared form, else the op's `from:`).
 */
export function describeCodeForms(
  mapping: readonly Record<string, unknown>[] | undefined,
  consumers: readonly string[],
  forms: Readonly<Record<string, { readonly codeForms?: Readonly<Record<string, string | readonly string[]>> }>>,
): CodelistReading[] {
  const out: CodelistReading[] = [];
  for (const op of mapping ?? []) {
    if ((op.op ?? op.type) !== 'codelist') continue;
    const catalog = String(op.catalog);
    const defaultColumns = formColumns(op.from as string | string[]);
    const fields = op.fields ? (op.fields as string[]) : [String(op.field)];
    out.push({
      fields,
      catalog,
      to: String(op.to),
      defaultColumns,
      consumers: consumers.map((consumer) => {
        const declared = forms[consumer]?.codeForms?.[catalog];
        return declared === undefined
          ? { consumer, columns: defaultColumns, declared: false }
          : { consumer, columns: formColumns(declared), declared: true };
      }),
    });
  }
  return out;
}
