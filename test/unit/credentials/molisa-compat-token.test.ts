import { expect } from 'chai';
import { createMolisaCompatTokenResponder } from '../../../src/credentials/molisa-compat-token.ts';
import { fakeClock } from './helpers.ts';

describe('credentials: MOLISA compatibility GetToken', () => {
  it('answers any well-formed {username, password} with error_code 0 and a fresh opaque token', () => {
    const respond = createMolisaCompatTokenResponder({}, { clock: fakeClock() });
    const a = respond({ username: 'old-user', password: 'old-pass' });
    const b = respond({ username: 'other', password: 'x' });
    expect(a.status).to.equal(200);
    expect(a.body).to.include({ error_code: 0, message: 'Thành công' });
    const tokenA = (a.body as { token: string }).token;
    const tokenB = (b.body as { token: string }).token;
    expect(tokenA).to.match(/^compat-[A-Za-z0-9_-]{32}$/);
    expect(tokenA).to.not.equal(tokenB);
    expect(tokenA).to.not.contain('old-pass');
    expect(Object.keys(a.body as object)).to.deep.equal(['error_code', 'message', 'token']);
  });

  it('adds expires_in and expires_at from the clock when lifetimeSeconds is set', () => {
    const clock = fakeClock(Date.parse('2025-07-01T00:00:00Z'));
    const body = createMolisaCompatTokenResponder(
      { lifetimeSeconds: 1800 },
      { clock },
    )({ username: 'u', password: 'p' }).body as Record<string, unknown>;
    expect(body).to.include({ error_code: 0, expires_in: 1800, expires_at: '2025-07-01T00:30:00.000Z' });
  });

  it('answers a MOLISA-style error for a malformed body', () => {
    const respond = createMolisaCompatTokenResponder({}, { clock: fakeClock() });
    for (const bad of [
      undefined,
      null,
      'x',
      [],
      { username: 'u' },
      { username: '', password: 'p' },
      { username: 'u', password: 1 },
    ]) {
      const answer = respond(bad);
      expect(answer.status, JSON.stringify(bad)).to.equal(400);
      expect((answer.body as { error_code: number }).error_code).to.not.equal(0);
      expect(answer.body).to.not.have.property('token');
    }
    expect((respond({ username: 'u' }).body as { message: string }).message).to.contain('password');
  });
});
