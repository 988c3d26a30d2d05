import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { buildTlsOptions } from '../../../src/upstream/tls.ts';
import { capturingLogger } from './helpers.ts';
import { thrown } from '../../helpers/rejection.ts';

const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const P = ['upstreams', 'ndxp', 'tls'];

describe('upstream TLS options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  writeFileSync(join(dir, 'ca.pem'), PEM_CERT);
  writeFileSync(join(dir, 'client.pem'), PEM_CERT);
  writeFileSync(join(dir, 'client.key'), PEM_KEY);
  writeFileSync(join(dir, 'not.pem'), 'hello');

  it('is empty without a tls block, and keeps certificate checks on', () => {
    const { logger } = capturingLogger();
    expect(buildTlsOptions(undefined, P, logger)).to.deep.equal({});
    expect(buildTlsOptions({ ca: join(dir, 'ca.pem') }, P, logger)).to.not.have.property('rejectUnauthorized');
  });

  it('reads CA, client cert and key, and passes servername', () => {
    const { logger } = capturingLogger();
    const options = buildTlsOptions(
      {
        ca: join(dir, 'ca.pem'),
        cert: join(dir, 'client.pem'),
        key: join(dir, 'client.key'),
        servername: 'ndxp.gov.vn',
      },
      P,
      logger,
    );
    expect(String(options.ca)).to.equal(PEM_CERT);
    expect(String(options.key)).to.equal(PEM_KEY);
    expect(options.servername).to.equal('ndxp.gov.vn');
  });

  it('names the path of a missing or non-PEM file, and of a cert without key', () => {
    const { logger } = capturingLogger();
    const at = (fn: () => unknown) => thrown(ConfigPathError, fn);
    expect(at(() => buildTlsOptions({ ca: join(dir, 'missing.pem') }, P, logger)).path).to.deep.equal([...P, 'ca']);
    expect(at(() => buildTlsOptions({ ca: join(dir, 'not.pem') }, P, logger)).message).to.contain(
      'holds no PEM certificate',
    );
    expect(at(() => buildTlsOptions({ cert: join(dir, 'client.pem') }, P, logger)).path).to.deep.equal([...P, 'key']);
  });

  it('turns verification off only when asked explicitly, with a warning', () => {
    const log = capturingLogger();
    const options = buildTlsOptions({ rejectUnauthorized: false }, P, log.logger);
    expect(options.rejectUnauthorized).to.equal(false);
    expect(log.text()).to.contain('"level":"warn"');
    expect(log.text()).to.contain('config.tls_verification_disabled');
    const quiet = capturingLogger();
    expect(buildTlsOptions({ rejectUnauthorized: true }, P, quiet.logger)).to.deep.equal({});
    expect(quiet.text()).to.equal('');
  });
});
