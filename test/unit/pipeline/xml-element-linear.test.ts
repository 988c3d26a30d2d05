import { expect } from 'chai';
import { xmlElementText } from '../../../src/pipeline/xml-body.ts';

/**
 * Penetration test of the officer element (issue 16.6): the gateway looks for `MaCanBo` in a SOAP body on
 * the event loop, so the look-up must be linear in the body. Before, an open tag whose attributes ran to
 * the end of the body (`<MaCanBo ` repeated, no `>`) made each occurrence scan to the end: quadratic, about
 * 0.5 s for 72 KB and minutes for a body within `limits.bodyBytes`, with every other call waiting.
 */
describe('XML officer element: read in linear time (penetration test)', () => {
  it('a body of unclosed open tags (300 KB) is answered at once, not after seconds of backtracking', () => {
    const body = Buffer.from(`<a>${'<MaCanBo '.repeat(33_000)}`);
    const started = performance.now();
    const value = xmlElementText(body, 'MaCanBo');
    const ms = performance.now() - started;
    expect(value).to.equal(undefined);
    expect(ms, `${ms.toFixed(0)} ms`).to.be.below(1000);
  });

  it('attributes still match, and an element still reads as before', () => {
    const soap = (inner: string) => Buffer.from(`<s:Envelope><s:Body><X>${inner}</X></s:Body></s:Envelope>`);
    expect(xmlElementText(soap('<MaCanBo>cb-1</MaCanBo>'), 'MaCanBo')).to.equal('cb-1');
    expect(xmlElementText(soap('<d:MaCanBo xmlns:d="urn:x" a="1">cb-2</d:MaCanBo>'), 'MaCanBo')).to.equal('cb-2');
    expect(xmlElementText(soap('<MaCanBo/>'), 'MaCanBo')).to.equal('');
    expect(xmlElementText(soap('<MaCanBoX>cb-3</MaCanBoX>'), 'MaCanBo')).to.equal(undefined);
  });
});
