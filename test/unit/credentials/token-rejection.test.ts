import { expect } from 'chai';
import { Value } from 'typebox/value';
import {
  compileTokenRejected,
  TokenRejectedSchema,
  type TokenRejectedOptions,
} from '../../../src/credentials/token-rejection.ts';

/** Compiles a `tokenRejected:` block with its schema defaults filled in, as the plug-in loader does. */
const compile = (block: object) =>
  compileTokenRejected(Value.Default(TokenRejectedSchema, structuredClone(block)) as TokenRejectedOptions, []);

const buf = (s: string) => Buffer.from(s);

describe('credentials: tokenRejected signals on raw answers', () => {
  const molisa = compile({ when: [{ path: 'error_code', in: [2, '2'] }] });

  it('401 by default; MOLISA error_code 2 in a 200 answer, as a Buffer, a string or parsed', () => {
    expect(molisa(401, undefined)).to.equal(true);
    expect(molisa.inspectsBody).to.equal(true);
    expect(molisa(200, buf('{"error_code":2,"message":"Token hết hạn"}'))).to.equal(true);
    expect(molisa(200, '{"error_code":"2"}')).to.equal(true);
    expect(molisa(200, { error_code: 2 })).to.equal(true);
    expect(molisa(200, buf('{"error_code":0,"message":"ok"}'))).to.equal(false);
  });

  it('an answer without the key is not a rejection (and needs no parse); nor is text that is not JSON', () => {
    expect(molisa(200, buf('{"data":[1,2,3],"message":"error code 2"}'))).to.equal(false);
    expect(molisa(200, buf('<html>error_code 2</html>'))).to.equal(false);
  });

  it('a key spelled with a \\u escape is still found (the raw pre-check lets it through to the parser)', () => {
    expect(molisa(200, buf('{"error\\u005fcode":2}'))).to.equal(true);
  });

  it('a nested path is matched by its last key; a path ending in an array index always parses', () => {
    const nested = compile({ when: [{ path: 'result.code', in: ['TOKEN_EXPIRED'] }] });
    expect(nested(200, buf('{"result":{"code":"TOKEN_EXPIRED"}}'))).to.equal(true);
    expect(nested(200, buf('{"result":{"status":"TOKEN_EXPIRED"}}'))).to.equal(false);
    const indexed = compile({ when: [{ path: 'errors.0', in: ['expired'] }] });
    expect(indexed(200, buf('{"errors":["expired"]}'))).to.equal(true);
  });

  it('a message-only signal looks for its message key', () => {
    const byMessage = compile({ when: [{ messagePath: 'message', messageMatches: 'token.*hết hạn' }] });
    expect(byMessage(200, buf('{"message":"Token đã hết hạn"}'))).to.equal(true);
    expect(byMessage(200, buf('{"msg":"Token đã hết hạn"}'))).to.equal(false);
  });
});
