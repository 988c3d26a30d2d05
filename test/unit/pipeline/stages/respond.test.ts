import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { expect } from 'chai';
import { createSecretMasker } from '../../../../src/logging/secret-masker.ts';
import type { GatewayError } from '../../../../src/errors/gateway-error.ts';
import type { UpstreamResponse } from '../../../../src/upstream/upstream-call.ts';
import { adapt } from '../../../../src/pipeline/stages/adapt.ts';
import { answerLocally, respond } from '../../../../src/pipeline/stages/respond.ts';
import { matchedFixture } from './exchange-fixture.ts';

/** An upstream answer as the managed client hands it over: head known, body relayed, read or discarded. */
function upstreamAnswer(status: number, headers: IncomingHttpHeaders, body: string) {
  const bytes = Buffer.from(body);
  const seen = { relayed: false, read: false, discarded: false };
  const answer = {
    statusCode: status,
    headers,
    bytes: bytes.length,
    relay(res: ServerResponse, onEnd?: () => void, masker?: { push(b: Buffer): Buffer; flush(): Buffer }) {
      seen.relayed = true;
      onEnd?.();
      const out = masker ? Buffer.concat([masker.push(bytes), masker.flush()]) : bytes;
      res.end(out);
    },
    read: async () => ((seen.read = true), bytes),
    discard: () => void (seen.discarded = true),
  } as unknown as UpstreamResponse;
  return { answer, seen };
}

const jsonHead = (body: string) => ({ 'content-type': 'application/json', 'content-length': String(body.length) });

describe('pipeline stage: respond', () => {
  it('relays an answer nothing must read: status, headers minus hop-by-hop, the request id, no cookies', () => {
    const { ex, written } = matchedFixture();
    adapt(ex);
    const { answer, seen } = upstreamAnswer(
      200,
      { ...jsonHead('{}'), connection: 'keep-alive', 'set-cookie': ['s=1'] },
      '{}',
    );
    expect(respond(ex, answer, true)).to.equal('done');
    expect(seen.relayed).to.equal(true);
    expect(written.status).to.equal(200);
    expect(written.headers['x-request-id']).to.equal('req-0001');
    expect(written.headers).to.not.have.property('connection');
    expect(written.headers).to.not.have.property('set-cookie');
    expect(ex.record.status).to.equal(200);
  });

  it('a refused token asks for a replay (credentials invalidated, answer dropped) while one is allowed', () => {
    const invalidated: unknown[] = [];
    const { ex, written } = matchedFixture({ credentials: { invalidate: (call) => invalidated.push(call) } });
    adapt(ex);
    const first = upstreamAnswer(401, {}, '');
    expect(respond(ex, first.answer, true)).to.equal('replay');
    expect(first.seen.discarded).to.equal(true);
    expect(invalidated).to.deep.equal([ex.call]);
    expect(written.status).to.equal(undefined);
    // The last attempt relays whatever comes: the loop ends with an answer.
    const last = upstreamAnswer(401, {}, '');
    expect(respond(ex, last.answer, false)).to.equal('done');
    expect(written.status).to.equal(401);
  });

  it('masks the injected secrets in a relayed answer', () => {
    const secret = 'platform-token-0123456789abcdef';
    const { ex, written } = matchedFixture({
      credentials: { relayMasker: () => createSecretMasker([secret]) },
    });
    adapt(ex);
    ex.masker = createSecretMasker([secret]);
    const body = `{"echo":"${secret}"}`;
    respond(ex, upstreamAnswer(200, jsonHead(body), body).answer, true);
    expect(String(written.body)).to.not.contain(secret);
  });

  it('a response stage reads the answer whole, maps it and writes it with its own length', async () => {
    const { ex, written } = matchedFixture({
      response: { run: (body) => ({ body: { wrapped: body }, errors: [] }), mode: 'enforce' },
    });
    adapt(ex);
    const body = '{"a":12345}';
    const { answer, seen } = upstreamAnswer(200, jsonHead(body), body);
    expect(await respond(ex, answer, true)).to.equal('done');
    expect(seen.read).to.equal(true);
    expect(String(written.body)).to.equal('{"wrapped":{"a":12345}}');
    expect(written.headers['content-length']).to.equal(String(Buffer.byteLength(String(written.body))));
  });

  it('an answer the response schema refuses is a 502 in enforce mode, relayed with a warning in report mode', async () => {
    const errors = [{ pointer: '/a', rule: 'type', message: 'sai kiểu' }];
    const enforce = matchedFixture({ response: { run: (body) => ({ body, errors }), mode: 'enforce' } });
    adapt(enforce.ex);
    const err = (await Promise.resolve(
      respond(enforce.ex, upstreamAnswer(200, jsonHead('{"a":1}'), '{"a":1}').answer, true),
    ).catch((e: unknown) => e)) as GatewayError;
    expect(err.code).to.equal('GW_UPSTREAM_BAD_RESPONSE');
    expect(enforce.ex.record.responseRejected).to.equal(true);

    const report = matchedFixture({ response: { run: (body) => ({ body, errors }), mode: 'report' } });
    adapt(report.ex);
    await respond(report.ex, upstreamAnswer(200, jsonHead('{"a":1}'), '{"a":1}').answer, true);
    expect(report.written.status).to.equal(200);
    expect(String(report.written.body)).to.equal('{"a":1}');
    expect(report.logged.map((l) => l.message)).to.include('response schema violation (report mode)');
  });

  it('an answer that is not JSON is a 502 naming the upstream; the upstream’s own errors pass unchanged', async () => {
    const stage = { run: (body: unknown) => ({ body, errors: [] }), mode: 'enforce' as const };
    const broken = matchedFixture({ response: stage });
    adapt(broken.ex);
    const err = (await Promise.resolve(
      respond(broken.ex, upstreamAnswer(200, jsonHead('<html>'), '<html>').answer, true),
    ).catch((e: unknown) => e)) as GatewayError;
    expect(err.code).to.equal('GW_UPSTREAM_BAD_RESPONSE');
    expect(err.params.upstream).to.equal('molisa');

    const failing = matchedFixture({ response: stage });
    adapt(failing.ex);
    await respond(failing.ex, upstreamAnswer(500, jsonHead('<html>'), '<html>').answer, true);
    expect(failing.written.status).to.equal(500);
    expect(String(failing.written.body)).to.equal('<html>');
  });

  it('a local answer is parsed from the caller’s body and written by the one JSON writer', () => {
    const { ex, route, written } = matchedFixture();
    (route as { answer: unknown }).answer = (body: unknown) => ({ status: 200, body: { got: body } });
    ex.body = Buffer.from('{"username":"u"}');
    answerLocally(ex);
    expect(written.status).to.equal(200);
    expect(JSON.parse(String(written.body))).to.deep.equal({ got: { username: 'u' } });
    expect(written.headers).to.include({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  });
});
