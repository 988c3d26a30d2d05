import { expect } from 'chai';
import { createLineBatcher } from '../../../src/logging/line-batcher.ts';

describe('logging: line batcher', () => {
  it('writes the lines of one event-loop turn in a single write, in order', async () => {
    const writes: string[] = [];
    const batch = createLineBatcher((chunk) => writes.push(chunk));
    batch.push('a\n');
    batch.push('b\n');
    expect(writes).to.deep.equal([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).to.deep.equal(['a\nb\n']);
  });

  it('flushes at once on demand and when the backlog passes 64 KB', () => {
    const writes: string[] = [];
    const batch = createLineBatcher((chunk) => writes.push(chunk));
    batch.push('x\n');
    batch.flush();
    expect(writes).to.deep.equal(['x\n']);
    batch.push(`${'y'.repeat(70 * 1024)}\n`);
    expect(writes).to.have.length(2);
    batch.flush();
    expect(writes).to.have.length(2);
  });

  it('with maxDelayMs, lines of several turns share one write; flush writes at once and cancels the timer', async () => {
    const writes: string[] = [];
    let written!: () => void;
    const firstWrite = new Promise<void>((resolve) => (written = resolve));
    const batch = createLineBatcher((chunk) => {
      writes.push(chunk);
      written();
    }, 5);
    batch.push('a\n');
    await new Promise((resolve) => setImmediate(resolve));
    batch.push('b\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).to.deep.equal([]); // two turns later: still waiting for the delay
    await firstWrite;
    expect(writes).to.deep.equal(['a\nb\n']);
    batch.push('c\n');
    batch.flush();
    expect(writes).to.deep.equal(['a\nb\n', 'c\n']);
  });
});
