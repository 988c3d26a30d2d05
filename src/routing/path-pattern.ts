import { segmentRefusal } from './path-confinement.ts';

/**
 * Route path patterns: literal segments, `:name` parameters (one segment) and an optional trailing `*`
 * (the rest of the path, possibly empty). Compiled once at load to a RegExp; matching is one exec().
 */
export interface PathPattern {
  readonly source: string;
  readonly paramNames: readonly string[];
  readonly hasWildcard: boolean;
  /** Returns the params (`*` holds the wildcard tail, without its leading slash) or undefined. */
  match(path: string): Record<string, string> | undefined;
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/** Compiles `/molisa/api/v1/Service/:op` or `/ndxp/*`. Throws Error with a readable message. */
export function compilePathPattern(source: string): PathPattern {
  if (!source.startsWith('/')) throw new Error(`path "${source}" must start with /`);
  const segments = source.split('/').slice(1);
  const names: string[] = [];
  let regex = '^';
  let hasWildcard = false;
  segments.forEach((seg, i) => {
    if (seg === '*') {
      if (i !== segments.length - 1) throw new Error(`path "${source}": * is only allowed as the last segment`);
      hasWildcard = true;
      regex += '(?:/(.*))?';
      return;
    }
    const param = PARAM.exec(seg);
    if (param) {
      if (names.includes(param[1])) throw new Error(`path "${source}": parameter :${param[1]} appears twice`);
      names.push(param[1]);
      regex += '/([^/]+)';
      return;
    }
    if (seg.includes(':') || seg.includes('*')) throw new Error(`path "${source}": bad segment "${seg}"`);
    checkLiteral(`path "${source}"`, seg, i === segments.length - 1);
    regex += `/${escapeRegExp(seg)}`;
  });
  if (source === '/') regex = '^/';
  regex += hasWildcard ? '$' : '/?$';
  const re = new RegExp(regex);
  return {
    source,
    paramNames: names,
    hasWildcard,
    match(path) {
      const m = re.exec(path);
      if (!m) return undefined;
      const params: Record<string, string> = {};
      for (let i = 0; i < names.length; i++) params[names[i]] = m[i + 1];
      if (hasWildcard) params['*'] = m[names.length + 1] ?? '';
      return params;
    },
  };
}

/** Compiles an upstream path template (`/api/v1/Service/:op`, `/*`) into a filler checked against the params. */
export function compilePathTemplate(template: string, available: readonly string[], hasWildcard: boolean) {
  const parts = template.split('/').slice(1);
  for (const [i, part] of parts.entries()) {
    const param = PARAM.exec(part);
    if (param && !available.includes(param[1])) {
      throw new Error(`upstreamPath "${template}" uses :${param[1]}, which the route path does not define`);
    }
    if (part === '*' && !hasWildcard) throw new Error(`upstreamPath "${template}" uses *, but the route path has none`);
    if (!param && part !== '*') checkLiteral(`upstreamPath "${template}"`, part, i === parts.length - 1);
  }
  return (params: Record<string, string>): string => {
    let out = '';
    for (const part of parts) {
      const param = PARAM.exec(part);
      if (param) out += `/${params[param[1]]}`;
      else if (part === '*') out += params['*'] ? `/${params['*']}` : '';
      else out += `/${part}`;
    }
    return out || '/';
  };
}

/** Literal segments obey the rule caller segments do (path-confinement.ts): the filled path then obeys it whole. */
function checkLiteral(what: string, segment: string, last: boolean): void {
  if (segment === '' && last) return; // a trailing slash
  const reason = segmentRefusal(segment);
  if (reason) throw new Error(`${what}: segment "${segment}" ${reason}`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
