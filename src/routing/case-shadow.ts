import { type MatchableRoute, RouteTable } from './route-table.ts';
import { compilePathPattern } from './path-pattern.ts';

interface Folded<R> extends MatchableRoute {
  readonly route: R;
}

/**
 * Route shadowing by case (issue 13.2). The route table is case-sensitive, but IIS, and any upstream
 * that folds case, reads `/x/ADMIN` as `/x/admin`: a caller allowed on `/x/*` would reach the resource of
 * a literal `/x/admin` route that only other consumers may call. Built once per config: a second table of
 * the same routes with case-folded patterns; a request that matched a `:param` or `*` route is refused
 * when, folded, it matches another route of the same upstream.
 */
export function caseShadowCheck<R extends MatchableRoute & { readonly upstream: { readonly id: string } }>(
  routes: readonly R[],
): (
  method: string,
  path: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  matched: R,
) => R | undefined {
  const folded: Folded<R>[] = [];
  for (const route of routes) {
    try {
      folded.push({ ...route, id: route.id, pattern: compilePathPattern(route.pattern.source.toLowerCase()), route });
    } catch {
      // `:Op` and `:op` in one path fold to the same name: such a route is matched case-sensitively only.
    }
  }
  const table = new RouteTable(folded);
  return (method, path, headers, matched) => {
    const hit = table.match(method, path.toLowerCase(), headers);
    if (hit.kind !== 'route' || hit.route.route === matched) return undefined;
    return hit.route.route.upstream.id === matched.upstream.id ? hit.route.route : undefined;
  };
}
