import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** What one settling did: resident memory before and after, and how long the collection held the thread. */
export interface HeapSettled {
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  readonly ms: number;
}

/**
 * Gives back the memory that building the gateway used and no longer needs, once, before it listens.
 *
 * Building the runtime (YAML parsed with positions, every schema compiled by Ajv, the sandbox) allocates
 * fast enough that V8 grows its young generation to its maximum (64 MB here) and keeps those pages
 * when the build is over: the gateway rested at ~190 MB of which ~65 MB were empty young-generation pages
 * and ~40 MB an old generation mostly free (docs/benchmarks.md, RSS at rest). A last-resort collection
 * (the one V8 runs on a low-memory notification) compacts the old generation and shrinks the young one
 * to its minimum; under load it grows again as the traffic asks. Only the `start` command calls this: a
 * test process builds many gateways and would pay the pause each time. A reload does not: it runs on the
 * event loop with traffic waiting.
 *
 * Node offers no API for that notification; V8's `gc` extension reaches it (`flavor: 'last-resort'`). The
 * extension is enabled for the one context made here and disabled again, so no later context sees `gc`
 * (test/unit/app/settle-heap.test.ts). Where it is not available the call does nothing.
 */
export function settleHeap(): HeapSettled | undefined {
  let gc: ((options: object) => void) | undefined;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as (options: object) => void;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  if (typeof gc !== 'function') return undefined;
  const mb = (bytes: number) => Math.round(bytes / 1048576);
  const rssBeforeMb = mb(process.memoryUsage.rss());
  const started = performance.now();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { rssBeforeMb, rssAfterMb: mb(process.memoryUsage.rss()), ms: Math.round(performance.now() - started) };
}
