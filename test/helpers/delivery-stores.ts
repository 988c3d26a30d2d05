import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPostgresDeliveryStore } from '../../src/delivery/postgres-store.ts';
import { openSqliteDeliveryStore } from '../../src/delivery/sqlite-store.ts';
import type { DeliveryStore } from '../../src/delivery/store.ts';
import { useFreshSchema, usePostgres } from './postgres.ts';

/**
 * Runs `body` twice: on a SQLite store (a fresh file per test) and on PostgreSQL (a fresh schema per test,
 * dropped after it; skipped with a line where there is no PostgreSQL). `open` opens the test's store; each
 * call is a new connection to the same one, as each CLI command is.
 */
export function onEachStore(title: string, body: (open: () => Promise<DeliveryStore>) => void): void {
  describe(`${title} — SQLite`, () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'lgsp-ops-store-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    body(async () => openSqliteDeliveryStore({ path: path.join(dir, 'deliveries.db') }));
  });
  describe(`${title} — PostgreSQL`, function () {
    this.timeout(30_000);
    const server = usePostgres();
    const schema = useFreshSchema(server, 'lgsp_ops');
    body(async () => openPostgresDeliveryStore({ url: server().url, schema: schema(), poolMax: 2 }));
  });
}
