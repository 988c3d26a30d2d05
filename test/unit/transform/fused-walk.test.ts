import { expect } from 'chai';
import fc from 'fast-check';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileCodeForms, compileMapping, loadCatalogs, type MappingFn } from '../../../src/transform/index.ts';
import { createMappingDeps, type MappingDeps } from '../../../src/transform/compile-mapping.ts';
import { valuesOf } from '../../../src/transform/code-forms.ts';
import { admitShapes, type PendingShapes } from '../../../src/transform/shape.ts';
import { CATALOGS, ROOT, shippedMappings } from './helpers.ts';

/**
 * Fused walks (src/transform/fused-walk.ts, issue 19) against the unfused runner (`fuse: false`, one walk
 * per op as before): on generated bodies, accepted or refused, the same output body (key order included,
 * removed keys too), the same FieldErrors in the same order, the same rawNumbers flag, and the same record
 * shapes met and cached, call after call. Every shipped mapping list runs, and lists written here to reach
 * what the shipped ones do not (allowOnly, drop, default/constant, two renames, nested paths, post phase).
 */
const catalogs = loadCatalogs(CATALOGS);
const plainDeps = createMappingDeps(catalogs);
// Two senders with their own code forms, so codelist passes differ per consumer inside a fused walk.
const senderDeps: MappingDeps = {
  ...createMappingDeps(
    catalogs,
    compileCodeForms(
      {
        ids: { codeForms: { ethnicity: 'id', gender: 'id' } },
        names: { codeForms: { ethnicity: ['gso', 'name', 'aliases'] } },
      },
      catalogs,
    ),
  ),
  senders: ['ids', 'names'],
};

type Ops = Record<string, unknown>[];
const lists: { name: string; ops: Ops; deps: MappingDeps }[] = [];
for (const file of readdirSync(join(ROOT, 'config', 'mappings')).filter((f) => f.endsWith('.yaml'))) {
  const name = file.replace(/\.yaml$/, '');
  for (const [api, stages] of Object.entries(shippedMappings(name))) {
    if (api.startsWith('x-')) continue;
    for (const [stage, conf] of Object.entries(stages)) {
      if (conf?.mapping) lists.push({ name: `${name}.${api}.${stage}`, ops: conf.mapping, deps: plainDeps });
    }
  }
}
expect(lists.length, 'every shipped mapping list').to.be.at.least(8);
lists.push({
  name: 'molisa.DongBoDVC.request with two senders',
  ops: shippedMappings('molisa').DongBoDVC.request.mapping!,
  deps: senderDeps,
});
lists.push(
  {
    name: 'allowOnly reject, drop, empty policies that reject',
    deps: plainDeps,
    ops: [
      { op: 'allowOnly', at: '[]', fields: ['MaHoSo', 'HoVaTen', 'NgayThangNamSinh', 'GioiTinhId', 'Email'] },
      { op: 'drop', at: '[]', fields: ['Email', 'x'] },
      { op: 'trim', at: '[]' },
      {
        op: 'date',
        at: '[]',
        field: 'NgayThangNamSinh',
        from: ['dd/MM/yyyy', 'ISO'],
        to: 'yyyyMMdd',
        onEmpty: 'reject',
      },
      {
        op: 'codelist',
        at: '[]',
        field: 'GioiTinhId',
        catalog: 'gender',
        from: ['id', 'code', 'name', 'aliases'],
        to: 'id',
        unknown: 'reject',
        emptyValues: ['', 'NA'],
        onEmpty: 'reject',
      },
    ],
  },
  {
    name: 'allowOnly drop, two renames, default/constant with nested fields, drop of a created field',
    deps: plainDeps,
    ops: [
      { op: 'allowOnly', at: '[]', action: 'drop', fields: ['a', 'b', 'HoVaTen', ' MaHoSo', 'mahoso', 'x', 'meta'] },
      { op: 'rename', at: '[]', fields: { a: 'b' }, onConflict: 'reject' },
      { op: 'rename', at: '[]', tolerant: true, canonical: ['MaHoSo', 'HoVaTen'], onConflict: 'keep' },
      { op: 'default', at: '[]', when: 'empty', values: { 'meta.source': 'x', b: 1 } },
      { op: 'constant', at: '[]', values: { k: { nested: [1] } } },
      { op: 'drop', at: '[]', fields: ['meta.source', 'x'] },
      {
        op: 'codelist',
        at: '[]',
        field: 'b',
        catalog: 'gender',
        from: 'code',
        to: 'name',
        unknown: 'reject',
        onEmpty: 'drop',
      },
    ],
  },
  {
    name: 'ops on the body root and on records, mixed',
    deps: plainDeps,
    ops: [
      { op: 'trim', at: '', fields: ['module', 'thoiGian'] },
      { op: 'codelist', field: 'module', catalog: 'hotich-modules', from: 'code', to: 'name', unknown: 'reject' },
      { op: 'date', field: 'thoiGian', from: ['dd/MM/yyyy HH:mm:ss', 'ISO'], to: 'ISO', onEmpty: 'drop' },
      { op: 'rename', at: '', fields: { module: 'Module' } },
      { op: 'drop', at: '[]', field: 'CMND' },
      { op: 'allowOnly', at: '[]', action: 'drop', fields: ['MaHoSo', 'HoVaTen', 'sub', 'data'] },
      { op: 'allowOnly', fields: ['Module', 'thoiGian', 'items'] },
    ],
  },
  {
    name: 'nested paths, embedded JSON, a post-phase op',
    deps: plainDeps,
    ops: [
      { op: 'embeddedJson', at: '[]', field: 'data', mode: 'parse', reserialize: true, onInvalid: 'reject' },
      { op: 'trim', at: '[].sub[]', nfc: true },
      {
        op: 'date',
        at: '[]',
        fields: ['sub.d', 'NgayThangNamSinh', 'data.d'],
        from: ['d/M/yyyy', 'ISO'],
        to: 'dd/MM/yyyy',
      },
      { op: 'drop', at: '[]', fields: ['sub.x', 'HoVaTen'] },
      { op: 'allowOnly', at: '[].sub', action: 'reject', fields: ['d', 'x'] },
      { op: 'rename', at: '[].data', fields: { a: 'b' } },
      { op: 'default', at: 'items[]', values: { 'q.r': 'v' } },
      { op: 'trim', at: '[]', phase: 'post' },
      { op: 'drop', at: '[]', field: 'MaHoSo', phase: 'post' },
    ],
  },
);

// Values: dates in every accepted form and broken ones, catalogue values, empty markers, padded and
// decomposed text, numbers, embedded JSON, nested objects and lists.
const catalogValues = catalogs
  .names()
  .flatMap((n) => catalogs.get(n)!.entries.flatMap((e) => Object.keys(e).flatMap((c) => valuesOf(e, c))));
const pad2 = (n: number) => String(n).padStart(2, '0');
const dateText = fc
  .tuple(
    fc.integer({ min: 1, max: 2100 }),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 24 }),
    fc.integer({ min: 0, max: 60 }),
    fc.integer({ min: 0, max: 7 }),
  )
  .map(([y, mo, d, h, mi, form]) => {
    const yyyy = String(y).padStart(4, '0');
    return [
      `${pad2(d)}/${pad2(mo)}/${yyyy}`,
      `${pad2(d)}/${pad2(mo)}/${yyyy} ${pad2(h)}:${pad2(mi)}:${pad2(mi)}`,
      `${d}/${mo}/${yyyy}`,
      `${d}/${mo}/${yyyy} ${h}:${mi}:${h}`,
      `${yyyy}${pad2(mo)}${pad2(d)}${pad2(h)}${pad2(mi)}00`,
      `${yyyy}${pad2(mo)}${pad2(d)}`,
      `${yyyy}-${pad2(mo)}-${pad2(d)}`,
      `${yyyy}-${pad2(mo)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:00${['Z', '+07:00', '-0530', '.123Z', ''][mi % 5]}`,
    ][form];
  });
const scalar = fc.oneof(
  dateText,
  fc.constantFrom(...catalogValues),
  fc.constantFrom('', ' ', 'NA', 'n/a', ' N/A ', null, 'Nguyễn Văn An'.normalize('NFD'), ' Hà Nội ', '0', '31/02/2021'),
  fc.constantFrom('{"a":1,"d":"1/2/2020"}', '[1,2]', '{"a":', '{"__proto__":{"x":1}}', '12345678901234567890'),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -5, max: 20181220221912 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
);
const keys = fc.constantFrom(
  ...(shippedMappings('molisa').DongBoDVC.request.mapping![1].canonical as string[]),
  ...['HKTTC_MaTinh', 'hkttc_MaXa', ' MaHoSo', 'mahoso', 'StatusID', 'PhongBanXuLy', 'DonViXuLy', ' UserIdCreated'],
  ...['module', 'thoiGian', 'ngayNopHoSo', 'ngayTiepNhan', 'data', 'loAS', 'sub', 'items', 'meta', 'a', 'b', 'x', 'k'],
  ...['__proto__', 'extra', 'd', 'q'],
);
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('record'), tie('list')),
  record: fc.array(fc.tuple(keys, tie('value')), { maxLength: 8 }).map((kv) => Object.fromEntries(kv)),
  list: fc.array(tie('value'), { maxLength: 3 }),
})).value;
const record = fc.array(fc.tuple(keys, value), { maxLength: 30 }).map((kv) => Object.fromEntries(kv));
const body = fc.oneof(
  { arbitrary: fc.array(record, { maxLength: 8 }), weight: 6 },
  { arbitrary: fc.array(fc.oneof(record, value), { maxLength: 6 }), weight: 2 },
  { arbitrary: fc.array(record, { minLength: 20, maxLength: 40 }), weight: 1 },
  { arbitrary: record, weight: 2 },
  { arbitrary: value, weight: 1 },
);
const calls = fc.array(
  fc.record({ body, consumer: fc.constantFrom(undefined, 'ids', 'names', 'other'), defer: fc.boolean() }),
  { minLength: 1, maxLength: 6 },
);

/** Body text with keys holding `undefined` shown (JSON.stringify alone would drop them). */
const text = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (x === undefined ? '(undefined)' : x));

/** The pending shapes of a call as data: which cache (by first appearance) and which key list. */
function shapesOf(pending: PendingShapes): string {
  const caches: unknown[] = [];
  return JSON.stringify(
    pending.map((p) => {
      if (!caches.includes(p.cache)) caches.push(p.cache);
      return [caches.indexOf(p.cache), p.keys];
    }),
  );
}

/** One call on both runners (a copy of the body each): everything observable must be the same. */
function compare(fused: MappingFn, reference: MappingFn, input: unknown, consumer: string | undefined, defer: boolean) {
  const json = JSON.stringify(input);
  const copy = () => (json === undefined ? undefined : JSON.parse(json));
  const pendingF: PendingShapes = [];
  const pendingR: PendingShapes = [];
  const f = fused(copy(), defer ? pendingF : undefined, consumer);
  const r = reference(copy(), defer ? pendingR : undefined, consumer);
  expect(text(f.body), 'body').to.equal(text(r.body));
  expect(f.errors, 'errors').to.deep.equal(r.errors);
  expect(f.rawNumbers, 'rawNumbers').to.equal(r.rawNumbers);
  if (fused.post) {
    const pf = fused.post(f.body, defer ? pendingF : undefined, consumer);
    const pr = reference.post!(r.body, defer ? pendingR : undefined, consumer);
    expect(text(pf.body), 'post body').to.equal(text(pr.body));
    expect(pf.errors, 'post errors').to.deep.equal(pr.errors);
  }
  expect(shapesOf(pendingF), 'shapes met').to.equal(shapesOf(pendingR));
  if (defer && f.errors.length === 0) {
    admitShapes(pendingF);
    admitShapes(pendingR);
  }
}

describe('fused walks give what one walk per op gives (fused-walk.ts)', () => {
  for (const { name, ops, deps } of lists) {
    it(`${name}: same bodies, errors, flags and cached shapes on generated bodies`, () => {
      fc.assert(
        fc.property(calls, (seq) => {
          // Fresh pair per run: their shape caches start empty and must stay alike call after call.
          const fused = compileMapping(ops, deps, ['t']);
          const reference = compileMapping(ops, deps, ['t'], { fuse: false, generate: false });
          for (const c of seq) compare(fused, reference, c.body, c.consumer, c.defer);
        }),
        { numRuns: 100 },
      );
    });
  }

  it('errors come op by op, then record by record, capped at 100 as before', () => {
    const ops = [
      { op: 'allowOnly', at: '[]', fields: ['a'] },
      { op: 'date', at: '[]', field: 'a', from: ['yyyyMMdd'], to: 'dd/MM/yyyy' },
    ];
    const fused = compileMapping(ops, plainDeps, ['t']);
    const records = Array.from({ length: 3 }, () => ({ a: 'x', b: 1 }));
    const { errors } = fused(records);
    expect(errors.map((e) => `${e.rule} ${e.pointer}`)).to.deep.equal([
      'additionalProperties /0/b',
      'additionalProperties /1/b',
      'additionalProperties /2/b',
      'date /0/a',
      'date /1/a',
      'date /2/a',
    ]);
    const many = Array.from({ length: 60 }, () => ({ a: 'x', b: 1, c: 2 }));
    const capped = fused(many).errors;
    expect(capped).to.have.length(100);
    expect(capped.every((e) => e.rule === 'additionalProperties')).to.equal(true);
    expect(capped).to.deep.equal(compileMapping(ops, plainDeps, ['t'], { fuse: false, generate: false })(many).errors);
  });
});
