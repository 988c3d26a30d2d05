/**
 * Preloaded (`--expose-gc --import`) into the gateway by `bench/rest-rss.ts --heap`. On SIGUSR2 it runs two
 * full collections and writes the V8 heap used, its total and the external memory (MB), and the number of
 * CommonJS modules loaded, to REST_HEAP_FILE as JSON. Heap used after a full collection does not move
 * between runs of one tree (±0.02 MB), where RSS moves by several MB: it shows what a change bought.
 * Plain JavaScript: a `.ts` preload would load Node's type stripper into the gateway (~10 MB).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = process.env.REST_HEAP_FILE;
const gc = globalThis.gc;
if (file && gc) {
  process.on('SIGUSR2', () => {
    gc();
    gc();
    const mem = process.memoryUsage();
    const mb = (bytes) => Math.round((bytes / 1048576) * 100) / 100;
    const cjs = Object.keys(createRequire(import.meta.url).cache).length;
    const report = { heapUsed: mb(mem.heapUsed), heapTotal: mb(mem.heapTotal), external: mb(mem.external), cjs };
    writeFileSync(`${file}.part`, JSON.stringify(report));
    renameSync(`${file}.part`, file);
  });
}
