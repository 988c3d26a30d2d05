/**
 * The reference normaliser of the path-confinement tests (issue 13.2): the union of what common servers do
 * to a request path before resolving it (Tomcat, Jetty, Spring and WSO2 strip `;` parameters; IIS decodes
 * `%u`, reads `\\` as `/`, strips trailing dots and spaces, ignores case; lenient decoders take overlong
 * UTF-8 and decode more than once; some apply NFKC; nginx merges slashes; C stacks stop at NUL), applied
 * all at once, so it is deliberately more aggressive than any one server.
 */

/** Lenient UTF-8: overlong forms accepted (`C0 AE` is `.`), invalid bytes read as Latin-1. */
function lenientUtf8(bytes: number[]): string {
  let out = '';
  const cont = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    let cp: number | undefined;
    let used = 0;
    if (b >= 0xc0 && b < 0xe0 && cont(bytes[i + 1])) {
      cp = ((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
      used = 1;
    } else if (b >= 0xe0 && b < 0xf0 && cont(bytes[i + 1]) && cont(bytes[i + 2])) {
      cp = ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      used = 2;
    } else if (b >= 0xf0 && b < 0xf8 && cont(bytes[i + 1]) && cont(bytes[i + 2]) && cont(bytes[i + 3])) {
      cp = ((b & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      used = 3;
    }
    if (cp !== undefined && cp <= 0x10ffff && !(cp >= 0xd800 && cp < 0xe000)) {
      out += String.fromCodePoint(cp);
      i += used;
    } else out += String.fromCharCode(b);
  }
  return out;
}

/** One decoding pass: `%uXXXX` (IIS) and runs of `%XX` (lenient UTF-8). */
function decodeOnce(s: string): string {
  return s
    .replace(/%u([0-9a-f]{4})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/(?:%[0-9a-f]{2})+/gi, (run) =>
      lenientUtf8(
        run
          .slice(1)
          .split('%')
          .map((h) => parseInt(h, 16)),
      ),
    );
}

/** The path as the most permissive server would resolve it: segments, and whether it climbed above `/`. */
export function referenceNormalise(path: string): { segments: string[]; escaped: boolean } {
  let p = path;
  for (let i = 0; i < 6; i++) {
    const next = decodeOnce(p); // double, triple encoding
    if (next === p) break;
    p = next;
  }
  p = p.normalize('NFKC').replace(/\\/g, '/'); // full-width forms; IIS backslash
  const out: string[] = [];
  let escaped = false;
  for (let seg of p.split('/').slice(1)) {
    seg = seg.split('\0')[0]; // NUL truncation
    seg = seg.split(';')[0]; // matrix parameters (Tomcat, Jetty, Spring, WSO2)
    const trimmed = seg.replace(/[. ]+$/, ''); // IIS: trailing dots and spaces
    if (trimmed === '' && seg.includes('.')) seg = (seg.match(/\./g)?.length ?? 0) >= 2 ? '..' : '.';
    else seg = trimmed;
    seg = seg.toLowerCase(); // case-insensitive servers
    if (seg === '' || seg === '.') continue; // merged slashes
    if (seg === '..') {
      if (out.length === 0) escaped = true;
      else out.pop();
      continue;
    }
    out.push(seg);
  }
  return { segments: out, escaped };
}

/**
 * Why `forwarded` (path and query, as the upstream received it) resolves outside `shape` (the upstream
 * base path plus the route's template, e.g. `/hotich/:version/danhMuc/*`), or undefined: literal segments
 * must stay in place, a `:param` must stay one segment, a `*` tail may be any number of segments.
 */
export function confinementViolation(shape: string, forwarded: string): string | undefined {
  const q = forwarded.indexOf('?');
  const path = q === -1 ? forwarded : forwarded.slice(0, q);
  if (path.includes('#')) return `fragment in forwarded path ${forwarded}`;
  const got = referenceNormalise(path);
  if (got.escaped) return `${forwarded} climbs above /`;
  const want = shape.split('/').slice(1);
  const wildcard = want.at(-1) === '*';
  const fixed = wildcard ? want.slice(0, -1) : want;
  const resolved = `/${got.segments.join('/')}`;
  if (wildcard ? got.segments.length < fixed.length : got.segments.length !== fixed.length) {
    return `${forwarded} resolves to ${resolved}, not the shape ${shape}`;
  }
  for (const [i, seg] of fixed.entries()) {
    if (!seg.startsWith(':') && got.segments[i] !== seg.toLowerCase()) {
      return `${forwarded} resolves to ${resolved}, outside ${shape}`;
    }
  }
  return undefined;
}
