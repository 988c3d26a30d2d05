import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import fc from 'fast-check';
import {
  type AccessLineFields,
  createAccessLineWriter,
  createLineWriter,
  createLogger,
  flushLines,
  isoTimestamp,
} from '../../../src/logging/logger.ts';
import { isSecretQueryName, maskText, maskUrl, maskValue } from '../../../src/logging/mask.ts';

function capture() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
  });
  return { stream, lines };
}

describe('logging: access line writer', () => {
  const fields = {
    requestId: 'req-001099012345',
    route: 'ndxp-all',
    consumer: undefined,
    path: '/ndxp/x?so=0912345678',
    status: 200,
    bytes: 2048,
    durationMs: 1.25,
  };

  it('writes the same masked fields as logger.info, plus level, message and timestamp', () => {
    const fast = capture();
    const slow = capture();
    const fastLogger = createLogger({ stream: fast.stream });
    createLineWriter(fastLogger, 'access')(fields);
    expect(fast.lines, 'lines of one event-loop turn are batched').to.have.length(0);
    flushLines(fastLogger);
    createLogger({ stream: slow.stream }).info('access', fields);
    expect(fast.lines).to.have.length(1);
    const { timestamp: t1, ...a } = fast.lines[0];
    const { timestamp: t2, ...b } = slow.lines[0];
    expect(a).to.deep.equal(b);
    expect(a.requestId).to.equal('req-[ID12]');
    expect(a.path).to.equal('/ndxp/x?so=[PHONE]');
    expect(a).not.to.have.property('consumer');
    expect(Number.isNaN(Date.parse(t1 as string))).to.equal(false);
    expect(t2).to.be.a('string');
  });

  it('writes nothing when info is disabled (level changed after creation) or the logger is silent', () => {
    const out = capture();
    const logger = createLogger({ stream: out.stream });
    const write = createLineWriter(logger, 'access');
    logger.level = 'warn';
    write(fields);
    logger.level = 'info';
    logger.silent = true;
    write(fields);
    expect(out.lines).to.deep.equal([]);
  });

  it('goes through winston for loggers it does not know', () => {
    const out = capture();
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: out.stream })],
    });
    createLineWriter(logger, 'access')({ status: 201 });
    expect(out.lines).to.deep.equal([{ level: 'info', message: 'access', status: 201 }]);
  });

  it('with flushMs, access lines of several turns are written together once the window ends', async () => {
    const out = capture();
    const logger = createLogger({ stream: out.stream, flushMs: 5 });
    const write = createLineWriter(logger, 'access');
    write({ status: 200 });
    await new Promise((resolve) => setImmediate(resolve));
    write({ status: 201 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.lines).to.deep.equal([]);
    await new Promise((resolve) => out.stream.once('data', resolve));
    expect(out.lines.map((l) => l.status)).to.deep.equal([200, 201]);
  });

  it('writes the masked values winston writes, in the order of the fields: numbers, nested values, escapes', () => {
    const odd = {
      requestId: 'q"\\\n\u2028é',
      bytes: 123456789, // 9 digits: masked as an old ID card number, as winston's masking does
      big: 1e21,
      neg: -0.000001234567891,
      nan: Number.NaN,
      nested: { token: 'abc', ok: [1, '0912345678', null, { password: 'p' }], when: new Date(0) },
      flag: true,
      nothing: null,
      fn: () => 1,
      status: 200,
      durationMs: 1.25,
    };
    const fast = capture();
    const slow = capture();
    const fastLogger = createLogger({ stream: fast.stream });
    createLineWriter(fastLogger, 'access')(odd);
    flushLines(fastLogger);
    createLogger({ stream: slow.stream }).info('access', odd);
    const { timestamp: _t1, ...a } = fast.lines[0];
    const { timestamp: _t2, ...b } = slow.lines[0];
    expect(a).to.deep.equal(b);
    expect(a.bytes).to.equal('[ID9]');
    // In the fields' order (winston's JSON sorts them; the access line never did).
    const written = Object.keys(odd).filter((k) => k !== 'fn');
    expect(Object.keys(fast.lines[0])).to.deep.equal(['level', 'message', ...written, 'timestamp']);
  });

  it("fields named like the line's own keys replace them as on the line object (and __proto__ is not written)", () => {
    const out = capture();
    const logger = createLogger({ stream: out.stream });
    const fields = JSON.parse('{"a":1,"level":"x","message":"m","timestamp":"t","__proto__":{"z":1}}') as Record<
      string,
      unknown
    >;
    createLineWriter(logger, 'access')(fields);
    flushLines(logger);
    expect(out.lines).to.deep.equal([{ level: 'x', message: 'm', a: 1, timestamp: out.lines[0].timestamp }]);
    expect(out.lines[0].timestamp).to.not.equal('t');
  });

  it('the access line writer writes the bytes createLineWriter writes, for any field values a caller or upstream sends', () => {
    // Raw lines, their timestamps cut out (written at different instants): everything else byte for byte.
    const raw = () => {
      const stream = new PassThrough();
      const lines: string[] = [];
      stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
      return { stream, lines };
    };
    const untimed = (line: string) => {
      expect(line).to.match(/,"timestamp":"[^"]+"\}$/);
      return line.replace(/,"timestamp":"[^"]+"\}$/, '}');
    };
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.constantFrom(
        '001099012345',
        '123456789',
        '0912345678',
        '+84 912 345 678',
        'a"b\\c\n\u2028',
        '%30%30%31099012345',
      ),
      fc
        .tuple(fc.string(), fc.constantFrom('001099012345', '0912.345.678', 'x%20001099012345'), fc.string())
        .map((p) => p.join('')),
    );
    const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(123456789, 1e21, 0.000001234567891, 2154));
    const fieldsArb: fc.Arbitrary<AccessLineFields> = fc.record({
      requestId: text,
      route: maybe(text),
      consumer: maybe(text),
      upstream: maybe(text),
      method: text,
      path: text.map((t) => `/molisa/api?${t}&token=abc&so=0912345678`),
      status: maybe(
        fc.oneof(
          fc.integer({ min: 100, max: 599 }),
          fc.integer({ min: 100, max: 599 }).map((n) => `${n} (aborted)`),
        ),
      ),
      errorCode: maybe(text),
      bytes: num,
      durationMs: num,
      upstreamMs: maybe(num),
    });
    const fast = raw();
    const slow = raw();
    const fastLogger = createLogger({ stream: fast.stream });
    const slowLogger = createLogger({ stream: slow.stream });
    const access = createAccessLineWriter(fastLogger);
    const reference = createLineWriter(slowLogger, 'access');
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        reference({ ...fields });
        access({ ...fields });
        flushLines(fastLogger);
        flushLines(slowLogger);
        expect(untimed(fast.lines.pop()!)).to.equal(untimed(slow.lines.pop()!));
      }),
      { numRuns: 1500 },
    );
    // What a hostile caller puts in its path or request id never reaches the line in clear.
    access({
      requestId: 'req-001099012345',
      route: undefined,
      consumer: undefined,
      upstream: undefined,
      method: 'GET',
      path: '/x/079204000111?so=0912345678',
      status: '200 (aborted)',
      errorCode: undefined,
      bytes: 123456789,
      durationMs: 1.25,
      upstreamMs: undefined,
    });
    flushLines(fastLogger);
    const line = fast.lines.pop()!;
    expect(line).not.to.match(/001099012345|079204000111|0912345678|123456789/);
    expect(Object.keys(JSON.parse(line))).to.deep.equal([
      'level',
      'message',
      'requestId',
      'method',
      'path',
      'status',
      'bytes',
      'durationMs',
      'timestamp',
    ]);
  });

  it('the access line writer goes through winston for loggers it does not know, and honours the level', () => {
    const out = capture();
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: out.stream })],
    });
    const fields: AccessLineFields = {
      requestId: 'r1',
      route: undefined,
      consumer: undefined,
      upstream: undefined,
      method: 'GET',
      path: '/p',
      status: 201,
      errorCode: undefined,
      bytes: 0,
      durationMs: 1,
      upstreamMs: undefined,
    };
    createAccessLineWriter(logger)({ ...fields });
    expect(out.lines).to.deep.equal([
      {
        level: 'info',
        message: 'access',
        requestId: 'r1',
        method: 'GET',
        path: '/p',
        status: 201,
        bytes: 0,
        durationMs: 1,
      },
    ]);
    const quiet = capture();
    const mine = createLogger({ stream: quiet.stream });
    const write = createAccessLineWriter(mine);
    mine.level = 'warn';
    write({ ...fields });
    mine.level = 'info';
    mine.silent = true;
    write({ ...fields });
    flushLines(mine);
    expect(quiet.lines).to.deep.equal([]);
  });

  it('maskValue leaves a number untouched exactly when its text holds no ID or phone number, as String + maskText decide', () => {
    // The reference: every number written out and masked as text (before the shortcuts for short integers
    // and two-decimal durations).
    const reference = (v: number) => {
      const text = String(v);
      const masked = maskText(text);
      return masked === text ? v : masked;
    };
    const check = (v: number): void => {
      expect(maskValue(v), String(v)).to.deep.equal(reference(v));
    };
    for (const v of [
      0, -0, 0.01, -0.01, 99999999.99, -99999999.99, 100000000, 123456789, 0.123456789, 1.25, 1e21, 1e-7,
    ])
      check(v);
    for (const v of [84123456.78, 84123456.789, 1234567.891, 912345678.1, 0.001099012345, 1.0099012345]) check(v);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -1e10, max: 1e10 }).map((n) => n / 100),
          fc.integer({ min: -1e12, max: 1e12 }).map((n) => n / 1000),
          // 84 and 9 digits across the decimal point (`84123456.789`): a phone number's shape, dots allowed.
          fc.integer({ min: 84e9, max: 85e9 - 1 }).map((n) => n / 1000),
          fc.integer({ min: 84e8, max: 85e8 - 1 }).map((n) => n / 100),
          fc.double({ noNaN: true }),
          fc.double({ min: -2e8, max: 2e8, noNaN: true }),
        ),
        check,
      ),
      { numRuns: 5000 },
    );
  });

  it('timestamps are new Date(t).toISOString() to the millisecond, across seconds, years and signs', () => {
    const edges = [0, -1, -999, -1000, -1001, 999, 1000, 1001, 253402300799999, 253402300800000, -62198755200001];
    for (const t of edges) expect(isoTimestamp(t), String(t)).to.equal(new Date(t).toISOString());
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 - 1 }), (t) => {
        expect(isoTimestamp(t)).to.equal(new Date(t).toISOString());
        expect(isoTimestamp(t + 1)).to.equal(new Date(t + 1).toISOString()); // the same second, remembered
      }),
      { numRuns: 2000 },
    );
  });

  it('maskUrl masks the query as the split/map version did (names decoded, separators kept, verdicts remembered)', () => {
    // The implementation before the per-character loop and the remembered verdicts, kept as the reference.
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    const reference = (url: string) => {
      const q = url.indexOf('?');
      if (q === -1) return maskText(url);
      const params = url
        .slice(q + 1)
        .split(/([&;])/)
        .map((pair) => {
          if (pair === '&' || pair === ';') return pair;
          const eq = pair.indexOf('=');
          const name = decode((eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
          return isSecretQueryName(name) ? `${pair.slice(0, eq === -1 ? pair.length : eq)}=[REDACTED]` : pair;
        });
      return maskText(`${url.slice(0, q)}?${params.join('')}`);
    };
    const part = fc.constantFrom(
      'token',
      'pass%77ord',
      'api+key',
      'maTinh',
      'so',
      '=',
      '&',
      ';',
      '%',
      '%2',
      '0912345678',
      '001099012345',
      'x',
      '+',
      '?',
      'Key',
      'sig',
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 10 }), fc.array(part, { maxLength: 10 }), (path, query) => {
        const url = `/p/${path.join('')}?${query.join('')}`;
        expect(maskUrl(url), url).to.equal(reference(url));
        expect(maskUrl(url), url).to.equal(reference(url)); // again, with the verdicts remembered
        const bare = `/p/${path.join('')}`;
        expect(maskUrl(bare)).to.equal(reference(bare));
      }),
      { numRuns: 3000 },
    );
  });
});
