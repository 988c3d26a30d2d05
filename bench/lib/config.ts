/**
 * The gateway's benchmark config as the harness deploys it: bench/config/*.yaml copied into `tmp` with the
 * shipped MOLISA mapping and catalogues beside it (scenario 2), and the variables that config reads.
 * test/unit/config/bench-config.test.ts loads exactly this, so a config rule added later cannot leave
 * `npm run bench` failing at start without the suite noticing.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.join(benchDir, '..');

/** The config directory, and the variables it reads but the upstream's address (BENCH_UPSTREAM_URL). */
export function prepareBenchConfig(tmp: string): { configDir: string; env: Record<string, string> } {
  const configDir = path.join(tmp, 'config');
  cpSync(path.join(benchDir, 'config'), configDir, { recursive: true });
  for (const dir of ['mappings', 'catalogs']) {
    cpSync(path.join(root, 'config', dir), path.join(configDir, dir), { recursive: true });
  }
  return {
    configDir,
    env: {
      BENCH_CONFIG_DIR: configDir,
      BENCH_SCHEMAS_DIR: path.join(root, 'schemas'),
      BENCH_AUDIT_DIR: path.join(tmp, 'audit'),
      BENCH_DELIVERY_DB: path.join(tmp, 'deliveries.db'),
      BENCH_AUDIT_HMAC_KEY: 'bench-audit-hmac-key-0123456789abcdef-0123456789',
    },
  };
}
