import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { resolveKeyDigests } from '../../../src/auth/api-keys.ts';
import { resolveSecretRef } from '../../../src/config/secrets.ts';

describe('consumers: secret references follow the gateway-wide rules', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'lgsp-secret-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('{ env: X } falls back to the file named by X_FILE, without its trailing newline', () => {
    const file = path.join(dir, 'redis-url');
    writeFileSync(file, 'redis://10.0.0.5:6379\n');
    expect(
      resolveSecretRef({ env: 'LGSP_REDIS_URL' }, ['rateLimits', 'redis', 'url'], { LGSP_REDIS_URL_FILE: file }),
    ).to.equal('redis://10.0.0.5:6379');
  });

  it('a consumer key from X_FILE hashes to the digest of the key itself', () => {
    const file = path.join(dir, 'mcdt-key');
    writeFileSync(file, 'mcdt-key-0123456789abcdef0123456789\n');
    const [digest] = resolveKeyDigests([{ env: 'MCDT_KEY' }], ['consumers', 'mcdt', 'apiKeys'], {
      MCDT_KEY_FILE: file,
    });
    expect(digest.toString('hex')).to.equal(
      createHash('sha256').update('mcdt-key-0123456789abcdef0123456789').digest('hex'),
    );
  });

  it('a missing one is a located error naming the variable', () => {
    expect(() => resolveSecretRef({ env: 'NOPE' }, ['audit', 'hmacKey'], {}))
      .to.throw(ConfigPathError, /NOPE/)
      .with.property('path')
      .that.deep.equals(['audit', 'hmacKey', 'env']);
  });
});
