import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { genKey, matchDigest, resolveKeyDigests, sha256 } from '../../../src/auth/api-keys.ts';
import { buildConsumerTable } from '../../../src/auth/consumer-table.ts';
import { runGenKey } from '../../../src/cli/gen-key.ts';
import { makeConfig, sink } from './helpers.ts';

describe('API keys', () => {
  it('gen-key makes 256-bit base64url keys whose printed hash is their SHA-256', () => {
    const a = genKey();
    const b = genKey();
    expect(a.key).to.match(/^lgsp_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.key.slice(5), 'base64url')).to.have.length(32);
    expect(a.key).to.not.equal(b.key);
    expect(a.sha256).to.equal(sha256(a.key).toString('hex'));
  });

  it("sha256 is the 32-byte SHA-256 of the key's UTF-8 bytes, whatever characters it holds", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (key) => {
        const digest = sha256(key);
        expect(digest).to.have.length(32);
        expect(digest.equals(createHash('sha256').update(key, 'utf8').digest()), key).to.equal(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('the gen-key command prints the key and its hash, or JSON', async () => {
    const out = sink();
    expect(await runGenKey([], { stdout: out, stderr: sink() })).to.equal(0);
    const key = /key:\s+(\S+)/.exec(out.text())![1];
    expect(out.text()).to.contain(`sha256: ${sha256(key).toString('hex')}`);
    const json = sink();
    await runGenKey(['--json'], { stdout: json, stderr: sink() });
    const parsed = JSON.parse(json.text());
    expect(parsed.sha256).to.equal(sha256(parsed.key).toString('hex'));
    expect(await runGenKey(['--bogus'], { stdout: sink(), stderr: sink() })).to.equal(2);
  });

  describe('constant-time matching', () => {
    const keys = [genKey(), genKey(), genKey()];
    const digests = keys.map((k) => Buffer.from(k.sha256, 'hex'));

    it('compares 32-byte digests with the given compare, once per configured key, even on a first-key hit', () => {
      const calls: [number, number][] = [];
      const spy = (a: Buffer, b: Buffer) => {
        calls.push([a.length, b.length]);
        return timingSafeEqual(a, b);
      };
      expect(matchDigest(keys[0].key, digests, spy)).to.equal(0);
      expect(calls).to.deep.equal([
        [32, 32],
        [32, 32],
        [32, 32],
      ]);
      calls.length = 0;
      expect(matchDigest('wrong', digests, spy)).to.equal(-1);
      expect(calls).to.have.length(3);
    });

    it('uses crypto.timingSafeEqual by default and finds every configured key', () => {
      keys.forEach((k, i) => expect(matchDigest(k.key, digests)).to.equal(i));
    });

    it('rejects wrong keys of every length, including prefixes and extensions of a real key', () => {
      const real = keys[1].key;
      for (let len = 0; len <= 600; len++) {
        const candidate = real.slice(0, len).padEnd(len, 'x');
        if (candidate === real) continue;
        expect(matchDigest(candidate, digests), `length ${len}`).to.equal(-1);
      }
      expect(matchDigest(real + 'x', digests)).to.equal(-1);
      expect(matchDigest(real.toUpperCase(), digests)).to.equal(-1);
    });

    it('rejects a raw digest presented as the key', () => {
      expect(matchDigest(keys[0].sha256, digests)).to.equal(-1);
    });
  });

  describe('key refs', () => {
    it('hashes keys from env and file at load and keeps no clear text', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lgsp-keys-'));
      const fromFile = genKey();
      const fromEnv = genKey();
      writeFileSync(join(dir, 'key'), `${fromFile.key}\n`);
      const config = makeConfig({
        consumers: {
          mcdt: {
            apiKeys: [{ env: 'MCDT_KEY' }, { file: join(dir, 'key') }],
            clientSecrets: [{ sha256: fromEnv.sha256.toUpperCase() }],
          },
        },
      });
      const table = buildConsumerTable(config, { MCDT_KEY: fromEnv.key });
      const entry = table.byId.get('mcdt')!;
      expect(entry.apiKeyDigests.map((d) => d.toString('hex'))).to.deep.equal([fromEnv.sha256, fromFile.sha256]);
      expect(entry.secretDigests[0].toString('hex')).to.equal(fromEnv.sha256);
      const dump = JSON.stringify(table, (_k, v) => (v instanceof Map ? [...v.entries()] : v));
      expect(dump).to.not.contain(fromEnv.key);
      expect(dump).to.not.contain(fromFile.key);
    });

    it('refuses a missing env var, a short key, a malformed digest and a key given to two consumers', () => {
      const at = (fn: () => unknown) => {
        try {
          fn();
        } catch (err) {
          expect(err).to.be.instanceOf(ConfigPathError);
          return (err as ConfigPathError).path.join('.') + ' ' + (err as ConfigPathError).rule;
        }
        throw new Error('did not throw');
      };
      expect(at(() => resolveKeyDigests([{ env: 'NOPE' }], ['consumers', 'a', 'apiKeys'], {}))).to.equal(
        'consumers.a.apiKeys.0.env secret',
      );
      expect(at(() => resolveKeyDigests([{ env: 'K' }], ['x'], { K: 'short' }))).to.equal('x.0.env key-strength');
      expect(at(() => resolveKeyDigests([{ sha256: 'abc' }], ['x'], {}))).to.equal('x.0.sha256 pattern');
      const k = genKey();
      const config = makeConfig({
        consumers: { a: { apiKeys: [{ sha256: k.sha256 }] }, b: { apiKeys: [{ sha256: k.sha256 }] } },
      });
      expect(at(() => buildConsumerTable(config, {}))).to.equal('consumers.b.apiKeys.0 unique');
    });
  });
});
