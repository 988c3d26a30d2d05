import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from './http.ts';

const run = promisify(execFile);

/**
 * PostgreSQL for the tests: `LGSP_TEST_DATABASE_URL` when set (a database the suite may create and drop
 * schemas in), else a throw-away cluster of Debian's server (`/usr/lib/postgresql/<v>/bin`, which .ci/run
 * installs) started for the suite: initdb into a temp dir, loopback on a free port, a random password,
 * fsync off; stopped and removed after it. initdb refuses root: as root the cluster runs as the `postgres`
 * user (runuser). Where there is neither, the PostgreSQL suites skip with a line saying why.
 */

export interface PostgresServer {
  /** A URL with the password in it: a secret like any other (never printed). */
  readonly url: string;
  /** Opens a connection for the test's own housekeeping (creating and dropping schemas). */
  admin(): postgres.Sql;
  stop(): Promise<void>;
}

/** The newest Debian PostgreSQL server's bin directory, or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')) && existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : undefined;
}

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.LGSP_TEST_DATABASE_URL) return undefined;
  if (!postgresBinDir())
    return 'no PostgreSQL server (/usr/lib/postgresql/*/bin/postgres; `apt-get install postgresql`) and no LGSP_TEST_DATABASE_URL';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0)
    return 'running as root and no `postgres` user to run the server as (initdb refuses root)';
  if (process.getuid?.() === 0 && spawnSync('runuser', ['--help']).error)
    return 'running as root and no `runuser` (util-linux) to start the server as the `postgres` user';
  return undefined;
}

const adminOf = (url: string) => () => postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 10 });

/** Starts a throw-away cluster (or takes LGSP_TEST_DATABASE_URL), resolved once it accepts connections. */
export async function startPostgres(env: NodeJS.ProcessEnv = process.env): Promise<PostgresServer> {
  if (env.LGSP_TEST_DATABASE_URL) {
    const url = env.LGSP_TEST_DATABASE_URL;
    return { url, admin: adminOf(url), stop: async () => {} };
  }
  const bin = postgresBinDir()!;
  const asRoot = process.getuid?.() === 0;
  // As root, under /tmp: the postgres user must be able to reach it (a TMPDIR under /root would not do).
  const dir = mkdtempSync(path.join(asRoot ? '/tmp' : os.tmpdir(), 'lgsp-pg-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  writeFileSync(path.join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  let owner: { uid: number; gid: number } | undefined;
  if (asRoot) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    owner = { uid: id('-u'), gid: id('-g') };
    for (const p of [dir, path.join(dir, 'pwfile')]) chownSync(p, owner.uid, owner.gid);
  }
  chmodSync(dir, 0o700);
  // As root: the same command through runuser, as the postgres user (it owns the temp dir).
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { cwd: dir })
      : run(path.join(bin, tool), args, { cwd: dir });
  const port = await freePort();
  let started = false;
  const stop = async () => {
    process.removeListener('exit', stopAtExit);
    if (started) await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  // The test process ending without `after` (an interrupted run): the cluster does not outlive it.
  const stopAtExit = () => {
    const args = ['-D', data, '-m', 'immediate', 'stop'];
    if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), ...args]);
    else spawnSync(path.join(bin, 'pg_ctl'), args);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopAtExit);
  try {
    await pg('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${path.join(dir, 'pwfile')}`,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    started = true;
    await pg('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']);
  } catch (err) {
    const log = existsSync(path.join(dir, 'server.log')) ? readFileSync(path.join(dir, 'server.log'), 'utf8') : '';
    await stop();
    throw new Error(`the test PostgreSQL did not start: ${(err as Error).message}\n${log.slice(-2000)}`);
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return { url, admin: adminOf(url), stop };
}

/**
 * Mocha hooks for a suite that needs PostgreSQL: started before the suite (skipped, with the reason
 * printed, where there is none) and stopped after it. Returns the running one.
 */
export function usePostgres(): () => PostgresServer {
  let server: PostgresServer | undefined;
  before(async function () {
    const why = postgresUnavailable();
    if (why) {
      console.log(`      (PostgreSQL tests skipped: ${why})`);
      this.skip();
    }
    this.timeout(120_000);
    server = await startPostgres();
  });
  after(async () => server?.stop());
  return () => server!;
}

/**
 * Mocha hooks for a suite on `server` (usePostgres): a schema name of its own per test (`<prefix>_<random>`),
 * the schema dropped with its tables after the test, so the tests never see each other's rows. Register it
 * before the hooks that open stores on it. Returns the current test's schema name.
 */
export function useFreshSchema(server: () => PostgresServer, prefix: string): () => string {
  let schema = '';
  beforeEach(() => {
    schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  });
  afterEach(async () => {
    const admin = server().admin();
    try {
      await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end();
    }
  });
  return () => schema;
}
