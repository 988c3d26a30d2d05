import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigPathError } from '../config/config-error.ts';
import { normalizeCode, scalarToString } from './text.ts';

/**
 * Catalogues (danh mục) are data admins edit, never code: `config/catalogs/<name>.yaml`, one file per
 * catalogue, named by its file. Seed 004 §VI lists ethnicity, gender and ID-card issuers; since July 2025
 * (34 provinces, no district level) place codes change, so nothing here knows any code.
 *
 * File format (docs/transform.md, "Catalogue files"):
 *   description: free text
 *   source: where the data comes from (seed file and table)
 *   columns: [id, gso, name]          # every entry has every column (string or number)
 *   entries:
 *     - { id: 29, gso: 1, name: Kinh, aliases: [Kinh] }   # aliases: optional extra sender values
 */
export type CatalogValue = string | number;

export interface CatalogEntry {
  readonly [column: string]: CatalogValue | readonly CatalogValue[] | undefined;
}

export interface Catalog {
  readonly name: string;
  readonly file: string;
  /** Declared columns; `aliases` is an extra lookup column every catalogue has. */
  readonly columns: readonly string[];
  readonly entries: readonly CatalogEntry[];
  /** The entry whose `column` (or `aliases`) equals `value` after normalisation (trim, case, NFC, zeros). */
  lookup(column: string, value: CatalogValue): CatalogEntry | undefined;
}

export interface CatalogSet {
  get(name: string): Catalog | undefined;
  names(): string[];
}

/** The pseudo-column holding each entry's extra sender values. */
export const ALIASES = 'aliases';

const NAME = /^[a-z0-9][a-z0-9_-]*$/i;

/** Loads every `*.yaml`/`*.yml` of `dir` into an immutable CatalogSet; throws ConfigPathError on bad data. */
export function loadCatalogs(dir: string): CatalogSet {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch (err) {
    throw new ConfigPathError(
      ['catalogs'],
      'catalog-dir',
      `cannot read the catalogue directory ${dir}: ${String(err)}`,
    );
  }
  const map = new Map<string, Catalog>();
  for (const file of files) {
    const name = file.replace(/\.ya?ml$/, '');
    if (map.has(name)) {
      throw new ConfigPathError(['catalogs', file], 'duplicate', `catalogue "${name}" is defined twice`);
    }
    let text: string;
    try {
      text = readFileSync(join(dir, file), 'utf8');
    } catch (err) {
      throw new ConfigPathError(['catalogs', file], 'catalog-read', `cannot read ${file}: ${String(err)}`);
    }
    map.set(name, parseCatalog(name, file, text));
  }
  const names = [...map.keys()];
  return Object.freeze({ get: (n: string) => map.get(n), names: () => [...names] });
}

/** Parses one catalogue file's text; exported for tests. */
export function parseCatalog(name: string, file: string, text: string): Catalog {
  const base = ['catalogs', file] as const;
  if (!NAME.test(name)) throw new ConfigPathError(base, 'name', `invalid catalogue file name: ${file}`);
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new ConfigPathError(base, 'yaml-syntax', `${where}: YAML syntax error: ${e.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigPathError(base, 'type', `${file}: a catalogue must be an object with columns and entries`);
  }
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!['description', 'source', 'columns', 'entries'].includes(k)) {
      throw new ConfigPathError([...base, k], 'additionalProperties', `${file}: unknown key "${k}"`);
    }
  }
  const columns = obj.columns;
  if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === 'string' && NAME.test(c))) {
    throw new ConfigPathError([...base, 'columns'], 'type', `${file}: columns must be a list of column names`);
  }
  if (new Set(columns).size !== columns.length || columns.includes(ALIASES)) {
    throw new ConfigPathError(
      [...base, 'columns'],
      'uniqueItems',
      `${file}: a column name is repeated or is "aliases"`,
    );
  }
  if (!Array.isArray(obj.entries) || obj.entries.length === 0) {
    throw new ConfigPathError([...base, 'entries'], 'type', `${file}: entries must be a non-empty list`);
  }
  const indexes = new Map<string, Map<string, CatalogEntry>>();
  for (const c of [...columns, ALIASES]) indexes.set(c, new Map());
  const entries: CatalogEntry[] = [];
  obj.entries.forEach((e: unknown, i: number) => {
    const at = [...base, 'entries', i];
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      throw new ConfigPathError(at, 'type', `${file}: entry ${i} must be an object`);
    }
    const rec = e as Record<string, unknown>;
    const entry: Record<string, CatalogValue | readonly CatalogValue[]> = {};
    for (const k of Object.keys(rec)) {
      if (k !== ALIASES && !columns.includes(k)) {
        throw new ConfigPathError(
          [...at, k],
          'additionalProperties',
          `${file}: entry ${i} has an unknown column "${k}"`,
        );
      }
    }
    for (const c of columns as string[]) {
      const v = rec[c];
      if ((typeof v !== 'string' && typeof v !== 'number') || scalarToString(v)?.trim() === '') {
        throw new ConfigPathError([...at, c], 'required', `${file}: entry ${i} has no value for column "${c}"`);
      }
      entry[c] = v;
      index(indexes.get(c)!, v, entry, [...at, c], file, c);
    }
    if (rec[ALIASES] !== undefined) {
      const aliases = rec[ALIASES];
      if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string' || typeof a === 'number')) {
        throw new ConfigPathError([...at, ALIASES], 'type', `${file}: aliases of entry ${i} must be a list of values`);
      }
      entry[ALIASES] = Object.freeze([...aliases]);
      aliases.forEach((a, j) => index(indexes.get(ALIASES)!, a, entry, [...at, ALIASES, j], file, ALIASES));
    }
    entries.push(Object.freeze(entry));
  });
  const frozenColumns = Object.freeze([...(columns as string[])]);
  return Object.freeze({
    name,
    file,
    columns: frozenColumns,
    entries: Object.freeze(entries),
    lookup(column: string, value: CatalogValue): CatalogEntry | undefined {
      const idx = indexes.get(column);
      const s = scalarToString(value);
      return idx && s !== undefined ? idx.get(normalizeCode(s)) : undefined;
    },
  });
}

function index(
  idx: Map<string, CatalogEntry>,
  v: CatalogValue,
  entry: CatalogEntry,
  at: readonly (string | number)[],
  file: string,
  column: string,
): void {
  const key = normalizeCode(String(v));
  const prev = idx.get(key);
  // A lookup must be a function: two entries answering to one value would make the mapping a guess.
  if (prev !== undefined && prev !== entry) {
    throw new ConfigPathError(at, 'uniqueItems', `${file}: value "${String(v)}" of column "${column}" is repeated`);
  }
  idx.set(key, entry);
}
