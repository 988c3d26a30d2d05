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

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
const LATIN_LETTER = /^(?=\p{Script=Latin})\p{L}$/u;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Why a request path is refused (a short Vietnamese reason that never quotes the caller's text), or undefined. */
export function pathRefusal(path: string): string | undefined {
  if (!path.startsWith('/')) return 'đường dẫn phải bắt đầu bằng /';
  if (path === '/') return undefined;
  const segments = path.slice(1).split('/');
  // One trailing slash is allowed (`/a/b/`): the route table treats it as the same path.
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    if (i === last && segments[i] === '' && i > 0) break;
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
  let bytes: number[] | undefined;
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === '%') {
      const hex = segment.slice(i + 1, i + 3);
      if (!HEX2.test(hex)) return 'chứa mã hoá phần trăm không hợp lệ (chỉ nhận %XX)';
      const byte = parseInt(hex, 16);
      if (byte < 0x80) return `chứa ký tự ASCII mã hoá phần trăm (%${hex.toUpperCase()})`;
      (bytes ??= []).push(byte);
      i += 2;
      continue;
    }
    if (bytes) {
      const reason = encodedRunRefusal(bytes);
      if (reason) return reason;
      bytes = undefined;
    }
    if (!UNRESERVED.test(ch)) return `chứa ký tự không được phép ${describeChar(ch)}`;
  }
  if (bytes) return encodedRunRefusal(bytes);
  return undefined;
}

/** A run of percent-encoded bytes: strict UTF-8 (no overlong forms) of Latin letters already in NFKC form. */
function encodedRunRefusal(bytes: number[]): string | undefined {
  let text: string;
  try {
    text = strictUtf8.decode(Uint8Array.from(bytes));
  } catch {
    return 'chứa chuỗi UTF-8 không hợp lệ hoặc mã hoá dài (overlong)';
  }
  for (const ch of text) {
    if (!LATIN_LETTER.test(ch)) return `chứa ký tự không được phép ${describeChar(ch)}`;
  }
  if (text.normalize('NFKC') !== text) return 'chứa ký tự không ở dạng chuẩn Unicode NFKC';
  return undefined;
}

/**
 * Why a query string (without its `?`) is refused, or undefined. The query is forwarded after the
 * gateway's own `?`, where no server resolves paths; it may hold RFC 3986 query characters, `[` `]`
 * (sent unencoded by common clients) and well-formed `%XX` escapes. `#`, `\`, quotes, spaces and broken
 * escapes are refused: parsers disagree about them.
 */
export function queryRefusal(query: string): string | undefined {
  for (let i = 0; i < query.length; i++) {
    const ch = query[i];
    if (ch === '%') {
      if (!HEX2.test(query.slice(i + 1, i + 3))) return 'chuỗi truy vấn chứa mã hoá phần trăm không hợp lệ';
      i += 2;
      continue;
    }
    if (!QUERY_CHAR.test(ch)) return `chuỗi truy vấn chứa ký tự không được phép ${describeChar(ch)}`;
  }
  return undefined;
}

const QUERY_CHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?[\]]$/;

/** A character named without quoting anything the caller could have hidden a secret in: one char or U+XXXX. */
function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp > 0x20 && cp < 0x7f) return `"${ch}"`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
