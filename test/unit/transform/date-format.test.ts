import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { format, isValid, parse } from 'date-fns';
import fc from 'fast-check';
import { compileFormatter, compileParser, isRealDate } from '../../../src/transform/date-format.ts';

/** The compiled fast path must agree with date-fns, the reference, on every date it accepts. */
describe('date formats: compiled parsers agree with date-fns', () => {
  const formats = [
    'dd/MM/yyyy',
    'dd/MM/yyyy HH:mm:ss',
    'yyyyMMddHHmmss',
    'yyyyMMdd',
    'd/M/yyyy H:m:s',
    "yyyy-MM-dd'T'HH:mm",
    // Quoted text holding an escaped quote (`''` inside quotes is one quote, as date-fns reads it), and a
    // quote on its own: the compiled path once wrote `'l''x'` as `lx` where date-fns writes l'x.
    "dd/MM/yyyy 'l''x' HH:mm",
    "yyyy''MM''dd HH:mm",
    "'ng''ày' d/M/yyyy H:m",
  ];
  const dateArb = fc.date({ min: new Date(1900, 0, 1), max: new Date(2099, 11, 31), noInvalidDate: true });

  for (const fmt of formats) {
    it(`${fmt}: round-trips what date-fns formats`, () => {
      const parser = compileParser(fmt);
      const formatter = compileFormatter(fmt, 420);
      fc.assert(
        fc.property(dateArb, (d) => {
          const text = format(d, fmt);
          const p = parser(text);
          expect(p, text).to.not.equal(undefined);
          const ref = parse(text, fmt, new Date(2000, 0, 1));
          expect([p!.year, p!.month, p!.day, p!.hour, p!.minute]).to.deep.equal([
            ref.getFullYear(),
            ref.getMonth() + 1,
            ref.getDate(),
            ref.getHours(),
            ref.getMinutes(),
          ]);
          expect(formatter(p!)).to.equal(text);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('never accepts a string date-fns rejects (random digit strings in dd/MM/yyyy and yyyyMMddHHmmss)', () => {
    const cases: [string, fc.Arbitrary<string>][] = [
      [
        'dd/MM/yyyy',
        fc
          .tuple(fc.integer({ min: 0, max: 39 }), fc.integer({ min: 0, max: 19 }), fc.integer({ min: 1000, max: 2999 }))
          .map(([d, m, y]) => `${String(d).padStart(2, '0')}/${String(m).padStart(2, '0')}/${y}`),
      ],
      ['yyyyMMddHHmmss', fc.stringMatching(/^[12][0-9]{3}[01][0-9][0-3][0-9][0-2][0-9][0-6][0-9][0-6][0-9]$/)],
    ];
    for (const [fmt, arb] of cases) {
      const parser = compileParser(fmt);
      fc.assert(
        fc.property(arb, (text) => {
          const ours = parser(text) !== undefined;
          const theirs = isValid(parse(text, fmt, new Date(2000, 0, 1)));
          if (ours) expect(theirs, text).to.equal(true);
          // date-fns accepts second 60? It does not; with our strict day/month checks both agree.
          expect(ours, text).to.equal(theirs);
        }),
        { numRuns: 500 },
      );
    }
  });

  it('isRealDate knows leap years', () => {
    expect(isRealDate(2024, 2, 29)).to.equal(true);
    expect(isRealDate(2023, 2, 29)).to.equal(false);
    expect(isRealDate(1900, 2, 29)).to.equal(false);
    expect(isRealDate(2000, 2, 29)).to.equal(true);
    expect(isRealDate(2024, 4, 31)).to.equal(false);
  });

  it('refuses formats without a full date or unknown to date-fns', () => {
    expect(() => compileParser('HH:mm')).to.throw(/needs a year/);
    expect(() => compileParser('YYYY-qq-dd')).to.throw();
  });
});

/**
 * date-fns is loaded by the first format that needs it (date-format.ts, `dateFns`): a format of numeric
 * tokens and literals with each field once is not shown to date-fns at load. That is only sound if
 * date-fns accepts every such format; these tests hold it against date-fns.
 */
describe('date formats: date-fns loaded only for the formats that need it', () => {
  const sample = new Date(2021, 11, 12, 12, 22, 34, 567);
  /** What date-format.ts asked date-fns at load before: does it write `fmt` and read it back? */
  const dateFnsAccepts = (fmt: string): boolean => isValid(parse(format(sample, fmt), fmt, sample));

  const FIELDS: readonly (readonly string[])[] = [
    ['yyyy'],
    ['MM', 'M'],
    ['dd', 'd'],
    ['HH', 'H'],
    ['mm', 'm'],
    ['ss', 's'],
    ['SSS'],
  ];
  const literal = fc.oneof(
    fc.constantFrom(
      '/',
      '-',
      ':',
      ' ',
      '.',
      ',',
      '_',
      '+',
      '(',
      ')',
      '0',
      '1',
      '9',
      'à',
      'ệ',
      'Đ',
      "''",
      "'T'",
      "'ngày '",
      "'at'",
    ),
    fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '/', 'ư'), minLength: 1, maxLength: 4 }).map((s) => `'${s}'`),
  );
  /** A format of numeric tokens, each field at most once, in any order, with any literals between them. */
  const numericFormat = fc
    .tuple(
      fc.shuffledSubarray([...FIELDS], { minLength: 1 }),
      fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 7, maxLength: 7 }),
      fc.array(fc.array(literal, { maxLength: 2 }), { minLength: 8, maxLength: 8 }),
    )
    .map(([fields, variant, literals]) => ({
      fmt:
        fields.map((f, i) => literals[i].join('') + f[Math.min(variant[i], f.length - 1)]).join('') +
        literals[7].join(''),
      hasDate: ['yyyy', 'MM', 'dd'].every((f) => fields.some((field) => field[0] === f)),
    }));

  it('date-fns accepts every format of numeric tokens with each field once (so it need not be asked)', () => {
    fc.assert(
      fc.property(numericFormat, ({ fmt, hasDate }) => {
        expect(dateFnsAccepts(fmt), fmt).to.equal(true);
        expect(() => compileFormatter(fmt, 420), fmt).to.not.throw();
        if (hasDate) expect(() => compileParser(fmt), fmt).to.not.throw();
        else expect(() => compileParser(fmt), fmt).to.throw(/needs a year/);
      }),
      { numRuns: 2000 },
    );
  });

  it('a field written twice is refused with date-fns’s own reason, as before', () => {
    for (const fmt of ['dd/MM/yyyy dd', 'yyyyMMddHHmmHH', 'd/M/yyyy M']) {
      const reason = (() => {
        try {
          dateFnsAccepts(fmt);
        } catch (err) {
          return (err as Error).message;
        }
        return 'accepted';
      })();
      expect(reason, fmt).to.match(/mustn't contain/);
      expect(() => compileParser(fmt), fmt).to.throw(reason);
      expect(() => compileFormatter(fmt, 420), fmt).to.throw(reason);
    }
  });

  it('a process compiling only numeric formats never loads date-fns; one with a named month loads it then', () => {
    const module = new URL('../../../src/transform/date-format.ts', import.meta.url).href;
    const script = `
      import { createRequire } from 'node:module';
      const { compileParser, compileFormatter } = await import(${JSON.stringify(module)});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes('/date-fns/'));
      for (const f of ['dd/MM/yyyy', 'dd/MM/yyyy HH:mm:ss', 'yyyyMMddHHmmss', 'd/M/yyyy', 'ISO']) { compileParser(f); compileFormatter(f, 420); }
      const before = loaded();
      const named = compileParser('d MMMM yyyy')('12 December 2021');
      console.log(JSON.stringify({ before, after: loaded(), day: named?.day, month: named?.month }));`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out.status, out.stderr).to.equal(0);
    expect(JSON.parse(out.stdout)).to.deep.equal({ before: false, after: true, day: 12, month: 12 });
  });
});
