import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const ciRun = readFileSync(path.join(root, '.ci/run'), 'utf8');
const smokePath = path.join(root, 'deploy/ci/container-smoke.sh');
const smoke = readFileSync(smokePath, 'utf8');

describe('deploy: CI container smoke (.ci/run, deploy/ci/container-smoke.sh)', () => {
  it('.ci/run runs the README test command first, then the container smoke, and counts its checks', () => {
    const test = ciRun.search(/^npm test 2>&1/m);
    const containers = ciRun.search(/^timeout \d+ deploy\/ci\/container-smoke\.sh/m);
    expect(test).to.be.greaterThan(0);
    expect(containers, 'the smoke runs after npm test').to.be.greaterThan(test);
    expect(ciRun).to.include('passed=$((passed + BASH_REMATCH[1]))');
    expect(ciRun).to.include('failed=$((failed + BASH_REMATCH[2]))');
    expect(ciRun.trimEnd().split('\n').slice(-2)).to.deep.equal([
      'echo "${passed} passed, ${failed} failed"',
      'exit "$status"',
    ]);
    expect(statSync(smokePath).mode & 0o111, 'executable').to.not.equal(0);
  });

  it('bounds every podman, podman-compose, debootstrap, apt-get, npm, chroot and runc call with timeout', () => {
    const tool = '(podman-compose|podman|debootstrap|apt-get|npm|chroot|runc)';
    // A tool in command position: at the start of a command, optionally after VAR=value or env "$@" prefixes.
    const command = new RegExp(
      `(?:^|[;&|({]|\\$\\(|\\bthen|\\bdo|\\bcheck)\\s*(?:[A-Z_]+=\\S+\\s+|env "\\$\\{\\w+\\[@\\]\\}"\\s+)*(timeout \\d+\\s+)?(?:[A-Z_]+=\\S+\\s+|env "\\$\\{\\w+\\[@\\]\\}"\\s+)*${tool}\\b`,
      'g',
    );
    let seen = 0;
    smoke.split('\n').forEach((line, i) => {
      if (/^\s*#/.test(line)) return;
      // Messages name the tools too: not commands; a '…' script runs inside a command already bounded.
      const code = line.replace(/\b(skip|say|echo|check) "(?:[^"\\]|\\.)*"/g, '$1').replace(/'[^']*'/g, "''");
      for (const m of code.matchAll(command)) {
        seen++;
        expect(m[1], `line ${i + 1}: ${line.trim()}`).to.not.equal(undefined);
      }
    });
    expect(seen).to.be.greaterThan(20);
  });

  it('skips with one line and exit 0 when told to (as where no container tool can be installed or run)', () => {
    const out = execFileSync(smokePath, { env: { ...process.env, LGSP_CI_CONTAINERS: 'skip' }, encoding: 'utf8' });
    expect(out.trimEnd().split('\n').at(-1)).to.equal('container smoke: skipped (LGSP_CI_CONTAINERS=skip)');
  });

  it('tries the README literally: its tag, its try-out and validate, compose up --build and down', () => {
    expect(smoke).to.include('image=lgsp-gateway:0.1.0');
    expect(smoke).to.match(/podman build --format docker /);
    // The try-out as the README writes it (detached and on a free port here, its volume named per run).
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const tryOut = (source: string, mount: string) =>
      `-e NODE_ENV=development --read-only --cap-drop=ALL \\\n${source}:/etc/lgsp-gateway:ro" -v ${mount}:/var/lib/lgsp-gateway/audit`;
    expect(readme).to.include(tryOut('  -v "$PWD/config', 'lgsp-audit'));
    expect(smoke).to.include(tryOut('    -v "$repo/config', '"lgsp-ci-audit-$$'));
    expect(smoke).to.include('-v "$repo/deploy/config-production:/etc/lgsp-gateway:ro" "$image" validate');
    expect(smoke).to.include('sh deploy/compose/init-secrets.sh');
    expect(smoke).to.include('podman-compose up -d --build');
    expect(smoke).to.include('podman-compose down -v');
    expect(readme).to.include('docker build -t lgsp-gateway:0.1.0 .');
    expect(readme).to.include('docker compose up -d --build');
  });
});
