import net, { type AddressInfo, type Socket } from 'node:net';

/**
 * Raw HTTP/1.1 on both sides of the gateway, for framing tests: a capturing upstream that records every
 * byte it got and the requests it parsed from them (strictly, as RFC 9112 says, or as a lax server that
 * ignores the length on some methods: the CL.0 class), and a caller that writes bytes as given.
 */

export interface ParsedRequest {
  readonly connection: number;
  readonly method: string;
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Every header line, in order, names lower-cased (duplicates visible). */
  readonly lines: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly framing: 'none' | 'length' | 'chunked';
}

export interface UpstreamConnection {
  readonly index: number;
  raw: Buffer;
  readonly requests: ParsedRequest[];
  closed: boolean;
  readonly whenClosed: Promise<void>;
  readonly socket: Socket;
  /** A framing fault the parser met (it then stops and closes, as a strict server would). */
  fault?: string;
}

export interface CapturingUpstreamOptions {
  /** Methods on which Content-Length / Transfer-Encoding are ignored (a lax server: the CL.0 class). */
  readonly ignoreBodyOn?: readonly string[];
  /** Answer right after the head, before reading the body (an early answer). */
  readonly answerEarly?: (req: { method: string; target: string }) => boolean;
  /** Do not answer this request at all (until the connection closes). */
  readonly hold?: (req: ParsedRequest) => boolean;
  /** A raw answer of one's own; default: 200 with a JSON summary of what was parsed. */
  readonly answer?: (req: ParsedRequest) => string | undefined;
}

export interface CapturingUpstream {
  readonly url: string;
  readonly connections: UpstreamConnection[];
  /** Every request parsed on every connection, in the order they were parsed. */
  requests(): ParsedRequest[];
  /** All bytes received, on all connections. */
  bytes(): number;
  close(): Promise<void>;
}

export async function startCapturingUpstream(options: CapturingUpstreamOptions = {}): Promise<CapturingUpstream> {
  const connections: UpstreamConnection[] = [];
  const all: ParsedRequest[] = [];
  const ignoreBodyOn = new Set(options.ignoreBodyOn ?? []);
  const server = net.createServer((socket) => {
    let resolveClosed!: () => void;
    const conn: UpstreamConnection = {
      index: connections.length,
      raw: Buffer.alloc(0),
      requests: [],
      closed: false,
      whenClosed: new Promise<void>((r) => (resolveClosed = r)),
      socket,
    };
    connections.push(conn);
    let offset = 0;
    let earlyAnswered = -1;
    let stopped = false;
    socket.on('data', (chunk: Buffer) => {
      conn.raw = Buffer.concat([conn.raw, chunk]);
      while (!stopped) {
        const parsed = parseRequest(conn.raw, offset, ignoreBodyOn);
        if (parsed === 'incomplete') return;
        if (typeof parsed === 'string') {
          conn.fault = parsed;
          stopped = true;
          socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
          return;
        }
        if ('head' in parsed) {
          // Head complete, body not yet: an early answer goes out now, once.
          if (earlyAnswered !== offset && options.answerEarly?.(parsed.head)) {
            earlyAnswered = offset;
            socket.write(summaryAnswer(conn.index, conn.requests.length, parsed.head.method, parsed.head.target));
          }
          return;
        }
        const req: ParsedRequest = { ...parsed.request, connection: conn.index };
        const early = earlyAnswered === offset;
        offset = parsed.end;
        conn.requests.push(req);
        all.push(req);
        const close = /(^|,)\s*close\s*(,|$)/i.test(req.headers.connection ?? '');
        if (!early && !options.hold?.(req)) {
          const answer =
            options.answer?.(req) ?? summaryAnswer(conn.index, conn.requests.length - 1, req.method, req.target);
          socket.write(answer);
        }
        if (close) {
          // RFC 9112 §9.6: after `Connection: close`, nothing more on this connection is processed.
          stopped = true;
          socket.end();
          return;
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      conn.closed = true;
      resolveClosed();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    requests: () => all,
    bytes: () => connections.reduce((n, c) => n + c.raw.length, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function summaryAnswer(connection: number, index: number, method: string, target: string): string {
  const body = JSON.stringify({ connection, index, method, target });
  return `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

type ParseResult =
  | 'incomplete'
  | string
  | { head: { method: string; target: string } }
  | { request: Omit<ParsedRequest, 'connection'>; end: number };

/** One request from `buf` at `start`, strictly (RFC 9112 §6.3), except the lax methods of `ignoreBodyOn`. */
function parseRequest(buf: Buffer, start: number, ignoreBodyOn: ReadonlySet<string>): ParseResult {
  if (start >= buf.length) return 'incomplete';
  const headEnd = buf.indexOf('\r\n\r\n', start);
  if (headEnd === -1) return 'incomplete';
  const headText = buf.toString('latin1', start, headEnd);
  const [requestLine, ...headerLines] = headText.split('\r\n');
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine);
  if (!m) return `bad request line ${JSON.stringify(requestLine.slice(0, 80))}`;
  const lines: [string, string][] = [];
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) return `bad header line ${JSON.stringify(line.slice(0, 80))}`;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    lines.push([name, value]);
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const [, method, target] = m;
  const bodyStart = headEnd + 4;
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  if (ignoreBodyOn.has(method)) {
    return { request: { method, target, headers, lines, body: Buffer.alloc(0), framing: 'none' }, end: bodyStart };
  }
  if (te !== undefined && cl !== undefined) return 'both Content-Length and Transfer-Encoding';
  if (te !== undefined) {
    if (te.toLowerCase() !== 'chunked') return `transfer-encoding ${te}`;
    const chunks: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd === -1) return { head: { method, target } };
      const sizeText = buf.toString('latin1', at, lineEnd).split(';')[0];
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return `bad chunk size ${JSON.stringify(sizeText)}`;
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        const trailerEnd = buf.indexOf('\r\n', lineEnd + 2);
        if (trailerEnd !== lineEnd + 2) return trailerEnd === -1 ? { head: { method, target } } : 'trailers';
        const body = Buffer.concat(chunks);
        return { request: { method, target, headers, lines, body, framing: 'chunked' }, end: trailerEnd + 2 };
      }
      if (buf.length < lineEnd + 2 + size + 2) return { head: { method, target } };
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      if (buf.toString('latin1', lineEnd + 2 + size, lineEnd + 4 + size) !== '\r\n')
        return 'chunk not followed by CRLF';
      at = lineEnd + 4 + size;
    }
  }
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) return `content-length ${cl}`;
    const length = Number(cl);
    if (buf.length < bodyStart + length) return { head: { method, target } };
    const body = buf.subarray(bodyStart, bodyStart + length);
    return {
      request: { method, target, headers, lines, body, framing: length > 0 ? 'length' : 'none' },
      end: bodyStart + length,
    };
  }
  return { request: { method, target, headers, lines, body: Buffer.alloc(0), framing: 'none' }, end: bodyStart };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export interface RawExchange {
  /** Complete responses parsed from what the gateway wrote back, in order. */
  readonly responses: RawResponse[];
  /** True when the gateway closed (or reset) the connection. */
  readonly closed: boolean;
  readonly raw: string;
}

/**
 * Writes `parts` to the gateway one after the other (each after the previous was flushed) and collects
 * what comes back until the gateway closes the connection or `expect` complete responses are in; then
 * ends its side. `abortAfterWrite`: destroy the socket after the parts are written instead (a caller
 * that leaves mid-body); `leaveWhen`: destroy it when that promise settles (a caller that stops waiting).
 */
export function rawExchange(
  url: string,
  parts: readonly (string | Buffer)[],
  options: { expect?: number; abortAfterWrite?: boolean; leaveWhen?: Promise<unknown> } = {},
): Promise<RawExchange> {
  const { port } = new URL(url);
  const expected = options.expect ?? 1;
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ responses: parseResponses(received), closed, raw: received.toString('latin1') });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parseResponses(received).length >= expected && !options.abortAfterWrite) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.once('connect', async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        await new Promise<void>((r) => socket.write(part, () => r()));
      }
      if (options.abortAfterWrite) {
        socket.destroy();
        finish(false);
      }
      if (options.leaveWhen) {
        await options.leaveWhen;
        finish(false);
      }
    });
  });
}

/** The complete responses at the start of `buf` (Content-Length or chunked bodies). */
export function parseResponses(buf: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const headEnd = buf.indexOf('\r\n\r\n', at);
    if (headEnd === -1) return out;
    const [statusLine, ...lines] = buf.toString('latin1', at, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body: Buffer;
    let end: number;
    if (headers['transfer-encoding'] === 'chunked') {
      const chunks: Buffer[] = [];
      let p = headEnd + 4;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', p);
        if (lineEnd === -1) return out;
        const size = parseInt(buf.toString('latin1', p, lineEnd), 16);
        if (size === 0) {
          if (buf.length < lineEnd + 4) return out;
          end = lineEnd + 4;
          break;
        }
        if (buf.length < lineEnd + 4 + size) return out;
        chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 4 + size;
      }
      body = Buffer.concat(chunks);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (buf.length < headEnd + 4 + length) return out;
      body = buf.subarray(headEnd + 4, headEnd + 4 + length);
      end = headEnd + 4 + length;
    }
    out.push({ status, headers, body, json: <T>() => JSON.parse(body.toString('utf8')) as T });
    at = end;
  }
}
