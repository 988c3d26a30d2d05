import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { defaultFactories, gatewayLoadOptions } from '../../../src/app/default-factories.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { systemClock } from '../../../src/config/types.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { buildRuntime, closeRuntime } from '../../../src/runtime/runtime.ts';
import { prepareBenchConfig } from '../../../bench/lib/config.ts';

/**
 * `npm run bench` is not part of the suite, so a config rule added later (issue 16's sender profiles did)
 * could leave the benchmark's gateway refusing to start with nobody noticing until the next measurement.
 * This loads the benchmark config exactly as bench/run.ts deploys it.
 */
describe('benchmark config (bench/config, as bench/run.ts deploys it)', () => {
  let tmp: string;
  beforeEach(() => (tmp = mkdtempSync(path.join(tmpdir(), 'lgsp-bench-config-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('builds (loaded, validated and compiled as the gateway starts it)', async () => {
    const { configDir, env: benchEnv } = prepareBenchConfig(tmp);
    const env = { ...benchEnv, BENCH_UPSTREAM_URL: 'http://127.0.0.1:9' };
    const logger = createLogger({ silent: true });
    const factories = defaultFactories({ configDir, env, logger, clock: systemClock });
    try {
      const runtime = await buildRuntime(loadConfig(configDir, gatewayLoadOptions(env)), {
        factories,
        logger,
        clock: systemClock,
      });
      await closeRuntime(runtime);
      expect(runtime.routeList.map((r) => r.id)).to.deep.equal([
        'ndxp-pass',
        'molisa-dong-bo-dvc',
        'molisa-dong-bo-dvc-queued',
      ]);
    } finally {
      factories.tokenCache.close();
    }
  });
});
