/**
 * Benchmark upstream and token server. Answers every call with the same ~2 KB JSON body. Paths under
 * /secured require the bearer token it issues at POST /oauth2/token (so the gateway's token injection is
 * checked on every call: a missing token is a 401, which fails the benchmark). Paths under /molisa require the
 * MOLISA AccessKey issued at /molisa-token/GetToken. Bodies are read to the end
 * and their length checked against Content-Length.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { reportReady } from '../lib/child.ts';

const TOKEN = 'bench-access-token-7f3a9c';
const MOLISA_TOKEN = 'bench-molisa-access-key-51c2e0';
const BASIC = `Basic ${Buffer.from('bench-platform-key:bench-platform-secret').toString('base64')}`;

/** A document shaped like an NDXP lookup answer, about 2 KB. */
function makeBody(): Buffer {
  const items = [];
  for (let i = 0; i < 12; i++) {
    items.push({
      maThuTuc: `1.00${1200 + i}`,
      tenThuTuc: `Thủ tục hành chính mẫu số ${i}`,
      coQuan: 'Sở Tư pháp',
      trangThai: i % 3 === 0 ? 'DA_TIEP_NHAN' : 'DANG_XU_LY',
      ngay: '2025-07-01T02:00:00Z',
    });
  }
  return Buffer.from(JSON.stringify({ status: 'OK', total: items.length, items }));
}
const BODY = makeBody();
const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(BODY.length) };

const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  let size = 0;
  req.on('data', (chunk: Buffer) => (size += chunk.length));
  req.on('end', () => {
    const url = req.url ?? '/';
    if (url === '/oauth2/token') {
      if (req.headers.authorization !== BASIC) return reply(res, 401, '{"error":"invalid_client"}');
      return reply(res, 200, JSON.stringify({ access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 }));
    }
    if (url === '/molisa-token/GetToken') {
      return reply(res, 200, JSON.stringify({ error_code: 0, message: 'Thành công', token: MOLISA_TOKEN }));
    }
    if (url.startsWith('/molisa/') && req.headers.accesskey !== MOLISA_TOKEN) {
      // MOLISA itself says 200 + error_code 2; 401 as well here, so a missing AccessKey fails the benchmark.
      return reply(res, 401, '{"error_code":2,"message":"token không hợp lệ"}');
    }
    if (url.startsWith('/secured/') && req.headers.authorization !== `Bearer ${TOKEN}`) {
      return reply(res, 401, '{"error":"invalid_token"}');
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) !== size) return reply(res, 400, '{"error":"short body"}');
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
});

function reply(res: http.ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

server.listen(0, '127.0.0.1', () => reportReady((server.address() as AddressInfo).port));
