/**
 * The gateway as deployed: createGateway over a config directory, default (winston JSON) logger on stdout,
 * which the harness points at a file, and the heap settled before listening as `lgsp-gateway start` does
 * (src/app/settle-heap.ts). BENCH_GATEWAY_MODULE: the compiled build's app/gateway.js to run instead of the
 * TypeScript sources (`node bench/run.ts --compiled`: what the image runs).
 *
 * Without the settling, the young generation the traffic meets is whatever size the build's garbage grew
 * it to (64 MB after one build, 32 after a build that allocates less), and the peak RSS at 1,000
 * connections followed that: a smaller young generation at the ramp-up promoted 1-5 KB per GET instead
 * of ~0.2 and peaked 50-100 MB higher (docs/benchmarks.md, "Memory at rest"). Settled, every build starts from the same state.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as GatewayModule from '../../src/app/gateway.ts';
import type * as SettleModule from '../../src/app/settle-heap.ts';
import { reportReady } from '../lib/child.ts';

const gatewayModule = process.env.BENCH_GATEWAY_MODULE;
const { createGateway } = (await import(gatewayModule ?? '../../src/app/gateway.ts')) as typeof GatewayModule;
// settle-heap beside the gateway module run (app/settle-heap.js of a build, app/settle-heap.ts of sources).
const settleModule = gatewayModule
  ? pathToFileURL(path.resolve(gatewayModule).replace(/gateway\.(js|ts)$/, 'settle-heap.$1')).href
  : '../../src/app/settle-heap.ts';
// A tree from before settle-heap.ts existed (bench/gateway-ab.ts's "before") runs unsettled, and says so.
const settleHeap = await import(settleModule).then(
  (m: typeof SettleModule) => m.settleHeap,
  () => () => void process.stderr.write(`bench: no ${settleModule}: the heap is not settled\n`),
);
const configDir = process.env.BENCH_CONFIG_DIR ?? '';
const gateway = await createGateway({ configDir, env: process.env, watch: false });
settleHeap();
const { port } = await gateway.listen(0, '127.0.0.1');
reportReady(port, () => gateway.close(1000));
