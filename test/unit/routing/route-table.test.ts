import { expect } from 'chai';
import { compilePathPattern } from '../../../src/routing/path-pattern.ts';
import { RouteTable, type MatchableRoute } from '../../../src/routing/route-table.ts';

function route(id: string, methods: string[], path: string, headerMatch: [string, string][] = []): MatchableRoute {
  return { id, methods: new Set(methods), pattern: compilePathPattern(path), headerMatch };
}

describe('route table', () => {
  const table = new RouteTable([
    route('wild', ['GET'], '/a/*'),
    route('param', ['POST'], '/a/:x'),
    route('exact', ['PUT'], '/a/b'),
    route('exact-v2', ['DELETE'], '/a/b', [['x-version', '2']]),
    route('root', ['PATCH'], '/*'),
  ]);
  const hit = (method: string, path: string, headers: Record<string, string> = {}) => {
    const m = table.match(method, path, headers);
    return m.kind === 'route' ? [m.route.id, m.params] : m.kind === 'method' ? ['405', m.allow] : ['404'];
  };

  it('literal paths first, then parameters, then wildcards, then the root wildcard', () => {
    expect(hit('PUT', '/a/b')).to.deep.equal(['exact', {}]);
    expect(hit('PUT', '/a/b/')).to.deep.equal(['exact', {}]);
    expect(hit('POST', '/a/b')).to.deep.equal(['param', { x: 'b' }]);
    expect(hit('GET', '/a/b')).to.deep.equal(['wild', { '*': 'b' }]);
    expect(hit('HEAD', '/a/c/d')).to.deep.equal(['wild', { '*': 'c/d' }]);
    expect(hit('PATCH', '/a/b')).to.deep.equal(['root', { '*': 'a/b' }]);
    expect(hit('DELETE', '/a/b', { 'x-version': '2' })).to.deep.equal(['exact-v2', {}]);
  });

  it('a path some route holds, under a method none allows: 405 with every allowed method, sorted', () => {
    expect(hit('DELETE', '/a/b')).to.deep.equal(['405', ['GET', 'PATCH', 'POST', 'PUT']]);
    expect(hit('DELETE', '/a/b', { 'x-version': '2' })).to.deep.equal(['exact-v2', {}]);
    expect(hit('GET', '/z')).to.deep.equal(['405', ['PATCH']]);
    expect(new RouteTable([route('only', ['GET'], '/only')]).match('GET', '/other', {})).to.deep.equal({
      kind: 'none',
    });
  });
});
