import http from 'node:http';
import { expect } from 'chai';
import fc from 'fast-check';
import { systemClock } from '../../../src/config/types.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { defaultFactories } from '../../../src/app/default-factories.ts';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { isValidFor, withTestSchemas } from '../../helpers/test-schemas.ts';

/**
 * Hostile input, generated (issue 8): at least 10 000 generated bodies, headers and paths thrown at a route
 * with a request schema, through the real HTTP server. No crash, no 500 (no 5xx at all: the upstream is
 * healthy), no unhandled rejection, and nothing reaches the upstream unless it passes the schema.
 *
 * The route uses a test schema through `factories.compileSchema` (the transform module is not on main yet).
 * To point this at the shipped MOLISA route later: drop `withTestSchemas`, name
 * `molisa/DongBoDVC.request.json` (with its mapping) in ROUTES, and check received bodies with the same
 * validator in `checkedUpstream`.
 */
const SCHEMA = 'dongbo.request.json';
const ROUTES = `routes:
  - { id: checked, methods: [POST], path: /molisa/DongBoDVC, upstream: molisa, consumers: [mcdt], request: { schema: ${SCHEMA} } }
`;
const BATCH = 20;
const RUNS = 500; // 500 runs x 20 requests = 10 000 inputs
const ALLOWED = new Set([200, 400, 404, 405, 413, 415]);
/**
 * The work is bounded by count (RUNS batches), and how long it takes depends on the machine's load: about
 * 10 s idle, and past the 60 s it once had as a whole on a loaded 2-core machine. So no limit on the whole
 * (mocha's timeout is off for this test); each batch is bounded instead: one whose 20 requests do not all
 * get answers within STALL_MS (a hung gateway, a leaked socket) fails the test, saying so.
 */
const STALL_MS = 15_000;

/** `work`, or a rejection naming `what` when it has not settled within STALL_MS. */
function withinStallGuard<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no progress within ${STALL_MS} ms: ${what}`)), STALL_MS);
  });
  return Promise.race([work, stalled]).finally(() => clearTimeout(timer));
}

describe('reliability: fuzzed bodies, headers and paths', function () {
  this.timeout(60_000);
  let up: TestServer;
  let gw: TestGateway;
  let agent: http.Agent;
  const invalidReachedUpstream: string[] = [];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  before(async () => {
    process.on('unhandledRejection', onRejection);
    up = await startServer((req, res, body) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = Symbol('not json');
      }
      if (!isValidFor(SCHEMA, parsed)) invalidReachedUpstream.push(body.toString('utf8').slice(0, 300));
      res.setHeader('content-type', 'application/json');
      res.end('{"error_code":0,"message":"ok"}');
    });
    const logger = createLogger({ silent: true });
    gw = await startGateway(
      {
        'gateway.yaml': 'version: 1\nlimits: { bodyBytes: 65536, jsonDepth: 16 }\nlogging: { level: warn }\n',
        'upstreams.yaml': `upstreams:\n  molisa: { url: "${up.url}", errorDialect: molisa }\nconsumers:\n  mcdt: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
        'routes.yaml': ROUTES,
      },
      {
        factories: withTestSchemas(
          defaultFactories({ configDir: '/nonexistent', env: {}, logger, clock: systemClock }),
        ),
      },
    );
    agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  });
  after(async () => {
    process.off('unhandledRejection', onRejection);
    agent?.destroy();
    await gw?.close();
    await up?.close();
  });

  const id12 = fc.stringMatching(/^[0-9]{12}$/);
  const record = fc.record(
    {
      MaHoSo: fc.oneof(fc.string({ maxLength: 30 }), fc.integer()),
      HoVaTen: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constant('')),
      CMND: fc.oneof(id12, fc.string({ maxLength: 14 }), fc.bigInt(), fc.constant(null)),
      StatusId: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 3 })),
      __proto__: fc.constant({ polluted: true }),
      constructor: fc.string({ maxLength: 3 }),
    },
    { requiredKeys: [] },
  );
  const validRecord = fc.record(
    {
      MaHoSo: fc.string({ minLength: 1, maxLength: 25 }),
      HoVaTen: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      CMND: id12,
      StatusId: fc.integer(),
    },
    { requiredKeys: ['MaHoSo', 'HoVaTen', 'CMND'] },
  );
  const serialise = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
  const body = fc.oneof(
    { weight: 4, arbitrary: fc.array(validRecord, { minLength: 1, maxLength: 4 }).map(serialise) },
    { weight: 4, arbitrary: fc.array(record, { maxLength: 4 }).map(serialise) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
    {
      weight: 2,
      // A valid-looking body with one byte flipped, inserted or cut.
      arbitrary: fc
        .tuple(
          fc.array(record, { minLength: 1, maxLength: 3 }).map(serialise),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
        )
        .map(([text, at, byte]) => {
          const buf = Buffer.from(text);
          const i = at % Math.max(buf.length, 1);
          return Buffer.concat([buf.subarray(0, i), Buffer.from([byte]), buf.subarray(i + (byte % 2))]);
        }),
    },
    { weight: 1, arbitrary: fc.nat({ max: 40 }).map((n) => '['.repeat(n) + ']'.repeat(n)) },
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/problem+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  );
  const headers = fc.dictionary(
    fc.stringMatching(/^x-[a-z0-9-]{1,16}$/),
    fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,40}$/),
    { maxKeys: 4 },
  );
  const path = fc.oneof(
    { weight: 6, arbitrary: fc.constant('/molisa/DongBoDVC') },
    { weight: 1, arbitrary: fc.stringMatching(/^\?[A-Za-z0-9=&%._-]{0,30}$/).map((q) => `/molisa/DongBoDVC${q}`) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9%._~/-]{0,24}$/).map((p) => `/molisa/DongBoDVC/${p}`) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9%._~/-]{1,24}$/).map((p) => `/${p}`) },
  );
  const method = fc.constantFrom('POST', 'POST', 'POST', 'PUT', 'GET');
  const input = fc.record({ method, path, headers, contentType, body });

  it(`${BATCH * RUNS} generated requests: only 2xx/4xx, no unhandled rejection, nothing invalid reaches the upstream`, async function () {
    this.timeout(0); // bounded by RUNS batches of STALL_MS each (above), not by the machine's speed
    let stall: Error | undefined;
    let sent = 0;
    let accepted = 0;
    const seenBefore = up.requests.length;
    await fc.assert(
      fc.asyncProperty(fc.array(input, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        // After a stall every later run (fast-check shrinking it) fails at once instead of waiting again.
        if (stall) throw stall;
        const sending = Promise.all(
          batch.map((x) => {
            const h: Record<string, string> = { ...x.headers, 'x-api-key': CONSUMER_KEY };
            if (x.contentType) h['content-type'] = x.contentType;
            return request(`${gw.url}${x.path}`, {
              method: x.method,
              headers: h,
              body: x.method === 'GET' ? undefined : x.body,
              agent,
            });
          }),
        );
        const results = await withinStallGuard(sending, `a batch of ${BATCH} requests after ${sent}`).catch(
          (err: Error) => {
            throw (stall = err);
          },
        );
        sent += batch.length;
        results.forEach((res, i) => {
          if (!ALLOWED.has(res.status)) {
            throw new Error(`status ${res.status} for ${JSON.stringify(batch[i]).slice(0, 400)}: ${res.body}`);
          }
          if (res.status === 200) accepted++;
        });
        return true;
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20260708) },
    );
    expect(sent).to.equal(BATCH * RUNS);
    expect(invalidReachedUpstream, 'invalid bodies reached the upstream').to.deep.equal([]);
    expect(up.requests.length - seenBefore, 'each accepted request reached the upstream exactly once').to.equal(
      accepted,
    );
    expect(accepted, 'the generator produces valid bodies too').to.be.greaterThan(500);
    expect(rejections).to.deep.equal([]);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(gw.gateway.reloader.current.inFlight).to.equal(0);
  });
});
