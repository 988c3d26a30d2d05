import { readFileSync } from 'node:fs';
import type { ConfigIssue } from './config-error.ts';
import { formatPath } from './config-error.ts';

/**
 * `${VAR}`, `${VAR:-default}` and `$${...}` (a literal `${...}`) in string values. When VAR is unset and
 * `VAR_FILE` names a file, the file's content (trailing newline removed) is used: the Docker/Kubernetes
 * secrets convention. A reference with no value and no default is an error naming the variable. A default
 * may hold references itself: `${UPSTREAM_NDXP_URL:-${LGSP_SANDBOX_URL}/ndxp}`.
 */
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
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('$', i);
    if (at === -1) break;
    out += text.slice(i, at);
    const escaped = text.startsWith('$${', at);
    const open = escaped ? at + 1 : at;
    const ref = text.startsWith('${', open) ? parseReference(text, open + 2) : undefined;
    if (!ref) {
      out += '$';
      i = at + 1;
      continue;
    }
    // `$${...}` is the literal text `${...}`, not interpolated.
    out += escaped ? text.slice(open, ref.end) : resolve(ref.name, ref.fallback, env, issues, path);
    i = ref.end;
  }
  return out + text.slice(i);
}

/**
 * `NAME}` or `NAME:-default}` from `start` (just after `${`); the default may itself hold references,
 * e.g. `${UPSTREAM_NDXP_URL:-${LGSP_SANDBOX_URL}/ndxp}`, so its end is found by counting braces.
 */
function parseReference(text: string, start: number): { name: string; fallback?: string; end: number } | undefined {
  const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(start))?.[0];
  if (!name) return undefined;
  let i = start + name.length;
  if (text[i] === '}') return { name, end: i + 1 };
  if (!text.startsWith(':-', i)) return undefined;
  i += 2;
  const from = i;
  for (let depth = 0; i < text.length; i++) {
    if (text.startsWith('${', i)) {
      depth++;
      i++;
    } else if (text[i] === '}') {
      if (depth === 0) return { name, fallback: text.slice(from, i), end: i + 1 };
      depth--;
    }
  }
  return undefined;
}

function resolve(
  name: string,
  fallback: string | undefined,
  env: Env,
  issues: ConfigIssue[],
  path: (string | number)[],
): string {
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
  if (fallback !== undefined) return interpolateString(fallback, env, issues, path);
  issues.push({
    path: formatPath(path),
    rule: 'secret',
    message: `environment variable ${name} is not set (nor ${name}_FILE) and has no default`,
  });
  return '';
}
