/**
 * The SOAP face of the simulated C06 services (domain.md §4: "population services are often SOAP",
 * namespace `http://dancuquocgia.bca`, requests carrying `MaYeuCau`, `MaDVC`, `MaCanBo`, `SoDinhDanh`,
 * `SoCMND`, `HoVaTen`, `NgayThangNamSinh`; `XacThucThongTinCongDan` answers `TonTai`). Document/literal,
 * SOAP 1.1 (`text/xml`) and 1.2 (`application/soap+xml`). The sandbox reads the envelope itself, strictly:
 * a malformed document, a DTD, another namespace or a second operation element is a SOAP Fault, as the
 * real service's stack would answer, never a guess.
 */

export const DANCU_NS = 'http://dancuquocgia.bca';
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';

/** The request fields every SOAP operation takes (all optional strings; the service decides what it needs). */
export const SOAP_REQUEST_FIELDS = [
  'MaYeuCau',
  'MaDVC',
  'MaCanBo',
  'SoDinhDanh',
  'SoCMND',
  'HoVaTen',
  'NgayThangNamSinh',
] as const;

export type SoapVersion = '1.1' | '1.2';

export interface SoapCall {
  readonly version: SoapVersion;
  /** Local name of the operation element (`XacThucThongTinCongDan`). */
  readonly operation: string;
  /** Its child elements' text, by local name. */
  readonly fields: Readonly<Record<string, string>>;
}

interface Element {
  readonly qname: string;
  readonly local: string;
  readonly ns: string | undefined;
  readonly scope: ReadonlyMap<string, string>;
  readonly children: Element[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Text with its five entities and character references resolved; undefined for a stray `&` or an unknown one. */
function unescape(text: string): string | undefined {
  let bad = false;
  const out = text.replace(/&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([A-Za-z]+));|&/g, (_all, hex, dec, name) => {
    const code = hex ? parseInt(hex as string, 16) : dec ? parseInt(dec as string, 10) : undefined;
    if (code !== undefined && code > 0 && code <= 0x10ffff) return String.fromCodePoint(code);
    if (name && Object.hasOwn(ENTITIES, name as string)) return ENTITIES[name as string];
    bad = true;
    return '';
  });
  return bad ? undefined : out;
}

/** A small, strict reader for the envelopes these services exchange: elements, attributes, text. */
function parseDocument(text: string): Element | string {
  let src = text.replace(/^\uFEFF/, '');
  src = src.replace(/^\s*<\?xml[^?]*\?>/, '');
  if (/<!DOCTYPE/i.test(src)) return 'DTD không được phép trong thông điệp SOAP';
  if (/<\?/.test(src)) return 'chỉ thị xử lý không được phép trong thông điệp SOAP';
  src = src.replace(/<!--[\s\S]*?-->/g, '');
  const token =
    /<(\/?)([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<!\[CDATA\[([\s\S]*?)\]\]>|([^<]+)|(<)/g;
  const stack: Element[] = [];
  let root: Element | undefined;
  for (let m = token.exec(src); m; m = token.exec(src)) {
    const [, closing, qname, attrs, selfClosing, cdata, chars, stray] = m;
    if (stray) return 'tài liệu XML không hợp lệ';
    const top = stack.at(-1);
    if (cdata !== undefined || chars !== undefined) {
      if (!top) {
        if (chars !== undefined && chars.trim() === '') continue;
        return 'có nội dung ngoài phần tử gốc';
      }
      const value = cdata ?? unescape(chars!);
      if (value === undefined) return 'tham chiếu thực thể không hợp lệ';
      top.text += value;
      continue;
    }
    if (closing) {
      if (!top || qname !== top.qname) return `thẻ đóng </${qname}> không khớp`;
      stack.pop();
      continue;
    }
    if (!top && root) return 'có hơn một phần tử gốc';
    const scope = new Map(top?.scope ?? []);
    for (const a of attrs.matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      const value = unescape(a[2] ?? a[3]) ?? '';
      if (a[1] === 'xmlns') scope.set('', value);
      else if (a[1].startsWith('xmlns:')) scope.set(a[1].slice(6), value);
    }
    const colon = qname.indexOf(':');
    const prefix = colon === -1 ? '' : qname.slice(0, colon);
    const ns = scope.get(prefix);
    if (prefix !== '' && ns === undefined) return `tiền tố không gian tên ${prefix} chưa khai báo`;
    const element: Element = { qname, local: qname.slice(colon + 1), ns, scope, children: [], text: '' };
    if (top) top.children.push(element);
    else root = element;
    if (!selfClosing) stack.push(element);
  }
  if (stack.length > 0 || !root) return 'tài liệu XML chưa đóng hết các thẻ';
  return root;
}

/** Reads a SOAP call to a `http://dancuquocgia.bca` operation, or the reason it is not one. */
export function readSoapCall(text: string): SoapCall | { fault: string } {
  const root = parseDocument(text);
  if (typeof root === 'string') return { fault: root };
  if (root.local !== 'Envelope' || (root.ns !== SOAP11 && root.ns !== SOAP12)) {
    return { fault: 'phần tử gốc không phải SOAP Envelope' };
  }
  const version: SoapVersion = root.ns === SOAP11 ? '1.1' : '1.2';
  const body = root.children.filter((c) => c.local === 'Body' && c.ns === root.ns);
  if (body.length !== 1) return { fault: 'cần đúng một SOAP Body' };
  const ops = body[0].children;
  if (ops.length !== 1) return { fault: 'SOAP Body phải chứa đúng một thao tác' };
  const op = ops[0];
  if (op.ns !== DANCU_NS) return { fault: `thao tác phải thuộc không gian tên ${DANCU_NS}` };
  const fields: Record<string, string> = {};
  for (const child of op.children) {
    if (child.children.length > 0) return { fault: `${child.local} phải là giá trị đơn` };
    if (child.local in fields) return { fault: `${child.local} xuất hiện hai lần` };
    fields[child.local] = child.text;
  }
  return { version, operation: op.local, fields };
}

function escape(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&${Object.keys(ENTITIES).find((k) => ENTITIES[k] === c)};`);
}

/** Content-Type of an answer in `version`. */
export function soapContentType(version: SoapVersion): string {
  return version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8';
}

function envelope(version: SoapVersion, body: string): string {
  const ns = version === '1.1' ? SOAP11 : SOAP12;
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ns}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

/** `<OpResponse xmlns="http://dancuquocgia.bca"><Field>value</Field>…</OpResponse>`; undefined/null fields left out. */
export function soapAnswer(
  version: SoapVersion,
  operation: string,
  fields: Readonly<Record<string, string | number | boolean | null | undefined>>,
): string {
  const inner = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `<${k}>${escape(String(v))}</${k}>`)
    .join('');
  return envelope(version, `<${operation}Response xmlns="${DANCU_NS}">${inner}</${operation}Response>`);
}

/** A SOAP Fault (client side: the request is at fault). */
export function soapFault(version: SoapVersion, message: string): string {
  const body =
    version === '1.1'
      ? `<soap:Fault><faultcode>soap:Client</faultcode><faultstring>${escape(message)}</faultstring></soap:Fault>`
      : `<soap:Fault><soap:Code><soap:Value>soap:Sender</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="vi">${escape(message)}</soap:Text></soap:Reason></soap:Fault>`;
  return envelope(version, body);
}

/** A document/literal WSDL 1.1 of one operation: the request fields above, the answer's fields as listed. */
export function wsdlOf(
  operation: string,
  answerFields: readonly (readonly [string, 'string' | 'boolean'])[],
  location: string,
): string {
  const element = (name: string, type: string, optional: boolean) =>
    `<xs:element name="${name}" type="xs:${type}"${optional ? ' minOccurs="0"' : ''}/>`;
  const request = SOAP_REQUEST_FIELDS.map((f) => element(f, 'string', true)).join('');
  const answer = [
    element('MaYeuCau', 'string', true),
    element('MaKetQua', 'string', false),
    element('MoTaKetQua', 'string', false),
    ...answerFields.map(([name, type]) => element(name, type, true)),
  ].join('');
  return `<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="${DANCU_NS}" targetNamespace="${DANCU_NS}" name="DanCu${operation}">
  <wsdl:types>
    <xs:schema targetNamespace="${DANCU_NS}" elementFormDefault="qualified">
      <xs:element name="${operation}"><xs:complexType><xs:sequence>${request}</xs:sequence></xs:complexType></xs:element>
      <xs:element name="${operation}Response"><xs:complexType><xs:sequence>${answer}</xs:sequence></xs:complexType></xs:element>
    </xs:schema>
  </wsdl:types>
  <wsdl:message name="${operation}Request"><wsdl:part name="parameters" element="tns:${operation}"/></wsdl:message>
  <wsdl:message name="${operation}Response"><wsdl:part name="parameters" element="tns:${operation}Response"/></wsdl:message>
  <wsdl:portType name="DanCuPortType">
    <wsdl:operation name="${operation}"><wsdl:input message="tns:${operation}Request"/><wsdl:output message="tns:${operation}Response"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="DanCuBinding" type="tns:DanCuPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="${operation}">
      <soap:operation soapAction="${DANCU_NS}/${operation}"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="DanCuService">
    <wsdl:port name="DanCuPort" binding="tns:DanCuBinding"><soap:address location="${escape(location)}"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`;
}
