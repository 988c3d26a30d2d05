import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort, request } from '../../helpers/http.ts';
import { spawnGateway } from './processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(root, 'src/cli/main.ts');

/** A small valid config: one route, no audit, no watcher; `extra` is appended to gateway.yaml. */
function writeConfig(dir: string, extra = ''): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'gateway.yaml'),
    'version: 1\nreload: { watch: false }\naudit: { enabled: false }\n' +
      'upstreams:\n  ndxp: { url: "http://127.0.0.1:9" }\n' +
      'routes:\n  - { id: a, path: /ndxp/a, upstream: ndxp, consumers: [] }\n' +
      extra,
  );
  return dir;
}

/** Runs the CLI to its end (bounded: 20 s), with only the variables given (and PATH). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> & { ms: number } {
  const started = Date.now();
  const run = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH, LOG_LEVEL: 'warn', ...env },
  });
  return Object.assign(run, { ms: Date.now() - started });
}

async function occupy(): Promise<{ server: Server; port: number }> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

describe('deploy: an operator starting the gateway (ports, config directories, signals)', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => (tmp = mkdtempSync(path.join(tmpdir(), 'lgsp-operator-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('ports', () => {
    it('a taken admin port stops the start with one line naming ADMIN_PORT, exit 1, no stack trace', async () => {
      const taken = await occupy();
      try {
        const dir = writeConfig(path.join(tmp, 'admin-busy'), 'admin: { listen: { port: 9091, host: 127.0.0.1 } }\n');
        const run = cli(['start'], { LGSP_CONFIG_DIR: dir, PORT: '0', ADMIN_PORT: String(taken.port) });
        expect(run.status, run.stderr).to.equal(1);
        expect(run.stderr).to.include(`cannot listen on 127.0.0.1:${taken.port} for the admin listener`);
        expect(run.stderr).to.include('set ADMIN_PORT');
        expect(run.stderr).not.to.match(/EADDRINUSE|\n\s+at /);
      } finally {
        taken.server.close();
      }
    });

    it('a taken sandbox port names SANDBOX_PORT, and the process exits (nothing left open)', async () => {
      const taken = await occupy();
      try {
        const run = cli(['start'], {
          LGSP_CONFIG_DIR: path.join(root, 'config'),
          LGSP_AUDIT_DIR: path.join(tmp, 'audit-sandbox-busy'),
          LGSP_DELIVERY_DB: path.join(tmp, 'audit-sandbox-busy.db'),
          PORT: '0',
          ADMIN_PORT: '0',
          SANDBOX_PORT: String(taken.port),
        });
        expect(run.status, run.stderr).to.equal(1);
        expect(run.stderr).to.include(`cannot listen on 127.0.0.1:${taken.port} for the sandbox`);
        expect(run.stderr).to.include('set SANDBOX_PORT');
        expect(run.stderr).not.to.match(/\n\s+at /);
      } finally {
        taken.server.close();
      }
    });

    it("SANDBOX_PORT and ADMIN_PORT move the shipped config's listeners, and the upstream URLs follow the sandbox", async () => {
      const [sandboxPort, adminPort] = [await freePort(), await freePort()];
      const gw = await spawnGateway(CLI, {
        LGSP_CONFIG_DIR: path.join(root, 'config'),
        LGSP_AUDIT_DIR: path.join(tmp, 'audit-moved'),
        // The delivery store of this run, not the checkout's data/ (issue 17: the shipped config queues pushes).
        LGSP_DELIVERY_DB: path.join(tmp, 'deliveries.db'),
        SANDBOX_PORT: String(sandboxPort),
        ADMIN_PORT: String(adminPort),
      });
      try {
        const started = gw.lines.find((l) => l.message === 'lgsp-gateway starting');
        expect(started, 'first line').to.deep.include({ pid: gw.child.pid, node: process.version });
        expect(gw.lines[0].message).to.equal('lgsp-gateway starting');
        expect(gw.lines.find((l) => l.message === 'lgsp-gateway listening')).to.include({ pid: gw.child.pid });
        expect(gw.lines.find((l) => l.message === 'sandbox of the national systems listening')?.url).to.equal(
          `http://127.0.0.1:${sandboxPort}`,
        );
        expect(gw.lines.find((l) => l.message === 'admin listener')?.url).to.equal(`http://127.0.0.1:${adminPort}`);
        expect((await request(`http://127.0.0.1:${adminPort}/healthz`)).status).to.equal(200);
        // The README's first call, through the gateway to the sandbox on its moved port.
        const reply = await request(`${gw.url}/dancu/1.0/thongTinChuHo`, {
          method: 'POST',
          headers: { 'x-api-key': 'lgsp-demo-mcdt-key-2026', 'content-type': 'application/json' },
          body: JSON.stringify({ soDinhDanh: '099205000103', maCanBo: 'cb01' }),
        });
        expect(reply.status, reply.body.toString()).to.equal(200);
      } finally {
        expect(await gw.stop()).to.equal(0);
      }
    });

    it('a SANDBOX_PORT that is not a port number is a config error naming it', () => {
      const run = cli(['validate', path.join(root, 'config')], { SANDBOX_PORT: '91800' });
      expect(run.status).to.equal(1);
      expect(run.stderr).to.include('SANDBOX_PORT="91800" is not a port number');
    });
  });

  describe('config directories', () => {
    it('a config directory that does not exist: one sentence naming it, from validate and from start', () => {
      const missing = path.join(tmp, 'no-such-dir');
      for (const run of [cli(['validate', missing]), cli(['start'], { LGSP_CONFIG_DIR: missing, PORT: '0' })]) {
        expect(run.status, run.stderr).to.equal(1);
        expect(run.stderr).to.include(`the config directory ${missing} does not exist`);
        expect(run.stderr).not.to.match(/ENOENT|\n\s+at /);
      }
    });

    it('a copy of config/ elsewhere validates: the shipped schemas are found, old `../schemas` copies with a note', () => {
      const copy = path.join(tmp, 'copied', 'etc');
      cpSync(path.join(root, 'config'), copy, { recursive: true });
      const run = cli(['validate', copy]);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/valid \(2\d routes/);
      const gateway = path.join(copy, 'gateway.yaml');
      writeFileSync(gateway, readFileSync(gateway, 'utf8').replace('${LGSP_PACKAGE_DIR}/schemas', '../schemas'));
      const old = cli(['validate', copy]);
      expect(old.status, old.stderr).to.equal(0);
      expect(old.stderr).to.include(
        `paths.schemas: ${path.join(tmp, 'copied', 'schemas')} does not exist; using the shipped schemas`,
      );
    });

    it('validate lists the faults of every file: a tab in one file does not hide the others, and counts once', () => {
      const dir = path.join(tmp, 'three-faults');
      cpSync(path.join(root, 'config'), dir, { recursive: true });
      const consumers = path.join(dir, 'consumers.yaml');
      const lines = readFileSync(consumers, 'utf8').split('\n');
      const tabLine = lines.findIndex((l) => /^ {4}\S/.test(l)); // an indented line, indented by a tab instead
      lines[tabLine] = `\t${lines[tabLine].trimStart()}`;
      writeFileSync(consumers, lines.join('\n'));
      const upstreams = path.join(dir, 'upstreams.yaml');
      writeFileSync(
        upstreams,
        readFileSync(upstreams, 'utf8')
          .replace('errorDialect: ndxp', 'errorDialect: nope')
          .replace('timeouts: {', 'timeouts: { bogus: 1,'),
      );
      const run = cli(['validate', dir]);
      expect(run.status).to.equal(1);
      const reported = run.stderr.split('\n').filter((l) => l.startsWith('  '));
      expect(reported, run.stderr).to.have.length(3);
      expect(reported[0]).to.equal(
        `  consumers.yaml:${tabLine + 1}:1: Tabs are not allowed as indentation (indent with spaces) [CFG_YAML_SYNTAX yaml-syntax]`,
      );
      expect(reported.join('\n')).to.include('unknown key "bogus"').and.include('unknown error dialect "nope"');
    });

    it('a dangling directory link (the production config mounted alone, before) is an error naming it', () => {
      const dir = writeConfig(path.join(tmp, 'dangling'), 'paths: { routes: routes }\n');
      symlinkSync(path.join(tmp, 'outside-the-mount/routes'), path.join(dir, 'routes'));
      const run = cli(['validate', dir]);
      expect(run.status).to.equal(1);
      expect(run.stderr).to.include(`${path.join(dir, 'routes')} is a symbolic link to a missing directory`);
    });

    it('validate warns on an empty route table', () => {
      const dir = path.join(tmp, 'no-routes');
      mkdirSync(dir);
      writeFileSync(
        path.join(dir, 'gateway.yaml'),
        'version: 1\nreload: { watch: false }\naudit: { enabled: false }\n',
      );
      const run = cli(['validate', dir]);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stderr).to.include('warning: the route table is empty');
    });

    it('validate and start exit promptly on an error while a Redis store is configured (Redis unreachable)', async () => {
      const redis = `redis://127.0.0.1:${await freePort()}`;
      const store = `rateLimits: { store: redis, redis: { url: "${redis}" } }\n`;
      // validate: a fault found while the runtime is built (a schema file that does not exist).
      const buildError = writeConfig(path.join(tmp, 'redis-build-error'), store);
      const gateway = path.join(buildError, 'gateway.yaml');
      writeFileSync(
        gateway,
        readFileSync(gateway, 'utf8').replace('consumers: [] }', 'consumers: [], request: { schema: missing.json } }'),
      );
      // start: a fault found after the runtime (and its Redis client) is up: the sandbox refused in production.
      const afterBuild = writeConfig(
        path.join(tmp, 'redis-after-build'),
        store + 'environment: production\nsandbox: { enabled: true, port: 0 }\n',
      );
      const runs = [
        { run: cli(['validate', buildError]), says: 'missing.json' },
        {
          run: cli(['start'], { LGSP_CONFIG_DIR: afterBuild, PORT: '0' }),
          says: 'the sandbox never runs in production',
        },
      ];
      for (const { run, says } of runs) {
        expect(run.error, 'killed by the 20 s bound: the process did not exit').to.equal(undefined);
        expect(run.status, run.stderr).to.equal(1);
        expect(run.stderr).to.include(says);
        expect(run.ms).to.be.below(15_000);
      }
    });

    it('SIGTERM while the config loads, as PID 1 of a container (no default action), ends the process', async function () {
      if (spawnSync('unshare', ['--pid', '--fork', 'true']).status !== 0) this.skip(); // needs root (CI, containers)
      const child = spawn('unshare', ['--pid', '--fork', process.execPath, CLI, 'start'], {
        env: {
          PATH: process.env.PATH,
          LGSP_CONFIG_DIR: path.join(root, 'config'),
          LGSP_AUDIT_DIR: path.join(tmp, 'audit-pid1'),
          LGSP_DELIVERY_DB: path.join(tmp, 'audit-pid1.db'),
          PORT: '0',
          ADMIN_PORT: '0',
          SANDBOX_PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        // The first line is written before the config is read: the signal lands while it loads.
        const [first] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
        expect(JSON.parse(first)).to.include({ message: 'lgsp-gateway starting', pid: 1 });
        const node = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim());
        const exited = once(child, 'exit');
        process.kill(node, 'SIGTERM');
        const bound = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const [code, signal] = (await exited) as [number | null, string | null];
        clearTimeout(bound);
        expect(signal, 'still running 10 s after SIGTERM').to.equal(null);
        expect([0, 143]).to.include(code);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });

  describe('an older Node (18, 20) first on PATH', () => {
    const older = ['/usr/bin/node', '/usr/local/bin/node', '/usr/bin/nodejs'].find((candidate) => {
      const run = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
      return run.status === 0 && Number(run.stdout.split('.')[0]) < 22;
    });

    it('bin/lgsp-gateway.js runs the sources on the Node 24 that npm ci installed, or says what is missing', function () {
      if (!older) this.skip();
      const run = spawnSync(older!, [path.join(root, 'bin/lgsp-gateway.js'), 'validate', path.join(root, 'config')], {
        encoding: 'utf8',
        timeout: 20_000,
        env: { PATH: process.env.PATH },
      });
      if (existsSync(path.join(root, 'node_modules/node/bin/node'))) {
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stdout).to.match(/valid \(2\d routes/);
      } else {
        expect(run.status).to.equal(1);
        expect(run.stderr).to.include('cannot run the TypeScript sources; Node >= 22.18 is needed');
        expect(run.stderr).not.to.include('ERR_UNKNOWN_FILE_EXTENSION');
      }
    });
  });

  describe('signals', () => {
    it('started through `npm start`: pid logged, SIGHUP to it reloads, SIGHUP to npm stops the gateway (no orphan)', async () => {
      const dir = writeConfig(path.join(tmp, 'npm-start'));
      const npm = spawn('npm', ['start', '--silent'], {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LGSP_CONFIG_DIR: dir, PORT: '0', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines: Record<string, unknown>[] = [];
      const waiters: (() => void)[] = [];
      createInterface({ input: npm.stdout! }).on('line', (line) => {
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          return;
        }
        for (const w of waiters.splice(0)) w();
      });
      const lineWith = (match: (l: Record<string, unknown>) => boolean) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no such line within 20 s: ${JSON.stringify(lines)}`)),
            20_000,
          );
          const check = () => {
            const found = lines.find(match);
            if (found) {
              clearTimeout(timer);
              resolve(found);
            } else waiters.push(check);
          };
          check();
        });
      let gatewayPid: number | undefined;
      try {
        const startLine = await lineWith((l) => l.message === 'lgsp-gateway starting');
        gatewayPid = Number(startLine.pid);
        // exec in the start script: the gateway is npm's own child, no shell in between.
        expect(startLine.startedBy).to.equal(`npm run start (pid ${npm.pid})`);
        await lineWith((l) => l.message === 'lgsp-gateway listening');
        process.kill(gatewayPid, 'SIGHUP');
        expect(await lineWith((l) => l.message === 'config reloaded')).to.include({ reason: 'SIGHUP' });
        process.kill(npm.pid!, 'SIGHUP'); // npm dies of it (it forwards only SIGINT and SIGTERM)
        const warning = await lineWith((l) => String(l.message).includes('that started the gateway has ended'));
        expect(String(warning.message)).to.include(`pid ${gatewayPid}`);
        await lineWith((l) => l.message === 'stopped');
        // Not our child (npm's, and npm is gone): no 'exit' event to await, so it is polled; bounded like
        // lineWith (20 s), since a loaded machine can take more than the 5 s this once allowed to end it.
        for (let i = 0; i < 400 && alive(gatewayPid); i++) await new Promise((r) => setTimeout(r, 50));
        expect(alive(gatewayPid), 'the gateway is still running after npm ended').to.equal(false);
      } finally {
        if (gatewayPid && alive(gatewayPid)) process.kill(gatewayPid, 'SIGKILL');
        if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
      }
    });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
