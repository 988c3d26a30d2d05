/**
 * Preloaded into a bench child by bench/alloc.ts (`--import`). From one SIGUSR2 to the next it samples the
 * V8 heap spaces every 20 ms and keeps the sample taken when the resident set was largest; the second
 * SIGUSR2 writes that to BENCH_HEAP_FILE.json. When BENCH_HEAP_PROFILE is set, the same window also
 * takes a sampling heap profile of what the child allocates, collected objects included (young and old
 * generation), written to BENCH_HEAP_FILE.heapprofile.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';

const file = process.env.BENCH_HEAP_FILE;
const writeAtomic = (name: string, text: string) => {
  writeFileSync(`${name}.part`, text);
  renameSync(`${name}.part`, name);
};

const snapshot = () => {
  const mem = process.memoryUsage();
  const spaces = Object.fromEntries(
    v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]),
  );
  return { rss: mem.rss, heapTotal: mem.heapTotal, heapUsed: mem.heapUsed, external: mem.external, spaces };
};

if (file) {
  const session = process.env.BENCH_HEAP_PROFILE ? new Session() : undefined;
  session?.connect();
  await session?.post('HeapProfiler.enable');
  let timer: NodeJS.Timeout | undefined;
  let peak: ReturnType<typeof snapshot> | undefined;
  let start: ReturnType<typeof snapshot> | undefined;
  process.on('SIGUSR2', () => {
    if (!timer) {
      start = snapshot();
      peak = start;
      timer = setInterval(() => {
        const s = snapshot();
        if (s.rss > peak!.rss) peak = s;
      }, 20);
      void session?.post('HeapProfiler.startSampling', {
        samplingInterval: Number(process.env.BENCH_HEAP_INTERVAL ?? 1024),
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
      return;
    }
    clearInterval(timer);
    timer = undefined;
    const done = session
      ? session.post('HeapProfiler.stopSampling').then((r) => {
          writeAtomic(`${file}.heapprofile`, JSON.stringify((r as { profile: unknown }).profile));
        })
      : Promise.resolve();
    void done.then(() => writeAtomic(`${file}.json`, JSON.stringify({ start, peak, end: snapshot() })));
  });
}
