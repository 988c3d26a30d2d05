import { expect } from 'chai';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { compileMapping, createMappingDeps, loadCatalogs } from '../../../src/transform/index.ts';
import { thrown } from '../../helpers/rejection.ts';
import { CATALOGS, fixture, shippedMappings } from './helpers.ts';

/**
 * Case A2 (seed 004 §II): MOLISA syncs dossiers down to the provincial portal. The shipped inbound list
 * (config/mappings/molisa.yaml `A2`) renames by the same table as the outbound one, read right to left,
 * and takes ethnicity from MOLISA's id back to the GSO code: a provincial record sent out and synced back
 * comes home in the province's own names and codes, so the two directions cannot drift.
 */
const deps = createMappingDeps(loadCatalogs(CATALOGS));
const shipped = shippedMappings('molisa');
const run = (name: 'DongBoDVC' | 'A2', body: unknown) =>
  compileMapping(shipped[name].request.mapping!, deps, ['mappings', name, 'request', 'mapping'])(body);

describe('MOLISA field names: one table, two directions (case A2)', () => {
  it("a MOLISA record reaches the province with the province's names: HKTT_* back to HKTTC_*", () => {
    const { body, errors } = run('A2', [
      { MaHoSo: 'A2-1', HKTT_MaTinh: '01', HKTT_ChiTiet: 'Số 12', NOHT_MaXa: '1111' },
    ]);
    expect(errors).to.deep.equal([]);
    expect((body as object[])[0]).to.deep.equal({
      MaHoSo: 'A2-1',
      HKTTC_MaTinh: '01',
      HKTTC_ChiTiet: 'Số 12',
      NOHT_MaXa: '1111',
    });
  });

  it("ethnicity comes back as the GSO code, not MOLISA's id read as one (id 57 is Khơ-mú, GSO 29 is Khơ-mú too)", () => {
    const { body } = run('A2', [
      { MaHoSo: 'A2-2', DanTocId: '57' },
      { MaHoSo: 'A2-3', DanTocId: '29' },
    ]);
    expect((body as { DanTocId: string }[]).map((r) => r.DanTocId)).to.deep.equal(['29', '01']);
  });

  it("an ethnicity id outside MOLISA's catalogue is refused, not passed on as a code the province would misread", () => {
    const { errors } = run('A2', [{ MaHoSo: 'A2-4', DanTocId: '7' }]);
    expect(errors).to.have.length(1);
    expect(errors[0].pointer).to.equal('/0/DanTocId');
  });

  it("the seed's provincial example goes out and comes back with the names it was sent with", () => {
    const sent = fixture('molisa/DongBoDVC.seed.json') as Record<string, unknown>[];
    const out = run('DongBoDVC', structuredClone(sent));
    expect(out.errors).to.deep.equal([]);
    const back = run('A2', out.body);
    expect(back.errors).to.deep.equal([]);
    // Compared by name ignoring the spaces and letter case the outbound list tidies; GioiTinhId "NA" is
    // dropped on the way out (not given). Every other field keeps its provincial name.
    const names = (r: Record<string, unknown>) =>
      Object.keys(r)
        .map((k) => k.trim().toLowerCase())
        .filter((k) => k !== 'gioitinhid')
        .sort();
    (back.body as Record<string, unknown>[]).forEach((record, i) => {
      expect(names(record)).to.deep.equal(names(sent[i]));
      expect(Object.keys(record).filter((k) => k.startsWith('HKTT_'))).to.deep.equal([]);
    });
    expect((back.body as Record<string, unknown>[])[0].DanTocId).to.equal('01');
  });

  it('reverse: true refuses a table where two names land on one (the way back would be a guess)', () => {
    const err = thrown(ConfigPathError, () =>
      compileMapping([{ op: 'rename', reverse: true, fields: { a: 'x', b: 'x' } }], deps, ['m']),
    );
    expect(err.rule).to.equal('ambiguous');
  });
});
