import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { ConfigError } from '../../../src/config/config-error.ts';
import { loadConfig } from '../../../src/config/load-config.ts';

/**
 * `paths.routes` and `paths.mappings` move those directories out of the config directory, as a
 * Kubernetes deployment needs (a ConfigMap is flat: one mount per directory).
 */
describe('config loader: route and mapping directories elsewhere', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'lgsp-reloc-'));
    for (const d of ['etc', 'routes', 'mappings']) mkdirSync(path.join(root, d));
    writeFileSync(
      path.join(root, 'etc', 'gateway.yaml'),
      `version: 1\npaths: { routes: "\${ROUTES_DIR}", mappings: ../mappings }\nupstreams:\n  x: { url: "http://127.0.0.1:1" }\n`,
    );
    writeFileSync(path.join(root, 'mappings', 'm.yaml'), 'block:\n  request:\n    schema: s.json\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads every route file below paths.routes and resolves use: from paths.mappings', () => {
    writeFileSync(
      path.join(root, 'routes', 'a.yaml'),
      'routes:\n  - { id: a, path: /x/a, upstream: x, request: { use: m.block } }\n',
    );
    const { config } = loadConfig(path.join(root, 'etc'), { env: { ROUTES_DIR: path.join(root, 'routes') } });
    expect(config.routes.map((r) => r.id)).to.deep.equal(['a']);
    expect(config.routes[0].request?.schema).to.equal('s.json');
    expect(config.paths.routes).to.equal(path.join(root, 'routes'));
    expect(config.paths.mappings).to.equal(path.join(root, 'mappings'));
  });

  it('names the outside file, line and column of a fault', () => {
    writeFileSync(path.join(root, 'routes', 'a.yaml'), 'routes:\n  - { id: a, path: /x/a, upstream: nope }\n');
    let error: unknown;
    try {
      loadConfig(path.join(root, 'etc'), { env: { ROUTES_DIR: path.join(root, 'routes') } });
    } catch (err) {
      error = err;
    }
    const issue = (error as ConfigError).issues.find((i) => i.rule === 'reference');
    expect(issue).to.include({ file: path.join('..', 'routes', 'a.yaml'), line: 2 });
  });
});
