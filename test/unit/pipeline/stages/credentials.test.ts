import { expect } from 'chai';
import { credentials, replayCall } from '../../../../src/pipeline/stages/credentials.ts';
import { adapt } from '../../../../src/pipeline/stages/adapt.ts';
import { matchedFixture } from './exchange-fixture.ts';

describe('pipeline stage: credentials', () => {
  it('applies without waiting when every credential is at hand', () => {
    const { ex } = matchedFixture();
    adapt(ex);
    expect(credentials(ex)).to.equal(undefined);
    expect(ex.call.headers.authorization).to.equal('Bearer cached');
  });

  it('otherwise returns the promise of applying them (a token fetched)', async () => {
    const { ex } = matchedFixture({ credentials: { applyCached: () => false } });
    adapt(ex);
    const applying = credentials(ex);
    expect(applying).to.be.instanceOf(Promise);
    await applying;
    expect(ex.call.headers.authorization).to.equal('Bearer fresh');
  });

  it('a strategy failure is the exchange’s failure', async () => {
    const { ex } = matchedFixture({
      credentials: { applyCached: () => false, apply: () => Promise.reject(new Error('token endpoint down')) },
    });
    adapt(ex);
    const err = await credentials(ex)!.catch((e: unknown) => e);
    expect((err as Error).message).to.equal('token endpoint down');
  });

  it('a replayed call gets fresh headers: the refused call keeps the token it carried', () => {
    const { ex } = matchedFixture();
    adapt(ex);
    credentials(ex);
    const refused = ex.call;
    replayCall(ex);
    ex.call.headers.authorization = 'Bearer renewed';
    expect(refused.headers.authorization).to.equal('Bearer cached');
    expect(ex.call).to.not.equal(refused);
    expect(ex.call).to.include({ method: refused.method, query: refused.query });
  });
});
