import { isUtf8 } from 'node:buffer';
import { expect } from 'chai';
import fc from 'fast-check';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { guardJsonBody, guardJsonBytes, textHasNumbersAtRisk } from '../../../src/transform/json-guard.ts';
import { parseJsonBody } from '../../../src/transform/json-body.ts';
import { FORBIDDEN_KEYS } from '../../../src/transform/path.ts';

/**
 * The byte guard written the obvious way (a flag for "in a string", a stack of member counts, each number
 * literal cut out and judged with a regular expression): the reference the faster loop must agree with.
 */
function reference(buf: Buffer, maxDepth: number, maxKeys: number): string | undefined {
  if (!isUtf8(buf)) return 'utf8';
  const counts = new Map<number, number>(); // members of the open object at each depth
  let depth = 0; // goes below 0 on stray closers, as in the guard (the parser refuses such text anyway)
  let inString = false;
  let risky = false;
  const text = buf.toString('latin1');
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > maxDepth) return 'depth';
      counts.set(depth, 0);
    } else if (c === ']' || c === '}') depth--;
    else if (c === ':' && depth > 0) {
      counts.set(depth, counts.get(depth)! + 1);
      if (counts.get(depth)! > maxKeys) return 'keys';
    } else if (/[-0-9]/.test(c)) {
      const literal = /^[-0-9.eE+]+/.exec(text.slice(i))![0];
      const e = literal.search(/[eE]/);
      const [mantissa, exponent] = e === -1 ? [literal, ''] : [literal.slice(0, e), literal.slice(e + 1)];
      if (mantissa.replace(/\D/g, '').length > 15 || exponent.replace(/\D/g, '').length >= 3) risky = true;
      i += literal.length - 1;
    }
  }
  return risky ? 'exact' : undefined;
}

const verdict = (buf: Buffer, maxDepth: number, maxKeys = Infinity) => {
  const e = guardJsonBytes(buf, { maxDepth, maxKeys });
  if (e === undefined) return undefined;
  if (e === 'exact-numbers') return 'exact';
  if (e.code === 'GW_MALFORMED_JSON') return 'utf8';
  return String(e.params.reason).includes('limits.objectKeys') ? 'keys' : 'depth';
};

describe('guardJsonBytes', () => {
  it('refuses deep nesting, objects with too many keys and non-UTF-8, outside strings only', () => {
    expect(verdict(Buffer.from('[[[1]]]'), 2)).to.equal('depth');
    expect(verdict(Buffer.from('["[[[[", "\\"[[[["]'), 2)).to.equal(undefined);
    expect(verdict(Buffer.from('{"a":1,"b":{"c":1,"d":2},"e":3}'), 8, 3)).to.equal(undefined);
    expect(verdict(Buffer.from('{"a":1,"b":{"c":1,"d":2},"e":3,"f":4}'), 8, 3)).to.equal('keys');
    expect(verdict(Buffer.from('[{"a":1,"b":2,"c":3},{"a":1,"b":2,"c":3}]'), 8, 3)).to.equal(undefined);
    expect(verdict(Buffer.from('{"a:b:c:d:e": 1}'), 8, 1)).to.equal(undefined);
    expect(verdict(Buffer.from([0x22, 0xc3, 0x28, 0x22]), 32)).to.equal('utf8');
    const e = guardJsonBytes(Buffer.from('{"a":1,"b":2}'), { maxDepth: 4, maxKeys: 1 });
    expect(e).to.be.instanceOf(GatewayError);
    expect((e as GatewayError).code).to.equal('GW_BAD_REQUEST');
  });

  it('flags number literals a double may not carry (never refuses them), outside strings only', () => {
    for (const n of ['12345678901234567890', '9007199254740993', '1e400', '-1E-400', '0.1234567890123456789']) {
      expect(verdict(Buffer.from(`{"id": ${n}}`), 32), n).to.equal('exact');
      expect(textHasNumbersAtRisk(`{"id": ${n}}`), n).to.equal(true);
    }
    for (const n of ['123456789012345', '1.5e99', '-0.25', '20240101', '1e-7']) {
      expect(verdict(Buffer.from(`{"id": ${n}}`), 32), n).to.equal(undefined);
      expect(textHasNumbersAtRisk(`{"id": ${n}}`), n).to.equal(false);
    }
    expect(verdict(Buffer.from('{"id": "12345678901234567890", "x": "1e400"}'), 32)).to.equal(undefined);
    expect(textHasNumbersAtRisk('{"id": "12345678901234567890", "x": "1e400"}')).to.equal(false);
  });

  const pieces = [
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
    '123456789012345',
    '.5',
    'e9',
    'e400',
    ' ',
    'ễ',
    ',',
    ':',
  ];
  const agreesOn = (piece: fc.Arbitrary<string>) =>
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (parts, maxDepth, maxKeys) => {
          const buf = Buffer.from(parts.join(''));
          const expected = reference(buf, maxDepth, maxKeys);
          expect(verdict(buf, maxDepth, maxKeys)).to.equal(expected);
          // The string scanner (embedded JSON) flags exactly what the byte guard flags on clean text.
          if (expected === undefined || expected === 'exact') {
            expect(textHasNumbersAtRisk(buf.toString('utf8'))).to.equal(expected === 'exact');
          }
        },
      ),
      { numRuns: 3000 },
    );

  it('agrees with the obvious byte loop on any JSON-ish text', () => {
    agreesOn(fc.constantFrom(...pieces));
  });

  it('agrees with it on text without a backslash (the guard then skips strings by their quotes alone)', () => {
    agreesOn(fc.constantFrom(...pieces.filter((p) => !p.includes('\\'))));
  });
});

describe('guardJsonBody: keys the parser need not look for again (issue 19)', () => {
  const facts = (text: string) => {
    const f = guardJsonBody(Buffer.from(text), { maxDepth: 32 });
    if (f instanceof GatewayError) throw f;
    return f;
  };
  /** Every key of a parsed value, at any depth. */
  const keysOf = (v: unknown, out: string[] = []): string[] => {
    if (Array.isArray(v)) v.forEach((x) => keysOf(x, out));
    else if (typeof v === 'object' && v !== null)
      for (const k of Object.keys(v)) {
        out.push(k);
        keysOf((v as Record<string, unknown>)[k], out);
      }
    return out;
  };

  it('says "checked" only when no key is, or could through an escape be, a forbidden one', () => {
    for (const t of [
      '{"a":1}',
      '{"a":"__proto__"}',
      '["constructor", {"b": ["prototype"]}]',
      '{"proto":1,"__proto":2}',
      // Same length and first byte as a forbidden key, one byte off (the guard compares those byte by byte).
      '{"__proto_x":1,"constructoR":2,"prototypE":3,"pRototype":4,"c0nstructor":5,"_x_proto__":6}',
      '{"__proto__x":1,"constructors":2,"prototyp":3}',
    ]) {
      expect(facts(t).checked, t).to.equal(true);
    }
    for (const t of [
      '{"__proto__":1}',
      '{"x":[{"constructor":{"prototype":1}}]}',
      '{"a" : 1, "prototype"\n:2}',
      '{"\\u005f_proto__":1}',
      '{"pro\\u0074otype":1}',
      '{"a\\nb":1}',
    ]) {
      expect(facts(t).checked, t).to.equal(false);
    }
  });

  it('a checked body parses to a value without forbidden keys, and the guarded parse gives the same value', () => {
    // Keys near the forbidden ones; each character of a key may be written as a \u escape.
    const key = fc.constantFrom(
      'a',
      'MaHoSo',
      '__proto__',
      'constructor',
      'prototype',
      'proto',
      '__proto_',
      'Ab',
      // Same length and first byte as a forbidden key, one byte off.
      '__proto_x',
      'constructoR',
      'prototypf',
      'pretotype',
      'HoTenCongDan',
    );
    const escapeSome = (k: string, mask: number) =>
      [...k].map((ch, i) => ((mask >> i) & 1 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch)).join('');
    const node: fc.Memo<string> = fc.memo((n) =>
      n <= 1
        ? fc.oneof(fc.constant('1'), fc.constant('"__proto__"'), fc.constant('null'))
        : fc.oneof(
            fc.array(node(n - 1), { maxLength: 3 }).map((xs) => `[${xs.join(',')}]`),
            fc
              .array(fc.tuple(key, fc.integer({ min: 0, max: 1023 }), node(n - 1)), { maxLength: 3 })
              .map((ms) => `{${ms.map(([k, m, v]) => `"${escapeSome(k, m % 4 === 0 ? m : 0)}":${v}`).join(',')}}`),
          ),
    );
    fc.assert(
      fc.property(node(4), (text) => {
        const buf = Buffer.from(text);
        const f = facts(text);
        const plain = parseJsonBody(buf, { maxDepth: 32 });
        const hasForbidden = plain.ok ? false : String(plain.error.params.reason).includes('không được phép');
        if (plain.ok) expect(keysOf(plain.value).some((k) => FORBIDDEN_KEYS.has(k))).to.equal(false);
        if (f.checked) {
          expect(hasForbidden, text).to.equal(false);
          const guarded = parseJsonBody(buf, { maxDepth: 32, guarded: true });
          expect(JSON.stringify(guarded.ok && guarded.value)).to.equal(JSON.stringify(plain.ok && plain.value));
        }
      }),
      { numRuns: 1500 },
    );
  });
});
