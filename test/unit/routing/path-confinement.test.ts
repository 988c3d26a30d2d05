import { expect } from 'chai';
import fc from 'fast-check';
import { pathRefusal, queryRefusal, segmentRefusal } from '../../../src/routing/path-confinement.ts';
import { compilePathPattern, compilePathTemplate } from '../../../src/routing/path-pattern.ts';
import { confinementViolation } from '../../helpers/reference-normaliser.ts';

/**
 * Issue 13.2, property-tested: every path the gateway forwards resolves under the route's upstream base
 * under a reference normaliser that does the union of what common servers do to a path (Tomcat, Jetty,
 * Spring, WSO2, IIS, nginx, lenient decoders), and ordinary API paths still pass.
 */

// ---------------------------------------------------------------------------------------------------------
// Routes as the shipped config has them: `:param` segments, `*` tails, rewrites, an upstream base path.

interface TestRoute {
  readonly name: string;
  readonly path: string;
  readonly base: string;
  readonly template: string;
  /** Gateway path prefix the generator builds on. */
  readonly prefix: string;
}

const ROUTES: TestRoute[] = [
  {
    name: 'hotich catalogs',
    path: '/hotich/:version/danhMuc/*',
    base: '/hotich',
    template: '/:version/danhMuc/*',
    prefix: '/hotich/',
  },
  {
    name: 'hotich push',
    path: '/hotich/:version/dangKyHoTich',
    base: '/hotich',
    template: '/:version/dangKyHoTich',
    prefix: '/hotich/',
  },
  {
    name: 'rewrite',
    path: '/mcdt/hotich/:op',
    base: '/svc',
    template: '/api/hotich/:op/data',
    prefix: '/mcdt/hotich/',
  },
  { name: 'ndxp tail', path: '/ndxp/*', base: '/ndxp', template: '/*', prefix: '/ndxp/' },
];

type Forward = (route: TestRoute, raw: string) => string | undefined;

/** What the gateway forwards for `raw` (path and query), as gateway-handler.ts builds it, or undefined. */
const gatewayForward =
  (refuse: (path: string, query: string) => string | undefined): Forward =>
  (route, raw) => {
    const q = raw.indexOf('?');
    const path = q === -1 ? raw : raw.slice(0, q);
    const query = q === -1 ? '' : raw.slice(q);
    if (refuse(path, query.slice(1))) return undefined;
    const pattern = compilePathPattern(route.path);
    const params = pattern.match(path);
    if (!params) return undefined;
    return route.base + compilePathTemplate(route.template, pattern.paramNames, pattern.hasWildcard)(params) + query;
  };

const confined = gatewayForward((path, query) => pathRefusal(path) ?? queryRefusal(query));

/** Throws unless `forwarded` keeps the base and template shape under the reference normaliser. */
function assertConfined(route: TestRoute, forwarded: string): void {
  const violation = confinementViolation(route.base + route.template, forwarded);
  if (violation) throw new Error(violation);
}

// ---------------------------------------------------------------------------------------------------------
// Generators.

const ATTACK_TOKENS = [
  '.',
  '..',
  '...',
  '. .',
  '.. ',
  ';',
  ';x=1',
  '..;',
  '..;x',
  '%2e',
  '%2E',
  '%2e%2e',
  '.%2e',
  '%252e',
  '%25252e',
  '%c0%ae',
  '%C0%AE',
  '%e0%80%ae',
  '%f0%80%80%ae',
  '%u002e',
  '%U002E',
  '%u2215',
  '%EF%BC%8E',
  '%ef%bc%8f',
  '%E2%80%A4',
  '%E2%80%A5',
  '%E2%80%A6',
  '%EF%B9%92',
  '%c0%af',
  '%c1%9c',
  '%5c',
  '%5C',
  '\\',
  '%2f',
  '%2F',
  '%252f',
  '%00',
  '%20',
  ' ',
  '%3b',
  '%3B',
  '%3f',
  '#',
  '%',
  '%%32%65',
  '%2',
  ':',
  '..%00',
  '.%20',
  '%e2%88%95',
  '\uff0e',
  '\u2024',
  'Ａ',
  '%3b%2e',
  '%C3%A1%2e',
];
const BENIGN_TOKENS = [
  'a',
  'B',
  '3',
  '0',
  '-',
  '_',
  '~',
  'x.y',
  '%E1%BB%87',
  '%C3%A1',
  'danhMuc',
  'dangKyHoTich',
  'quocTich',
];
const SEPARATORS = ['/', '/', '/', '/', '\\', '%2f', '//', '/./', '/../'];

const token = fc.oneof(fc.constantFrom(...ATTACK_TOKENS), fc.constantFrom(...BENIGN_TOKENS));
const segment = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join(''));
const tail = fc
  .array(fc.tuple(fc.constantFrom(...SEPARATORS), segment), { minLength: 0, maxLength: 6 })
  .map((parts) => parts.map(([sep, seg]) => sep + seg).join(''));
/** Hostile paths aimed at each route: a first segment, a tail, sometimes the route's own middle literal. */
const hostile = (route: TestRoute) =>
  fc
    .tuple(
      segment,
      fc.constantFrom('', '/danhMuc', '/dangKyHoTich'),
      tail,
      fc.constantFrom('', '?a=1', '?p=/../../x', '?%2e%2e'),
    )
    .map(([first, middle, rest, query]) => `${route.prefix}${first}${middle}${rest}${query}`);

const vietnameseWord = fc
  .constantFrom('đăng', 'ký', 'hộ', 'tịch', 'Nguyễn', 'Thị', 'Ệ', 'quốc', 'ngưỡng', 'Ơn')
  .map((w) => encodeURIComponent(w.normalize('NFC')));
const plainWord = fc.stringMatching(/^[A-Za-z0-9_~-]([A-Za-z0-9._~-]{0,10}[A-Za-z0-9_~-])?$/);
const ordinarySegment = fc
  .array(fc.oneof(plainWord, vietnameseWord), { minLength: 1, maxLength: 3 })
  .map((w) => w.join('-'));
const ordinaryQuery = fc
  .dictionary(
    fc.oneof(plainWord, fc.constantFrom('maHoSo', 'soDinhDanh')),
    fc.oneof(fc.string(), fc.constantFrom('Nguyễn Văn A', '../x', 'a/b')),
    {
      maxKeys: 4,
    },
  )
  .map((d) => {
    const s = new URLSearchParams(d).toString();
    return s ? `?${s}` : '';
  });

// ---------------------------------------------------------------------------------------------------------

describe('path confinement (issue 13.2): the rule', () => {
  for (const route of ROUTES) {
    it(`every path forwarded on "${route.name}" stays under ${route.base}${route.template} (reference normaliser)`, () => {
      let forwardedCount = 0;
      fc.assert(
        fc.property(hostile(route), (raw) => {
          const forwarded = confined(route, raw);
          if (forwarded === undefined) return;
          forwardedCount++;
          assertConfined(route, forwarded);
        }),
        { numRuns: 3000, seed: 1302 },
      );
      // The generator must reach the forwarding branch, or the property proves nothing.
      expect(forwardedCount).to.be.greaterThan(20);
    });
  }

  it('the same property fails against the rule before 13.2 (the test can catch the bug)', () => {
    const before = gatewayForward((path) => {
      if (/%2f|%5c|%2e|%00|\\/i.test(path)) return 'old';
      return /(^|\/)\.\.?(\/|$)/.test(path) ? 'old' : undefined;
    });
    const route = ROUTES[0];
    const result = fc.check(
      fc.property(hostile(route), (raw) => {
        const forwarded = before(route, raw);
        if (forwarded !== undefined) assertConfined(route, forwarded);
      }),
      { numRuns: 3000, seed: 1302 },
    );
    expect(result.failed).to.equal(true);
    expect(before(route, '/hotich/3.0/danhMuc/..;/..;/dangKyHoTich')).to.equal(
      '/hotich/3.0/danhMuc/..;/..;/dangKyHoTich',
    );
  });

  it('ordinary API paths and query strings pass on every route', () => {
    fc.assert(
      fc.property(
        fc.array(ordinarySegment, { minLength: 1, maxLength: 5 }),
        ordinaryQuery,
        fc.boolean(),
        (segs, query, slash) => {
          const path = `/${segs.join('/')}${slash ? '/' : ''}`;
          expect(pathRefusal(path), path).to.equal(undefined);
          expect(queryRefusal(query.slice(1)), query).to.equal(undefined);
        },
      ),
      { numRuns: 2000, seed: 1302 },
    );
    const forwarded = confined(ROUTES[0], '/hotich/3.0/danhMuc/quocTich?maTinh=01&ten=Nguy%E1%BB%85n');
    expect(forwarded).to.equal('/hotich/3.0/danhMuc/quocTich?maTinh=01&ten=Nguy%E1%BB%85n');
  });

  describe('named attacks are refused, with a reason that does not quote the segment', () => {
    const cases: [string, RegExp][] = [
      ['/hotich/3.0/danhMuc/..;/dangKyHoTich', /đoạn thứ 4 .*";"/],
      ['/hotich/..;/danhMuc/x', /đoạn thứ 2/],
      ['/hotich/3.0/danhMuc/x;jsessionid=abc', /";"/],
      ['/hotich/3.0/danhMuc/%c0%ae%c0%ae/x', /UTF-8/],
      ['/hotich/3.0/danhMuc/%e0%80%ae%e0%80%ae/x', /UTF-8/],
      ['/hotich/3.0/danhMuc/%u002e%u002e/x', /phần trăm không hợp lệ/],
      ['/hotich/3.0/danhMuc/%EF%BC%8E%EF%BC%8E/x', /U\+FF0E/],
      ['/hotich/3.0/danhMuc/%252e%252e/x', /%25/],
      ['/hotich/3.0/danhMuc/%2e%2e/x', /%2E/],
      ['/hotich/3.0/danhMuc/..%5cx', /%5C/],
      ['/hotich/3.0/danhMuc/..\\x', /"\\"/],
      ['/hotich/3.0/danhMuc//x', /rỗng/],
      ['/hotich/3.0/danhMuc/x./y', /dấu chấm/],
      ['/hotich/3.0/danhMuc/.../y', /đoạn chấm/],
      ['/hotich/3.0/danhMuc/x%20', /%20/],
      ['/hotich/3.0/danhMuc/%E2%80%A5/x', /U\+2025/],
      ['/hotich/3.0/danhMuc/x%E1%BB', /UTF-8/],
      ['/hotich/3.0/danhMuc/e%CC%82', /U\+0302/],
      ['/hotich/3.0/danhMuc/x#/../y', /"#"/],
      ['http://evil.example/hotich/3.0/danhMuc/x', /bắt đầu bằng/],
      ['*', /bắt đầu bằng/],
    ];
    for (const [path, reason] of cases) {
      it(path, () => {
        const got = pathRefusal(path);
        expect(got, path).to.match(reason);
        expect(got).not.to.contain('jsessionid');
      });
    }
    it('queries: #, backslash, quotes, broken escapes', () => {
      for (const q of ['a=1#x', 'a=\\..\\', 'a="x"', 'a=%zz', 'a=%', 'a= b'])
        expect(queryRefusal(q), q).to.be.a('string');
      for (const q of ['', 'a=1&b=%2F..%2F', 'p=/../../x', 'f[a]=1', "x=a;b,c:d@e!$'()*+"])
        expect(queryRefusal(q), q).to.equal(undefined);
    });
    it('a single segment: precomposed Vietnamese in NFKC form passes, decomposed does not', () => {
      expect(segmentRefusal(encodeURIComponent('Nguyễn'.normalize('NFC')))).to.equal(undefined);
      expect(segmentRefusal(encodeURIComponent('Nguyễn'.normalize('NFD')))).to.be.a('string');
    });
  });

  describe('route patterns and templates obey the rule at load', () => {
    for (const bad of ['/a/../b', '/a/..;/b', '/a/%2e/b', '/a//b', '/a/b;c', '/a/b./c']) {
      it(`pattern ${bad} is refused`, () => {
        expect(() => compilePathPattern(bad)).to.throw(/segment/);
        expect(() => compilePathTemplate(bad, [], false)).to.throw(/segment/);
      });
    }
    it('shipped-style patterns and a trailing slash load', () => {
      for (const ok of [
        '/',
        '/a/',
        '/hotich/:version/danhMuc/*',
        '/vneid-sso/api/idp/auth/realms/citizen/protocol/openid-connect/token',
      ])
        expect(() => compilePathPattern(ok)).not.to.throw();
    });
  });
});
