/**
 * The floor for any Node proxy: node:http server, request piped to the upstream through a keep-alive
 * agent, response head and body piped back. No auth, no logging, no header rewriting beyond Host.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { reportReady } from '../lib/child.ts';

const target = new URL(process.env.BENCH_TARGET ?? '');
// Same pool settings as the gateway's upstream agent (src/upstream/upstream-agent.ts, maxSockets 256).
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const headers = { ...req.headers, host: target.host };
  delete headers.connection;
  const proxyReq = http.request(
    { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
    (proxyRes) => {
      res.writeHead(proxyRes.statusCode ?? 502, proxyRes.headers);
      proxyRes.pipe(res);
    },
  );
  proxyReq.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(proxyReq);
});

server.listen(0, '127.0.0.1', () => reportReady((server.address() as AddressInfo).port));
