import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { request } from '../../helpers/http.ts';
import { spawnGateway } from './processes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * What the image runs: `npm run build` (tsc -p tsconfig.build.json) emits dist/, and the runtime stage
 * runs `node dist/src/cli/main.js` beside package.json, bin/ and node_modules. This builds into a temporary
 * directory laid out like /app and runs the compiled CLI from there (no Docker engine needed).
 */
describe('deploy: the compiled build runs (what the Docker image runs)', function () {
  this.timeout(120_000);
  let app: string;
  let config: string;

  before(() => {
    app = mkdtempSync(path.join(tmpdir(), 'lgsp-app-'));
    const tsc = spawnSync(
      process.execPath,
      [
        path.join(root, 'node_modules/typescript/bin/tsc'),
        '-p',
        path.join(root, 'tsconfig.build.json'),
        '--outDir',
        path.join(app, 'dist'),
      ],
      { encoding: 'utf8' },
    );
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
    cpSync(path.join(root, 'package.json'), path.join(app, 'package.json'));
    cpSync(path.join(root, 'bin'), path.join(app, 'bin'), { recursive: true });
    symlinkSync(path.join(root, 'node_modules'), path.join(app, 'node_modules'), 'dir');
    config = path.join(app, 'etc');
    mkdirSync(config);
    writeFileSync(
      path.join(config, 'gateway.yaml'),
      'version: 1\nreload: { watch: false }\naudit: { enabled: false }\nupstreams:\n  ndxp: { url: "${UPSTREAM_NDXP_URL:-http://127.0.0.1:9}" }\nroutes:\n  - { id: a, path: /ndxp/a, upstream: ndxp, consumers: [] }\n',
    );
  });
  after(() => rmSync(app, { recursive: true, force: true }));

  it('emits dist/src/cli/main.js with .ts imports rewritten to .js', () => {
    const cli = spawnSync(
      'grep',
      ['-rlE', String.raw`(from |import\()["']\.{1,2}/[^"']*\.ts["']`, path.join(app, 'dist')],
      {
        encoding: 'utf8',
      },
    );
    expect(cli.stdout, 'compiled files still importing .ts').to.equal('');
  });

  it('`node dist/src/cli/main.js validate` and the bin shim both check a config directory', () => {
    for (const entry of ['dist/src/cli/main.js', 'bin/lgsp-gateway.js']) {
      const run = spawnSync(process.execPath, [path.join(app, entry), 'validate', config], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, NODE_ENV: 'production' },
      });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/valid \(1 routes, 1 upstreams/);
    }
    const bad = spawnSync(
      process.execPath,
      [path.join(app, 'dist/src/cli/main.js'), 'validate', path.join(app, 'nowhere')],
      {
        encoding: 'utf8',
      },
    );
    expect(bad.status).to.equal(1);
  });

  it('`node dist/src/cli/main.js start` serves /healthz and /readyz, and stops cleanly on SIGTERM', async () => {
    const gw = await spawnGateway(path.join(app, 'dist/src/cli/main.js'), {
      LGSP_CONFIG_DIR: config,
      NODE_ENV: 'production',
    });
    try {
      expect((await request(`${gw.url}/healthz`)).json()).to.deep.equal({ status: 'ok' });
      const ready = await request(`${gw.url}/readyz`);
      expect(ready.status).to.equal(200);
      expect(ready.json().status).to.equal('ready');
    } finally {
      expect(await gw.stop()).to.equal(0);
    }
  });
});
