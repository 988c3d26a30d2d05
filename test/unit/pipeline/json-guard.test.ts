import { expect } from 'chai';
import fc from 'fast-check';
import { guardJsonBytes } from '../../../src/pipeline/json-guard.ts';

/** The byte guard before its string fast-skip, kept as the reference the faster loop must agree with. */
function reference(buf: Buffer, maxDepth: number): string | undefined {
  let depth = 0;
  let inString = false;
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return 'depth';
    } else if (c === 0x5d || c === 0x7d) depth--;
    else if (isDigit(c) || c === 0x2d) {
      const start = i;
      let j = c === 0x2d ? i + 1 : i;
      while (j < buf.length && isDigit(buf[j])) j++;
      const integer = buf[j] !== 0x2e && buf[j] !== 0x65 && buf[j] !== 0x45;
      if (integer && j - start >= 16 && !Number.isSafeInteger(Number(buf.toString('latin1', start, j)))) return 'int';
      while (j < buf.length && (isDigit(buf[j]) || [0x2e, 0x65, 0x45, 0x2b, 0x2d].includes(buf[j]))) j++;
      i = j - 1;
    }
  }
  return undefined;
}

const verdict = (buf: Buffer, maxDepth: number) => {
  const e = guardJsonBytes(buf, maxDepth);
  if (!e) return undefined;
  return e.code === 'GW_MALFORMED_JSON' ? 'utf8' : String(e.params.reason).includes('2^53') ? 'int' : 'depth';
};

describe('guardJsonBytes', () => {
  it('refuses deep nesting, integers beyond 2^53 and non-UTF-8, outside strings only', () => {
    expect(verdict(Buffer.from('[[[1]]]'), 2)).to.equal('depth');
    expect(verdict(Buffer.from('["[[[[", "\\"[[[["]'), 2)).to.equal(undefined);
    expect(verdict(Buffer.from('{"id": 12345678901234567890}'), 32)).to.equal('int');
    expect(verdict(Buffer.from('{"id": "12345678901234567890", "x": 1.2345678901234567890}'), 32)).to.equal(undefined);
    expect(verdict(Buffer.from([0x22, 0xc3, 0x28, 0x22]), 32)).to.equal('utf8');
  });

  it('agrees with the previous byte loop on any JSON-ish text', () => {
    const piece = fc.constantFrom(
      '[',
      ']',
      '{',
      '}',
      '"',
      '\\',
      '\\"',
      '-',
      '1',
      '12345678901234567890',
      '.5',
      'e9',
      ' ',
      'ễ',
      ',',
      ':',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), (parts, maxDepth) => {
        const buf = Buffer.from(parts.join(''));
        expect(verdict(buf, maxDepth)).to.equal(reference(buf, maxDepth));
      }),
      { numRuns: 2000 },
    );
  });
});
