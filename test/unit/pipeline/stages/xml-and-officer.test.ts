import { expect } from 'chai';
import { adapt } from '../../../../src/pipeline/stages/adapt.ts';
import { decode } from '../../../../src/pipeline/stages/read.ts';
import { xmlBodyRefusal, xmlElementText } from '../../../../src/pipeline/xml-body.ts';
import { matchedFixture, thrownBy } from './exchange-fixture.ts';

const code = (stage: () => unknown) => thrownBy(stage)?.code;
const accept = (body: unknown) => ({ body, errors: [] });
const SOAP =
  '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>' +
  '<X xmlns="http://dancuquocgia.bca"><MaCanBo>cb-1</MaCanBo></X></s:Body></s:Envelope>';

/** A JSON route (a request stage) with the given `bodies`, its caller's body read. */
function route(
  headers: Record<string, string>,
  body: string,
  extra: Record<string, unknown> = {},
  audited?: unknown[],
) {
  const onBody = audited && ((_record: unknown, value: unknown) => void audited.push(value));
  const fixture = matchedFixture({ headers, body, request: accept, route: extra, hooks: onBody && { onBody } });
  fixture.ex.body = Buffer.from(body);
  return fixture.ex;
}

describe('XML bodies on a JSON route (bodies: [json, xml], issue 16.4)', () => {
  it('the plan takes XML only where the route declares it', () => {
    expect(route({}, '').route.plan.accepts).to.deep.equal({ json: true, xml: false });
    expect(route({}, '', { bodies: ['json', 'xml'] }).route.plan.accepts).to.deep.equal({ json: true, xml: true });
    expect(route({}, '', { bodies: ['xml'] }).route.plan.accepts).to.deep.equal({ json: false, xml: true });
  });

  it('an XML body is marked to pass as it came; adapt leaves it unparsed and unvalidated', () => {
    const audited: unknown[] = [];
    const ex = route(
      { 'content-type': 'application/soap+xml; charset=utf-8' },
      SOAP,
      { bodies: ['json', 'xml'] },
      audited,
    );
    expect(decode(ex)).to.equal(undefined);
    expect(ex.xml).to.equal(true);
    adapt(ex);
    expect(ex.call.json).to.equal(undefined);
    expect(String(ex.body)).to.equal(SOAP);
    expect(audited).to.deep.equal([]);
  });

  it('XML on a JSON-only route is 415; JSON labelled XML is 400; a JSON body still goes the JSON way', () => {
    expect(code(() => decode(route({ 'content-type': 'text/xml' }, SOAP)))).to.equal('GW_UNSUPPORTED_MEDIA_TYPE');
    const lying = route({ 'content-type': 'text/xml' }, '{"soDinhDanh":"1"}', { bodies: ['json', 'xml'] });
    expect(code(() => decode(lying))).to.equal('GW_BODY_NOT_XML');
    const honest = route({ 'content-type': 'application/json' }, '{"a":1}', { bodies: ['json', 'xml'] });
    expect(decode(honest)).to.equal(undefined);
    expect(honest.xml).to.equal(false);
  });

  it('xmlBodyRefusal: what keeps the label honest', () => {
    const ok = (body: string, type = 'text/xml') => xmlBodyRefusal({ 'content-type': type }, Buffer.from(body));
    expect(ok(SOAP)).to.equal(undefined);
    expect(ok('\uFEFF \r\n\t<a/>')).to.equal(undefined);
    expect(ok('{"a":1}')).to.have.property('kind', 'content');
    expect(ok('<!DOCTYPE a><a/>')).to.have.property('kind', 'content');
    expect(ok('<a/><!dOcTyPe a>')).to.have.property('kind', 'content');
    expect(ok('<a/>', 'text/xml; charset=ISO-8859-1')).to.have.property('kind', 'encoding');
    expect(ok('<a/>', 'text/xml; charset="utf-8"')).to.equal(undefined);
    expect(xmlBodyRefusal({ 'content-encoding': 'gzip' }, Buffer.from('<a/>'))).to.have.property('kind', 'encoding');
    expect(xmlBodyRefusal({}, Buffer.from([0x3c, 0xc3, 0x28]))).to.have.property('kind', 'content');
  });

  it('xmlElementText: the one element of that name, or ambiguous', () => {
    const text = (xml: string) => xmlElementText(Buffer.from(xml), 'MaCanBo');
    expect(text(SOAP)).to.equal('cb-1');
    expect(text('<a><p:MaCanBo a="1">x&amp;y</p:MaCanBo></a>')).to.equal('x&y');
    expect(text('<a><MaCanBoX>1</MaCanBoX></a>')).to.equal(undefined);
    expect(text('<a><MaCanBo/></a>')).to.equal('');
    for (const bad of [
      '<a><MaCanBo>1</MaCanBo><MaCanBo>2</MaCanBo></a>',
      '<a><!--x--><MaCanBo>1</MaCanBo></a>',
      '<a><MaCanBo><b>1</b></MaCanBo></a>',
      '<a><MaCanBo>&#49;</MaCanBo></a>',
    ])
      expect(text(bad), bad).to.have.property('ambiguous');
  });
});

describe('pipeline stage: officer identity (route officer:, issue 16.6)', () => {
  const officer = { required: true, header: 'X-Ma-Can-Bo', field: 'maCanBo', forwardAs: { field: 'maCanBo' } };
  const json = (body: string, headers: Record<string, string> = {}) =>
    route({ 'content-type': 'application/json', ...headers }, body, { officer });

  it('refuses a call without one, naming the sources', () => {
    const err = thrownBy(() => adapt(json('{"soDinhDanh":"x"}')));
    expect(err?.code).to.equal('GW_OFFICER_REQUIRED');
    expect(err?.message).to.include('header X-Ma-Can-Bo').and.include('JSON field maCanBo');
  });

  it('takes it from the header, writes it into the JSON body and records it', () => {
    const ex = json('{"soDinhDanh":"x"}', { 'x-ma-can-bo': 'cb-7' });
    adapt(ex);
    expect(ex.call.json).to.deep.include({ maCanBo: 'cb-7' });
    expect(ex.record.officer).to.equal('cb-7');
  });

  it('refuses disagreeing sources and values that are no account code', () => {
    expect(code(() => adapt(json('{"maCanBo":"a"}', { 'x-ma-can-bo': 'b' })))).to.equal('GW_OFFICER_INVALID');
    for (const bad of ['"a b"', '"a,b"', '1', '{}', `"${'x'.repeat(65)}"`])
      expect(
        code(() => adapt(json(`{"maCanBo":${bad}}`))),
        bad,
      ).to.equal('GW_OFFICER_INVALID');
    expect(code(() => adapt(json('{"maCanBo":"Nguyễn.Văn@sở-tp"}')))).to.equal(undefined);
  });

  it('an optional officer may be absent; a route without officer: records none', () => {
    const optional = route({ 'content-type': 'application/json' }, '{}', { officer: { ...officer, required: false } });
    adapt(optional);
    expect(optional.record.officer).to.equal(undefined);
    const none = route({ 'content-type': 'application/json' }, '{"maCanBo":"x"}');
    adapt(none);
    expect(none.record.officer).to.equal(undefined);
  });
});
