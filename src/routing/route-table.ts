import type { PathPattern } from './path-pattern.ts';

export interface MatchableRoute {
  readonly id: string;
  readonly methods: ReadonlySet<string>;
  readonly pattern: PathPattern;
  readonly headerMatch: readonly (readonly [string, string])[];
}

export type RouteMatch<R> =
  | { readonly kind: 'route'; readonly route: R; readonly params: Record<string, string> }
  | { readonly kind: 'method'; readonly allow: readonly string[] }
  | { readonly kind: 'none' };

/**
 * Compiled at load: literal paths in a Map (one lookup), patterns bucketed by their first segment.
 * Precedence: literal paths before `:param` paths before `*` paths; routes with a header condition
 * before those without; then the order of the files.
 */
export class RouteTable<R extends MatchableRoute> {
  readonly #exact = new Map<string, R[]>();
  readonly #byFirstSegment = new Map<string, R[]>();
  readonly #rootWildcards: R[] = [];

  constructor(routes: readonly R[]) {
    const ordered = routes
      .map((route, index) => ({ route, index }))
      .sort((a, b) => rank(a.route) - rank(b.route) || a.index - b.index)
      .map((x) => x.route);
    for (const route of ordered) {
      const { pattern } = route;
      if (pattern.paramNames.length === 0 && !pattern.hasWildcard) {
        const key = stripTrailingSlash(pattern.source);
        const list = this.#exact.get(key) ?? [];
        list.push(route);
        this.#exact.set(key, list);
        continue;
      }
      const first = pattern.source.split('/')[1] ?? '';
      if (first === '*' || first.startsWith(':') || first === '') this.#rootWildcards.push(route);
      else {
        const list = this.#byFirstSegment.get(first) ?? [];
        list.push(route);
        this.#byFirstSegment.set(first, list);
      }
    }
  }

  match(method: string, path: string, headers: Readonly<Record<string, string | string[] | undefined>>): RouteMatch<R> {
    // Methods of routes whose path matched but whose methods did not (the 405's Allow), made only then.
    const allow: { methods?: Set<string> } = {};
    const exact = this.#exact.get(stripTrailingSlash(path));
    if (exact) {
      const hit = pick(exact, method, path, headers, allow, false);
      if (hit) return hit;
    }
    const slash = path.indexOf('/', 1);
    const bucket = this.#byFirstSegment.get(path.slice(1, slash === -1 ? undefined : slash));
    const hit =
      (bucket && pick(bucket, method, path, headers, allow, true)) ||
      pick(this.#rootWildcards, method, path, headers, allow, true);
    if (hit) return hit;
    if (allow.methods) return { kind: 'method', allow: [...allow.methods].sort() };
    return { kind: 'none' };
  }
}

/** The first route of `list` matching; `patterned`: its params come from its pattern (else a literal path). */
function pick<R extends MatchableRoute>(
  list: readonly R[],
  method: string,
  path: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  allow: { methods?: Set<string> },
  patterned: boolean,
): RouteMatch<R> | undefined {
  for (const route of list) {
    const params = patterned ? route.pattern.match(path) : {};
    if (!params) continue;
    if (!headersMatch(route, headers)) continue;
    if (route.methods.has(method) || (method === 'HEAD' && route.methods.has('GET'))) {
      return { kind: 'route', route, params };
    }
    allow.methods ??= new Set();
    for (const m of route.methods) allow.methods.add(m);
  }
  return undefined;
}

function headersMatch(
  route: MatchableRoute,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): boolean {
  for (const [name, value] of route.headerMatch) if (headers[name] !== value) return false;
  return true;
}

function rank(route: MatchableRoute): number {
  const p = route.pattern;
  const kind = p.hasWildcard ? 2 : p.paramNames.length > 0 ? 1 : 0;
  return kind * 2 + (route.headerMatch.length > 0 ? 0 : 1);
}

function stripTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
