import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** Repository root (tests read the shipped config/, schemas/ and test/fixtures/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SCHEMAS = join(ROOT, 'schemas');
export const CATALOGS = join(ROOT, 'config', 'catalogs');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

/** A fresh copy of a JSON fixture (tests may mutate what mapping returns). */
export function fixture(rel: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, rel), 'utf8'));
}

/** A shipped mapping file (`config/mappings/<name>.yaml`), YAML anchors resolved. */
export function shippedMappings(
  name: string,
): Record<string, Record<string, { mapping?: Record<string, unknown>[]; schema?: string }>> {
  return parse(readFileSync(join(ROOT, 'config', 'mappings', `${name}.yaml`), 'utf8'), { merge: true });
}

/** The shipped DanTocId op (MOLISA records): GSO codes and names by default, to MOLISA ids; `extra` overrides. */
export function ethnicityOp(extra: Record<string, unknown> = {}): Record<string, unknown>[] {
  return [
    {
      op: 'codelist',
      at: '[]',
      field: 'DanTocId',
      catalog: 'ethnicity',
      from: ['gso', 'name', 'aliases'],
      to: 'id',
      as: 'string',
      unknown: 'reject',
      ...extra,
    },
  ];
}
