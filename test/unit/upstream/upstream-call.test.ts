import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Pool } from 'undici';
import { callUpstream, type UpstreamTarget } from '../../../src/upstream/upstream-call.ts';

describe('upstream call (managed client)', () => {
  let server: http.Server;
  let target: UpstreamTarget;
  const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/base/`);
    target = {
      id: 'up',
      url,
      basePath: '/base',
      agent: new http.Agent(),
      dispatcher: new Pool(url.origin),
      connectTimeoutMs: 2000,
      responseTimeoutMs: 2000,
    };
  });
  after(async () => {
    await (target.dispatcher as Pool).close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('never sends framing it was handed (Host, Content-Length, Expect): the client frames the body itself', async () => {
    const headers = {
      host: 'attacker.example',
      'content-length': '999',
      expect: '100-continue',
      'x-kept': 'yes',
    };
    const answer = await callUpstream(target, { method: 'POST', path: '/p?q=1', headers, body: Buffer.from('abc') });
    answer.discard();
    const got = seen.at(-1)!;
    expect(got.url).to.equal('/base/p?q=1');
    expect(got.headers.host).to.equal(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect(got.headers['content-length']).to.equal('3');
    expect(got.headers).to.not.have.property('expect');
    expect(got.headers['x-kept']).to.equal('yes');
    expect(got.body).to.equal('abc');
    expect(headers, 'the caller’s object is left as it was').to.have.property('host', 'attacker.example');
  });

  it('sends headers without framing as they are, and a base path without its trailing slash', async () => {
    const answer = await callUpstream(target, {
      method: 'GET',
      path: '/x',
      headers: { 'x-a': '1', 'x-b': ['2', '3'] },
    });
    answer.discard();
    const got = seen.at(-1)!;
    expect(got.url).to.equal('/base/x');
    expect(got.headers['x-a']).to.equal('1');
    expect(got.headers['x-b']).to.equal('2, 3');
  });
});
