/**
 * The gateway as deployed: createGateway over a config directory, default (winston JSON) logger on stdout,
 * which the harness points at a file.
 */
import { createGateway } from '../../src/app/gateway.ts';
import { reportReady } from '../lib/child.ts';

const configDir = process.env.BENCH_CONFIG_DIR ?? '';
const gateway = await createGateway({ configDir, env: process.env, watch: false });
const { port } = await gateway.listen(0, '127.0.0.1');
reportReady(port, () => gateway.close(1000));
