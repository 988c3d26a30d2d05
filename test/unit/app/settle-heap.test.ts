import { expect } from 'chai';
import { runInNewContext } from 'node:vm';
import { settleHeap } from '../../../src/app/settle-heap.ts';

/** The start command's one collection before listening (issue 19, RSS at rest). */
describe('settleHeap (src/app/settle-heap.ts)', () => {
  it('collects once and reports resident memory before and after, in whole MB', () => {
    // Garbage the young generation holds: what the collection is there to give back.
    let junk: unknown[] | undefined = Array.from({ length: 50_000 }, (_, i) => ({ i, s: `x${i}` }));
    expect(junk.length).to.equal(50_000);
    junk = undefined;
    const settled = settleHeap();
    expect(settled, 'the V8 gc extension is reachable on Node 24').to.not.equal(undefined);
    expect(Number.isInteger(settled!.rssBeforeMb) && settled!.rssBeforeMb > 0).to.equal(true);
    expect(Number.isInteger(settled!.rssAfterMb) && settled!.rssAfterMb > 0).to.equal(true);
    expect(settled!.ms).to.be.at.least(0);
  });

  it('leaves no `gc` function to later contexts (the flag is turned off again)', () => {
    settleHeap();
    expect(runInNewContext('typeof gc')).to.equal('undefined');
    expect(typeof (globalThis as { gc?: unknown }).gc).to.equal('undefined');
  });
});
