import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { outgoingHeaders, relayableResponseHeaders } from '../../../src/upstream/headers.ts';

function request(headers: Record<string, string | string[]>, remoteAddress = '::ffff:10.1.2.3'): IncomingMessage {
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

describe('upstream headers', () => {
  const info = { requestId: 'r-1', proto: 'http' as const, dropAuthorization: false };

  it('forwards end-to-end headers in order and drops hop-by-hop, framing, chain and the gateway credentials', () => {
    const out = outgoingHeaders(
      request({
        host: 'gw.example:8080',
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        'content-length': '12',
        'transfer-encoding': 'chunked',
        expect: '100-continue',
        'x-api-key': 'k',
        'x-admin-key': 'a',
        'x-forwarded-for': '6.6.6.6',
        forwarded: 'for=6.6.6.6',
        'x-request-id': 'caller',
        'x-original-url': '/admin',
        'x-http-method-override': 'DELETE',
        'x-real-ip': '6.6.6.6',
        accept: 'application/json',
        authorization: 'Basic abc',
        'user-agent': 'ua',
      }),
      info,
    );
    expect(out).to.deep.equal({
      accept: 'application/json',
      authorization: 'Basic abc',
      'user-agent': 'ua',
      'x-forwarded-for': '10.1.2.3',
      forwarded: 'for=10.1.2.3;proto=http;host="gw.example:8080"',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'gw.example:8080',
      'x-request-id': 'r-1',
    });
    expect(Object.keys(out).slice(0, 3)).to.deep.equal(['accept', 'authorization', 'user-agent']);
  });

  it('drops Authorization after a JWT, lets listed routing overrides through, honours Connection tokens', () => {
    const out = outgoingHeaders(
      request({
        connection: 'Keep-Alive, X-Private-Hop, content-length, X-Forwarded-For',
        'x-private-hop': '1',
        'x-original-url': '/a',
        'x-real-ip': '1.1.1.1',
        authorization: 'Bearer t',
        host: 'h"\\x',
      }),
      { ...info, dropAuthorization: true, allowHeaders: new Set(['x-real-ip']) },
    );
    expect(out).to.not.have.any.keys('authorization', 'x-private-hop', 'x-original-url', 'connection');
    expect(out['x-real-ip']).to.equal('1.1.1.1');
    expect(out.forwarded).to.equal('for=10.1.2.3;proto=http;host="h\\"\\\\x"');
  });

  it('relays answer headers less hop-by-hop ones and those the upstream names in Connection (never the framing)', () => {
    expect(
      relayableResponseHeaders({
        connection: 'close',
        'keep-alive': 'timeout=5',
        'content-length': '2',
        'x-a': '1',
      }),
    ).to.deep.equal({ 'content-length': '2', 'x-a': '1' });
    expect(
      relayableResponseHeaders({ connection: 'x-a, Content-Length', 'content-length': '2', 'x-a': '1', 'x-b': '2' }),
    ).to.deep.equal({ 'content-length': '2', 'x-b': '2' });
  });
});
