import { expect } from 'chai';
import type { GatewayError } from '../../../src/errors/gateway-error.ts';
import { parseJsonBody } from '../../../src/transform/index.ts';

const limits = { maxDepth: 8 };
const fail = (text: string | Buffer, max = limits): GatewayError => {
  const r = parseJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text), max);
  if (r.ok) throw new Error('expected a failure');
  return r.error;
};

describe('parseJsonBody', () => {
  it('parses a body, skipping a UTF-8 byte order mark', () => {
    expect(parseJsonBody(Buffer.from('\ufeff[{"HoVaTen":"Nguyễn Văn An"}]'), limits)).to.deep.equal({
      ok: true,
      value: [{ HoVaTen: 'Nguyễn Văn An' }],
    });
  });

  it('names line, column and position of a syntax error (the seed example without commas)', () => {
    const e = fail(
      '[{\n  "MaHoSo" : "000.00.18.G12-191106-0001",\n  "HoVaTen" : "Nguyễn Văn An"\n  "NgayThangNamSinh" : "12/12/2022"\n}]',
    );
    expect(e.code).to.equal('GW_MALFORMED_JSON');
    expect(e.status).to.equal(400);
    expect(e.params).to.include({ line: 4, column: 3 });
    expect(e.params.position).to.equal(e.params.position as number);
    expect(e.message).to.contain('dòng 4, cột 3');
  });

  it('reports a truncated body and an empty one', () => {
    expect(fail('[{"a":1}').message).to.contain('kết thúc đột ngột');
    expect(fail('').message).to.contain('rỗng');
  });

  it('refuses bytes that are not UTF-8, naming the byte', () => {
    const e = fail(Buffer.concat([Buffer.from('{"a":\n"x'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]));
    expect(e.code).to.equal('GW_MALFORMED_JSON');
    expect(e.params).to.include({ line: 2, column: 3, position: 8 });
  });

  it('refuses nesting deeper than maxDepth (arrays and objects count), accepts exactly maxDepth', () => {
    expect(parseJsonBody(Buffer.from('[[[1]]]'), { maxDepth: 3 }).ok).to.equal(true);
    const e = fail('[{"a":[1]}]', { maxDepth: 2 });
    expect(e.code).to.equal('GW_BAD_REQUEST');
    expect(e.message).to.contain('/0/a');
    expect(fail('['.repeat(100000) + ']'.repeat(100000), { maxDepth: 64 }).code).to.equal('GW_BAD_REQUEST');
  });

  it('refuses __proto__, constructor and prototype keys anywhere, even written with escapes', () => {
    for (const body of [
      '{"__proto__":{"polluted":1}}',
      '[{"a":{"constructor":{"prototype":{"x":1}}}}]',
      '{"\\u005f_proto__":{}}',
      '{"x":[{"prototype":1}]}',
    ]) {
      const e = fail(body);
      expect(e.code, body).to.equal('GW_BAD_REQUEST');
      expect(e.message, body).to.match(/__proto__|constructor|prototype/);
    }
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('lets the words through as values', () => {
    expect(parseJsonBody(Buffer.from('{"NoiDungXuLy":"constructor __proto__"}'), limits).ok).to.equal(true);
  });
});
