import type { IncomingHttpHeaders } from 'node:http';
import { isUtf8 } from 'node:buffer';

/**
 * Why an XML-labelled body is refused on a route that takes XML (`bodies: [json, xml]`), or undefined when
 * it may go upstream byte-identical. The gateway does not parse XML; it checks only what keeps the label
 * honest, because the body skips the JSON stages on the strength of that label:
 * - no Content-Encoding, and a charset of UTF-8 (or none): the bytes checked are the bytes the upstream
 *   decodes. A gzipped or UTF-16 body would hide what it holds from this check (and C06's SOAP is UTF-8);
 * - valid UTF-8, and the first character after an optional byte order mark and white space is `<`: no
 *   JSON text starts with `<`, so a JSON body labelled text/xml is refused here instead of reaching an
 *   upstream that picks its parser from the bytes; one that picks it from the label fails on it anyway;
 * - no document type declaration: SOAP 1.1 §3 and SOAP 1.2 Part 1 §5 forbid one in a SOAP message, and a
 *   DTD is how entity expansion and external-entity attacks reach the XML parser on the national side;
 * - no XML declaration of another encoding than UTF-8: a parser that honours `encoding="UTF-7"` reads
 *   `+ADw-!DOCTYPE` as `<!DOCTYPE`, a DTD the byte check above never saw (and any other encoding changes
 *   the letters the caller sent).
 */
export type XmlRefusal =
  | { kind: 'encoding'; fault: { header: 'Content-Encoding' | 'Content-Type'; value: string; accepted: string } }
  | { kind: 'content'; reason: string };

const DOCTYPE = Buffer.from('<!doctype');

export function xmlBodyRefusal(headers: IncomingHttpHeaders, body: Buffer): XmlRefusal | undefined {
  const coding = headers['content-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
    return { kind: 'encoding', fault: { header: 'Content-Encoding', value: coding, accepted: 'identity' } };
  }
  const type = headers['content-type'] ?? '';
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(type)?.[1].toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return { kind: 'encoding', fault: { header: 'Content-Type', value: type, accepted: 'charset=utf-8' } };
  }
  if (!isUtf8(body)) return { kind: 'content', reason: 'không phải văn bản UTF-8 hợp lệ' };
  let i = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x09 || body[i] === 0x0a || body[i] === 0x0d)) i++;
  if (body[i] !== 0x3c) return { kind: 'content', reason: 'không bắt đầu bằng một thẻ XML ("<")' };
  if (indexOfIgnoringCase(body, DOCTYPE, i) !== -1) {
    return { kind: 'content', reason: 'có khai báo DOCTYPE (DTD), không được phép trong thông điệp SOAP' };
  }
  const declared = declaredEncoding(body, i);
  if (declared !== undefined && declared !== 'utf-8' && declared !== 'utf8') {
    return { kind: 'content', reason: 'khai báo mã hóa (encoding) của XML phải là UTF-8' };
  }
  return undefined;
}

/** The `encoding` of an XML declaration at `at` (`<?xml … ?>`), lower-cased; undefined when none is declared. */
function declaredEncoding(body: Buffer, at: number): string | undefined {
  // The whole declaration, however much white space pads it (XML allows any), up to its `?>`.
  const end = body.indexOf('?>', at);
  const decl = body.subarray(at, end === -1 ? body.length : end + 2).toString('latin1');
  if (!/^<\?xml[\s?]/.test(decl)) return undefined;
  const match = /\sencoding\s*=\s*(["'])([^"']*)\1/i.exec(decl);
  return match ? match[2]!.toLowerCase() : undefined;
}

/** Position of `needle` (lower-case ASCII) in `haystack` from `from`, ASCII letters compared without case. */
function indexOfIgnoringCase(haystack: Buffer, needle: Buffer, from: number): number {
  for (let at = haystack.indexOf(0x3c, from); at !== -1; at = haystack.indexOf(0x3c, at + 1)) {
    if (at + needle.length > haystack.length) return -1;
    let k = 1;
    while (k < needle.length && (haystack[at + k] | 0x20) === needle[k]) k++;
    if (k === needle.length) return at;
  }
  return -1;
}

/**
 * The text of the one element of local name `name` in an XML body the gateway does not otherwise parse
 * (an officer identity, issue 16.6): `undefined` when there is none, `{ ambiguous }` when the body could
 * show one value to this reader and another to the upstream's parser: two such elements, a comment or a
 * CDATA section (either could hide a look-alike), a nested element, or an unknown entity.
 */
export function xmlElementText(body: Buffer, name: string): string | undefined | { ambiguous: string } {
  const text = body.toString('utf8');
  if (text.includes('<!--') || text.includes('<![CDATA[')) {
    return { ambiguous: 'thông điệp có chú thích hoặc CDATA' };
  }
  const local = name.replace(/\./g, '\\.');
  // Attributes end at `<` too (none may hold one): each try stops at the next tag, so the search is linear
  // in the body; `[^>]*` let every unclosed `<MaCanBo ` scan to the end of the body (quadratic).
  const open = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${local}(?:\\s[^<>]*)?(/?)>`, 'g');
  const found = [...text.matchAll(open)];
  if (found.length === 0) return undefined;
  if (found.length > 1) return { ambiguous: `${name} xuất hiện ${found.length} lần` };
  const [tag, selfClosing] = found[0];
  if (selfClosing) return '';
  const start = found[0].index + tag.length;
  const end = text.indexOf('<', start);
  const close = new RegExp(`^</(?:[A-Za-z_][\\w.-]*:)?${local}\\s*>`).exec(text.slice(end));
  if (end === -1 || !close) return { ambiguous: `${name} phải là giá trị đơn` };
  let unknownEntity = false;
  const value = text.slice(start, end).replace(/&(lt|gt|amp|quot|apos);|&/g, (all, entity: string | undefined) => {
    if (!entity) unknownEntity = true;
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[entity ?? 'amp'] ?? all;
  });
  return unknownEntity ? { ambiguous: `${name} có tham chiếu thực thể không hỗ trợ` } : value;
}
