import http from 'node:http';
import https from 'node:https';

/** One call to a token endpoint. */
export interface TokenHttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** TLS options toward the upstream (private CA, client certificate); used for https URLs. */
  tls?: https.AgentOptions;
  /** Answers larger than this are refused (a token answer is a few hundred bytes). */
  maxBytes?: number;
}

export interface TokenHttpResponse {
  status: number;
  contentType: string;
  text: string;
}

/**
 * Sends a token request with node:http/node:https (not global fetch) so the upstream's TLS options
 * apply. Rejects with an Error whose message is a short reason safe to show (no body, no secret).
 * The timeout covers the whole exchange, connect to last byte.
 */
export function sendTokenRequest(req: TokenHttpRequest): Promise<TokenHttpResponse> {
  const url = new URL(req.url);
  const isHttps = url.protocol === 'https:';
  const maxBytes = req.maxBytes ?? 1024 * 1024;
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  const options: https.RequestOptions = {
    method: req.method,
    headers,
    // A fresh connection per token call: they are rare, and no idle socket outlives a config reload.
    agent: false,
    ...(isHttps ? { ...req.tls } : {}),
  };
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      reject(new Error(reason));
    };
    const request = (isHttps ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(`answer larger than ${maxBytes} bytes`);
        else chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolvePromise({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', (err) => fail(`answer interrupted (${describeSocketError(err)})`));
    });
    const timer = setTimeout(() => fail(`no answer within ${req.timeoutMs} ms`), req.timeoutMs);
    request.on('error', (err) => fail(`request failed (${describeSocketError(err)})`));
    request.end(req.body);
  });
}

function describeSocketError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code}: ${err.message}` : err.message;
}
