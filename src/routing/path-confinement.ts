/**
 * Path confinement (issue 13.2): a request path the gateway forwards must resolve under the route's
 * upstream base whatever the upstream's server does to it. Tomcat, Jetty, Spring and WSO2 strip `;…`
 * matrix parameters per segment (`..;` becomes `..`); IIS decodes `%u002e`, turns `\` into `/`, strips
 * trailing dots and spaces; lenient decoders take overlong UTF-8 (`%c0%ae`); some decode twice (`%252e`);
 * some apply NFKC (`%EF%BC%8E`, a full-width dot, becomes `.`). A deny-list of those tricks is never
 * complete, so each segment is checked against an allow-list instead: what a segment may contain is so
 * plain that no such server can read it as anything but one ordinary segment.
 *
 * A segment may hold ASCII letters, digits and `-._~` (RFC 3986 unreserved), and percent-encoded UTF-8
 * of Latin letters (Vietnamese `ệ` as `%E1%BB%87`), in NFKC form. Refused: empty segments (`//`), dot
 * segments and segments ending in a dot (IIS strips trailing dots: `..` hides in `...` or `.. .`),
 * every other ASCII character (`;`, `\`, `:`, `%`, space...), percent-encoded ASCII (`%2e`, `%2f`,
 * `%25` of double encoding, `%3b`), malformed escapes (`%u002e`, `%zz`), invalid or overlong UTF-8,
 * and any non-Latin or non-letter character (full-width forms, dot leaders, slashes look-alikes).
 *
 * Route patterns and upstream path templates are checked by the same rule at load, and the upstream
 * path is the template filled with whole caller segments, so every forwarded segment passes it.
 */

const PLAIN_PATH = /^(?:\/[A-Za-z0-9._~-]*[A-Za-z0-9_~-])*\/?$/;
const PLAIN_QUERY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?[\]]|%[0-9A-Fa-f]{2})*$/;
const QUERY_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?[\]]$/;
const LATIN_LETTER = /^(?=\p{Script=Latin})\p{L}$/u;

/** Why a request path is refused (a short Vietnamese reason that never quotes the caller's text), or undefined. */
export function pathRefusal(path: string): string | undefined {
  if (!path.startsWith('/')) return 'đường dẫn phải bắt đầu bằng /';
  // Fast path, one linear regex: segments of unreserved ASCII that do not end in a dot (so none is a dot
  // segment). Most API paths end here; the rest get the full check and a precise reason.
  if (PLAIN_PATH.test(path)) return undefined;
  const segments = path.slice(1).split('/');
  // One trailing slash is allowed (`/a/b/`): the route table treats it as the same path.
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    if (i === last && i > 0 && segments[i] === '') break;
    const reason = segmentRefusal(segments[i]);
    if (reason) return `đoạn thứ ${i + 1} của đường dẫn ${reason}`;
  }
  return undefined;
}

/** Why one path segment (as sent, still percent-encoded) is refused, or undefined. */
export function segmentRefusal(segment: string): string | undefined {
  if (segment === '') return 'rỗng (//)';
  if (/^\.+$/.test(segment)) return 'là đoạn chấm (., ..)';
  if (segment.endsWith('.')) return 'kết thúc bằng dấu chấm (máy chủ IIS bỏ dấu chấm cuối)';
  for (let i = 0; i < segment.length;) {
    const c = segment.charCodeAt(i);
    if (c !== 0x25 /* % */) {
      if (!isUnreserved(c)) return `chứa ký tự không được phép ${describeChar(segment.codePointAt(i)!)}`;
      i++;
      continue;
    }
    // A run of %XX: strict, shortest-form UTF-8 of Latin letters, in NFKC form.
    const bytes: number[] = [];
    while (i < segment.length && segment.charCodeAt(i) === 0x25) {
      const byte = hexByte(segment, i + 1);
      if (byte < 0) return 'chứa mã hoá phần trăm không hợp lệ (chỉ nhận %XX)';
      if (byte < 0x80) return `chứa ký tự ASCII mã hoá phần trăm (%${segment.slice(i + 1, i + 3).toUpperCase()})`;
      bytes.push(byte);
      i += 3;
    }
    const text = decodeStrictUtf8(bytes);
    if (text === undefined) return 'chứa chuỗi UTF-8 không hợp lệ hoặc mã hoá dài (overlong)';
    for (const ch of text) {
      if (!LATIN_LETTER.test(ch)) return `chứa ký tự không được phép ${describeChar(ch.codePointAt(0)!)}`;
    }
    if (text.normalize('NFKC') !== text) return 'chứa ký tự không ở dạng chuẩn Unicode NFKC';
  }
  return undefined;
}

/**
 * Why a query string (without its `?`) is refused, or undefined. The query is forwarded after the
 * gateway's own `?`, where no server resolves paths; it may hold RFC 3986 query characters, `[` `]`
 * (sent unencoded by common clients) and well-formed `%XX` escapes. `#`, `\`, quotes, spaces and broken
 * escapes are refused: parsers disagree about them.
 */
export function queryRefusal(query: string): string | undefined {
  if (PLAIN_QUERY.test(query)) return undefined;
  for (let i = 0; i < query.length; i++) {
    if (query.charCodeAt(i) === 0x25) {
      if (hexByte(query, i + 1) < 0) return 'chuỗi truy vấn chứa mã hoá phần trăm không hợp lệ';
      i += 2;
      continue;
    }
    if (!QUERY_CHAR.test(query[i]))
      return `chuỗi truy vấn chứa ký tự không được phép ${describeChar(query.codePointAt(i)!)}`;
  }
  return undefined;
}

/** A-Z a-z 0-9 - . _ ~ (RFC 3986 unreserved). */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e
  );
}

/** The byte of the two hex digits at `at`, or -1. */
function hexByte(s: string, at: number): number {
  const hi = hexDigit(s.charCodeAt(at));
  const lo = hexDigit(s.charCodeAt(at + 1));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * UTF-8 decoded strictly (RFC 3629): no overlong forms (`C0 AE` for `.`), no surrogates, nothing past
 * U+10FFFF, no stray or missing continuation bytes. Undefined when the bytes are not such UTF-8.
 */
function decodeStrictUtf8(bytes: readonly number[]): string | undefined {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const more = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (more === 0 || i + more >= bytes.length) return undefined;
    let cp = b & (more === 1 ? 0x1f : more === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= more; k++) {
      const next = bytes[i + k];
      if ((next & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (next & 0x3f);
    }
    const shortest = more === 1 ? 0x80 : more === 2 ? 0x800 : 0x10000;
    if (cp < shortest || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
    i += more + 1;
  }
  return out;
}

/** A character named without quoting anything the caller could have hidden a secret in: one char or U+XXXX. */
function describeChar(cp: number): string {
  if (cp > 0x20 && cp < 0x7f) return `"${String.fromCharCode(cp)}"`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
