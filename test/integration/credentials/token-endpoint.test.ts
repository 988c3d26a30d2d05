import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import type { PluginRef } from '../../../src/config/types.ts';
import { createCredentialChain, createTokenCache, type OutgoingCall } from '../../../src/credentials/index.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { buildTlsOptions } from '../../../src/upstream/tls.ts';
import { hasOpenssl, makeTestPki } from '../../helpers/pki.ts';
import { rejection } from '../../helpers/rejection.ts';

interface Seen {
  authorization?: string;
  body: string;
  clientCertCN?: string;
}

/** A token endpoint on 127.0.0.1:0 that records what it received. */
function tokenHandler(seen: Seen[], answer: (n: number) => { status: number; body: string } | undefined) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const socket = req.socket as TLSSocket;
      const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
      seen.push({
        authorization: req.headers.authorization,
        body,
        clientCertCN: peer?.subject?.CN as string | undefined,
      });
      const out = answer(seen.length);
      if (!out) return; // never answer: the slow-endpoint case
      res.writeHead(out.status, { 'content-type': 'application/json' }).end(out.body);
    });
  };
}

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function stop(server: http.Server | https.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function chainFor(refs: PluginRef[], tls?: https.AgentOptions) {
  return createCredentialChain(
    refs,
    {
      upstreamId: 'ndxp',
      logger: createLogger({ silent: true }),
      clock: { now: () => Date.now() },
      tokenCache: createTokenCache(),
      tls,
    },
    ['upstreams', 'ndxp', 'credentials'],
  );
}

const outgoing = (): OutgoingCall => ({ method: 'POST', headers: {} });

const failure = (p: Promise<unknown>) => rejection(GatewayError, p);

describe('credentials over real HTTP (token server on 127.0.0.1)', () => {
  it('fetches an OAuth2 client-credentials token once for 50 concurrent applies', async () => {
    const seen: Seen[] = [];
    const server = http.createServer(
      tokenHandler(seen, () => ({ status: 200, body: JSON.stringify({ access_token: 'real-tok', expires_in: 3600 }) })),
    );
    const port = await listen(server);
    try {
      const chain = chainFor([
        {
          type: 'oauth2-client-credentials',
          tokenUrl: `http://127.0.0.1:${port}/token`,
          consumerKey: 'ck',
          consumerSecret: 'cs',
          scope: 's1',
        },
      ]);
      const calls = Array.from({ length: 50 }, outgoing);
      await Promise.all(calls.map((c) => chain.apply(c)));
      expect(calls.every((c) => c.headers.authorization === 'Bearer real-tok')).to.equal(true);
      expect(seen).to.have.length(1);
      expect(seen[0].authorization).to.equal(`Basic ${Buffer.from('ck:cs').toString('base64')}`);
      expect(seen[0].body).to.equal('grant_type=client_credentials&scope=s1');
    } finally {
      await stop(server);
    }
  });

  it('fails with GW_TOKEN_ENDPOINT_FAILED when the token endpoint is down or does not answer in time', async () => {
    const closed = http.createServer();
    const closedPort = await listen(closed);
    await stop(closed);
    const down = chainFor([
      {
        type: 'login-token',
        tokenUrl: `http://127.0.0.1:${closedPort}/GetToken`,
        secrets: { username: 'u', password: 'p' },
      },
    ]);
    expect((await failure(down.apply(outgoing()))).params.reason).to.match(/^request failed \(ECONNREFUSED/);

    const seen: Seen[] = [];
    const silent = http.createServer(tokenHandler(seen, () => undefined));
    const port = await listen(silent);
    try {
      const slow = chainFor([
        {
          type: 'login-token',
          tokenUrl: `http://127.0.0.1:${port}/GetToken`,
          secrets: { username: 'u', password: 'p' },
          timeoutMs: 50,
        },
      ]);
      expect((await failure(slow.apply(outgoing()))).params.reason).to.equal('no answer within 50 ms');
      expect(seen).to.have.length(1);
    } finally {
      await stop(silent);
    }
  });

  describe('https with a private CA and mutual TLS', () => {
    let dir = '';
    before(function () {
      if (!hasOpenssl()) this.skip(); // no openssl CLI on this machine: certificates cannot be generated
      dir = makeTestPki(['lgsp-gateway']);
    });

    it('uses the upstream TLS options for the token call: CA bundle and client certificate', async () => {
      const seen: Seen[] = [];
      const server = https.createServer(
        {
          key: readFileSync(join(dir, 'server.key')),
          cert: readFileSync(join(dir, 'server.pem')),
          ca: readFileSync(join(dir, 'ca.pem')),
          requestCert: true,
          rejectUnauthorized: true,
        },
        tokenHandler(seen, () => ({ status: 200, body: JSON.stringify({ error_code: '0', token: 'tls-tok' }) })),
      );
      const port = await listen(server);
      const ref: PluginRef = {
        type: 'login-token',
        tokenUrl: `https://127.0.0.1:${port}/api/v1/Service/GetToken`,
        secrets: { username: 'u', password: 'p' },
        success: { path: 'error_code', in: [0, '0'] },
        inject: { header: 'AccessKey' },
      };
      const logger = createLogger({ silent: true });
      try {
        const mtls = buildTlsOptions(
          { ca: join(dir, 'ca.pem'), cert: join(dir, 'lgsp-gateway.pem'), key: join(dir, 'lgsp-gateway.key') },
          [],
          logger,
        );
        const c = outgoing();
        await chainFor([ref], mtls).apply(c);
        expect(c.headers.accesskey).to.equal('tls-tok');
        expect(seen[0].clientCertCN).to.equal('lgsp-gateway');

        // Without the private CA the server certificate is not trusted.
        const noCa = await failure(chainFor([ref]).apply(outgoing()));
        expect(noCa.params.reason).to.match(/request failed/);
        // With the CA but no client certificate the server refuses the handshake.
        const noCert = await failure(
          chainFor([ref], buildTlsOptions({ ca: join(dir, 'ca.pem') }, [], logger)).apply(outgoing()),
        );
        expect(noCert.code).to.equal('GW_TOKEN_ENDPOINT_FAILED');
        expect(seen).to.have.length(1);
      } finally {
        await stop(server);
      }
    });
  });
});
