import { findLeaks, registryStats } from './written-registry.ts';

/**
 * Mocha root hooks (loaded with `--require`, see .mocharc.json). The afterAll runs once, after every test
 * file of the run, so the leak check covers the whole suite regardless of file order or which subset ran.
 */
export const mochaHooks = {
  afterAll(this: { timeout(ms: number): void }) {
    this.timeout(60_000);
    const findings = findLeaks();
    if (findings.length > 0) {
      const shown = findings
        .slice(0, 20)
        .map((f) => `  ${f.what} in ${f.source}: ${f.excerpt}`)
        .join('\n');
      throw new Error(
        `${findings.length} ID number(s) or secret(s) written in clear by the gateway during the run ` +
          `(${JSON.stringify(registryStats())}):\n${shown}`,
      );
    }
  },
};
