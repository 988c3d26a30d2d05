import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigPathError } from '../../../src/config/config-error.ts';
import { loadCatalogs, parseCatalog } from '../../../src/transform/index.ts';
import { CATALOGS } from './helpers.ts';
import { thrown } from '../../helpers/rejection.ts';

const configError = (fn: () => unknown) => thrown(ConfigPathError, fn);

describe('catalogues: the shipped data (seed 004 §VI, seed 003)', () => {
  const set = loadCatalogs(CATALOGS);

  it('loads the five catalogues by file name', () => {
    expect(set.names()).to.deep.equal([
      'ethnicity',
      'gender',
      'hotich-modules',
      'id-card-issuers',
      'molisa-procedures',
    ]);
  });

  it('ethnicity: 54 entries, ids 29-82, GSO 1-54 in order, Kinh = GSO 1 = id 29', () => {
    const eth = set.get('ethnicity')!;
    expect(eth.entries).to.have.length(54);
    eth.entries.forEach((e, i) => {
      expect(e.id).to.equal(29 + i);
      expect(Number(e.gso)).to.equal(1 + i);
    });
    expect(eth.lookup('gso', '1')).to.include({ id: 29, name: 'Kinh' });
    expect(eth.lookup('name', 'RƠ MĂM')).to.include({ id: 82 });
  });

  it('gender: 1034 Nam, 1035 Nữ; "0" is not a gender value', () => {
    const g = set.get('gender')!;
    expect(g.entries.map((e) => [e.id, e.name])).to.deep.equal([
      [1034, 'Nam'],
      [1035, 'Nữ'],
    ]);
    expect(g.lookup('aliases', '0')).to.equal(undefined);
  });

  it('id-card issuers: 1047, 1048 and 1195-1255 as printed (no 1246 in the seed)', () => {
    const ids = set.get('id-card-issuers')!.entries.map((e) => e.id);
    const expected = [1047, 1048, ...Array.from({ length: 61 }, (_, i) => 1195 + i).filter((i) => i !== 1246)];
    expect(ids).to.deep.equal(expected);
    expect(set.get('id-card-issuers')!.lookup('aliases', 'hà nội')).to.include({ id: 1195 });
  });

  it('civil-status modules: the eleven codes of seed 003', () => {
    expect(set.get('hotich-modules')!.entries.map((e) => e.code)).to.deep.equal([
      'KS',
      'KT',
      'KH',
      'HN',
      'CMC',
      'LH',
      'GH',
      'TGH',
      'LTKS',
      'LTKT',
      'LTKH',
    ]);
  });

  it('is immutable', () => {
    const eth = set.get('ethnicity')!;
    expect(Object.isFrozen(eth)).to.equal(true);
    expect(Object.isFrozen(eth.entries[0])).to.equal(true);
  });
});

describe('catalogues: bad files', () => {
  const ok = 'columns: [id, name]\nentries:\n  - { id: 1, name: A }\n';

  it('names the file, line and column of a YAML syntax error', () => {
    const e = configError(() => parseCatalog('x', 'x.yaml', 'columns: [id\nentries: ]\n'));
    expect(e.path).to.deep.equal(['catalogs', 'x.yaml']);
    expect(e.rule).to.equal('yaml-syntax');
    expect(e.message).to.match(/^x\.yaml:\d+:\d+: /);
  });

  it('refuses duplicate values (after normalisation), missing columns, unknown keys', () => {
    const dup = configError(() =>
      parseCatalog('x', 'x.yaml', 'columns: [id, name]\nentries:\n  - { id: 1, name: A }\n  - { id: "01", name: B }\n'),
    );
    expect(dup).to.include({ rule: 'uniqueItems' });
    expect(dup.path).to.deep.equal(['catalogs', 'x.yaml', 'entries', 1, 'id']);
    const missing = configError(() => parseCatalog('x', 'x.yaml', 'columns: [id, name]\nentries:\n  - { id: 1 }\n'));
    expect(missing.path).to.deep.equal(['catalogs', 'x.yaml', 'entries', 0, 'name']);
    const extra = configError(() => parseCatalog('x', 'x.yaml', `${ok}  - { id: 2, name: B, nmae: C }\n`));
    expect(extra.path).to.deep.equal(['catalogs', 'x.yaml', 'entries', 1, 'nmae']);
    const alias = configError(() =>
      parseCatalog(
        'x',
        'x.yaml',
        `${ok}  - { id: 2, name: B, aliases: [Z] }\n  - { id: 3, name: C, aliases: [' z'] }\n`,
      ),
    );
    expect(alias.rule).to.equal('uniqueItems');
  });

  it('loadCatalogs reads a directory and reports the bad file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalogs-'));
    try {
      writeFileSync(join(dir, 'a.yaml'), ok);
      writeFileSync(join(dir, 'notes.txt'), 'ignored');
      expect(loadCatalogs(dir).names()).to.deep.equal(['a']);
      writeFileSync(join(dir, 'b.yml'), 'entries: 3\n');
      const e = configError(() => loadCatalogs(dir));
      expect(e.path.slice(0, 2)).to.deep.equal(['catalogs', 'b.yml']);
    } finally {
      rmSync(dir, { recursive: true });
    }
    expect(configError(() => loadCatalogs(join(dir, 'gone'))).rule).to.equal('catalog-dir');
  });
});
