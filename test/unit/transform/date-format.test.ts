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
