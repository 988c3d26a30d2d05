import { getPath } from '../credentials/json-path.ts';

/**
 * The business key of a push (`MaHoSo`), read from the mapped body by the route's dot path(s). In a JSON
 * array of records (MOLISA's bodies) each record's values count: the key is their distinct values, sorted,
 * joined. Undefined when the body holds none (the push is then neither ordered nor deduplicated).
 */
export function compileBusinessKey(paths: string | readonly string[]): (body: unknown) => string | undefined {
  const list = typeof paths === 'string' ? [paths] : paths;
  return (body) => {
    const records = Array.isArray(body) ? body : [body];
    const values = new Set<string>();
    for (const record of records) {
      const parts: string[] = [];
      for (const path of list) {
        const value = getPath(record, path);
        if (typeof value === 'string' || typeof value === 'number') parts.push(String(value).trim());
        else parts.push('');
      }
      if (parts.some((p) => p !== '')) values.add(parts.join('\u001f'));
    }
    if (values.size === 0) return undefined;
    return [...values].sort().join('\u001e');
  };
}
