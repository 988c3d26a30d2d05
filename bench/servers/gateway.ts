/**
 * The gateway as deployed: createGateway over a config directory, default (winston JSON) logger on stdout,
 * which the harness points at a file. BENCH_GATEWAY_MODULE: the compiled build's app/gateway.js to run
 * instead of the TypeScript sources (`node bench/run.ts --compiled`: what the image runs).
 */
import type * as GatewayModule from '../../src/app/gateway.ts';
import { reportReady } from '../lib/child.ts';

const { createGateway } = (await import(
  process.env.BENCH_GATEWAY_MODULE ?? '../../src/app/gateway.ts'
)) as typeof GatewayModule;
const configDir = process.env.BENCH_CONFIG_DIR ?? '';
const gateway = await createGateway({ configDir, env: process.env, watch: false });
const { port } = await gateway.listen(0, '127.0.0.1');
reportReady(port, () => gateway.close(1000));
