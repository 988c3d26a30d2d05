import { readFileSync } from 'node:fs';
import type { ConfigIssue } from './config-error.ts';
import { formatPath } from './config-error.ts';

/**
 * `${VAR}`, `${VAR:-default}` and `$${...}` (a literal `${...}`) in string values. When VAR is unset and
 * `VAR_FILE` names a file, the file's content (trailing newline removed) is used: the Docker/Kubernetes
 * secrets convention. A reference with no value and no default is an error naming the variable.
 */
const REF = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export type Env = Readonly<Record<string, string | undefined>>;

export function interpolate(value: unknown, env: Env, issues: ConfigIssue[], path: (string | number)[] = []): unknown {
  if (typeof value === 'string') return interpolateString(value, env, issues, path);
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, issues, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, issues, [...path, k]);
    return out;
  }
  return value;
}

function interpolateString(text: string, env: Env, issues: ConfigIssue[], path: (string | number)[]): string {
  if (!text.includes('${')) return text;
  return text.replace(REF, (whole, escape: string, name: string, fallback: string | undefined) => {
    if (escape) return whole.slice(1);
    const direct = env[name];
    if (direct !== undefined && direct !== '') return direct;
    const file = env[`${name}_FILE`];
    if (file) {
      try {
        return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        issues.push({
          path: formatPath(path),
          rule: 'secret',
          message: `${name}_FILE points to ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        });
        return '';
      }
    }
    if (fallback !== undefined) return fallback;
    issues.push({
      path: formatPath(path),
      rule: 'secret',
      message: `environment variable ${name} is not set (nor ${name}_FILE) and has no default`,
    });
    return '';
  });
}
