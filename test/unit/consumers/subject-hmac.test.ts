import { expect } from 'chai';
import { createHmac, createSecretKey } from 'node:crypto';
import fc from 'fast-check';
import { compileSubjectHmac } from '../../../src/observability/subject-hmac.ts';

/**
 * The audit trail's HMAC-SHA256 in JavaScript (precomputed key blocks, two compressions for a short ASCII
 * message) must give exactly what `createHmac` gives, for any key and any message: the trail's HMACs are
 * compared by auditors against ones they compute with standard tools.
 */
const reference = (key: Buffer, message: string) =>
  createHmac('sha256', key).update(message, 'utf8').digest('base64url');

describe('subject HMAC (compileSubjectHmac)', () => {
  it('matches the RFC 4231 test vectors', () => {
    // Test cases 2 and 6 (a key shorter than a block, and one longer: hashed first), as hex.
    const cases: [Buffer, string, string][] = [
      [
        Buffer.from('Jefe'),
        'what do ya want for nothing?',
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      ],
      [
        Buffer.alloc(131, 0xaa),
        'Test Using Larger Than Block-Size Key - Hash Key First',
        '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      ],
    ];
    for (const [key, message, hex] of cases) {
      expect(compileSubjectHmac(key)(message)).to.equal(Buffer.from(hex, 'hex').toString('base64url'));
    }
  });

  it('gives createHmac’s digest for any key and message, at every length around one block', () => {
    const keys = fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 200 }),
      fc.constantFrom(64, 65, 32, 0).map((n) => new Uint8Array(n).fill(0xff)),
    );
    const messages = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 70 }),
      fc.stringMatching(/^[0-9]{9,14}$/),
      fc.string({ unit: 'grapheme', maxLength: 30 }), // Vietnamese and other non-ASCII
      fc.string({ unit: 'binary', maxLength: 60 }), // lone surrogates included
      fc.integer({ min: 0, max: 80 }).map((n) => 'x'.repeat(n)),
    );
    fc.assert(
      fc.property(keys, messages, fc.boolean(), (k, message, asKeyObject) => {
        const key = Buffer.from(k);
        const hmac = compileSubjectHmac(asKeyObject && key.length > 0 ? createSecretKey(key) : key);
        expect(hmac(message)).to.equal(reference(key, message));
        // A second message through the same function: nothing of the first stays in the shared block.
        expect(hmac('0')).to.equal(reference(key, '0'));
      }),
      { numRuns: 3000 },
    );
  });

  it('hashes the 55- and 56-byte boundary and non-ASCII messages the same as createHmac', () => {
    const key = Buffer.from('k'.repeat(40));
    const hmac = compileSubjectHmac(key);
    for (let n = 0; n <= 130; n++) expect(hmac('7'.repeat(n)), String(n)).to.equal(reference(key, '7'.repeat(n)));
    for (const m of ['Nguyễn Văn An', '\ud800', 'a\u2028b', '\u0000\u007f\u0080', '001234567890 ']) {
      expect(hmac(m)).to.equal(reference(key, m));
    }
  });
});
