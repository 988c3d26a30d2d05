import { expect } from 'chai';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { compileApiVersionGuard } from '../../../src/runtime/api-versions.ts';

// Seed 003, "Các API phần mềm ĐKQL hộ tịch điện tử cung cấp", as config/routes/hotich.yaml ships it.
const serves = {
  '1.0': ['KS', 'KT', 'KH', 'HN', 'CMC', 'LH', 'GH', 'TGH'],
  '2.0': ['LTKH'],
  '3.0': ['KS', 'KT', 'LTKS', 'LTKT', 'LTKH'],
};
const guard = compileApiVersionGuard({ param: 'version', field: 'module', serves }, ['version'], ['routes', 0]);

const refusal = (version: string, body: unknown): GatewayError => {
  const err = guard({ version }, body);
  if (!err) throw new Error('not refused');
  return err;
};

describe('apiVersions: the civil-status module must be served by the API version in the path (seed 003)', () => {
  it('passes each module under every version that serves it', () => {
    for (const [version, modules] of Object.entries(serves))
      for (const module of modules) expect(guard({ version }, { module })).to.equal(undefined);
  });

  it('refuses a linked birth dossier (LTKS) under 1.0, naming the module, the version and the right one', () => {
    const err = refusal('1.0', { module: 'LTKS' });
    expect(err).to.be.instanceOf(GatewayError);
    expect(err.code).to.equal('GW_API_VERSION_MISMATCH');
    expect(err.status).to.equal(400);
    expect(err.message).to.contain('LTKS').and.to.contain('1.0').and.to.contain('3.0');
  });

  it('refuses a classic module that 3.0 does not serve yet (HN, "still on 1.0")', () => {
    const err = refusal('3.0', { module: 'HN' });
    expect(err.params).to.include({ value: 'HN', version: '3.0', allowed: '1.0' });
  });

  it('refuses the marriage linkage under 1.0: 2.0 and 3.0 are named', () => {
    expect(refusal('1.0', { module: 'LTKH' }).params).to.include({ allowed: '2.0, 3.0' });
  });

  it('refuses a version the table does not know, naming the versions that serve the module', () => {
    expect(refusal('4.0', { module: 'KS' }).params).to.include({ version: '4.0', allowed: '1.0, 3.0' });
  });

  it('refuses a module no version serves', () => {
    expect(refusal('1.0', { module: 'XX' }).params).to.include({ allowed: 'không phiên bản nào' });
  });

  it('quotes at most 40 characters of what the caller sent', () => {
    expect(refusal('1.0', { module: 'X'.repeat(5000) }).params.value).to.equal(`${'X'.repeat(40)}…`);
  });

  it('leaves a missing or non-text module to the schema', () => {
    expect(guard({ version: '1.0' }, {})).to.equal(undefined);
    expect(guard({ version: '1.0' }, { module: 3 })).to.equal(undefined);
    expect(guard({ version: '1.0' }, [{ module: 'LTKS' }])).to.equal(undefined);
  });

  it('is a config error when the parameter is not in the route path', () => {
    expect(() => compileApiVersionGuard({ param: 'v', field: 'module', serves }, ['version'], ['routes', 3])).to.throw(
      ConfigPathError,
      /"v" is not a parameter/,
    );
  });
});
