/**
 * The floor for a Node proxy that changes a JSON body (scenario 2's third target, "json floor"): the bare
 * proxy (bare-proxy.ts) plus the least any such proxy must do with the body — read it whole, `JSON.parse`
 * it, write it back with `Buffer.from(JSON.stringify(...))` and a new Content-Length — and with the answer
 * — read it whole and `JSON.parse` it (a proxy that must not answer success for a failure has to look
 * into a 200 carrying `error_code`, as MOLISA's do). No mapping, no schema, no auth, no credential, no
 * audit, no metrics, no logging: the gateway over this floor is what its own steps cost, the floor over
 * the bare proxy what touching JSON at all costs. Same agent settings as bare-proxy.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { reportReady } from '../lib/child.ts';

const target = new URL(process.env.BENCH_TARGET ?? '');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });

function readAll(stream: http.IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const fail = (status: number) => {
    if (!res.headersSent) res.writeHead(status);
    res.end();
  };
  readAll(req, (raw) => {
    let body: Buffer;
    try {
      body = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    } catch {
      return fail(400);
    }
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers.connection;
    const proxyReq = http.request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (proxyRes) =>
        readAll(proxyRes, (answer) => {
          try {
            JSON.parse(answer.toString('utf8'));
          } catch {
            return fail(502);
          }
          res.writeHead(proxyRes.statusCode ?? 502, proxyRes.headers);
          res.end(answer);
        }),
    );
    proxyReq.on('error', () => fail(502));
    proxyReq.end(body);
  });
});

server.listen(0, '127.0.0.1', () => reportReady((server.address() as AddressInfo).port));
