import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, ConfigPathError, formatIssue } from '../../../src/config/config-error.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { credentialStrategies } from '../../../src/credentials/index.ts';
import { routeAnswers } from '../../../src/credentials/route-answers.ts';
import { errorDialects } from '../../../src/errors/dialects/index.ts';
import { configCodes } from '../../../src/errors/config-codes.ts';
import { buildPlugin } from '../../../src/config/plugin-options.ts';
import type { Registry } from '../../../src/plugin/plugin.ts';
import { gatewayLoadOptions } from '../../../src/app/default-factories.ts';
import { createMappingDeps, compileMapping, loadCatalogs } from '../../../src/transform/index.ts';
import { mappingOps } from '../../../src/transform/ops/registry.ts';

/** What buildPlugin threw, or a failure when it built. */
function refused(fn: () => unknown): ConfigPathError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigPathError);
    return err as ConfigPathError;
  }
  throw new Error('expected a ConfigPathError');
}

describe('plug-in loader: one registry type, one function that validates and builds', () => {
  const registries: [string, Registry<never, unknown>][] = [
    ['credential strategy', credentialStrategies as Registry<never, unknown>],
    ['mapping op', mappingOps as Registry<never, unknown>],
    ['error dialect', errorDialects as Registry<never, unknown>],
    ['route answer', routeAnswers as Registry<never, unknown>],
  ];
  for (const [kind, registry] of registries) {
    it(`an unknown ${kind} is CFG_UNKNOWN_PLUGIN at its name, listing the known ones`, () => {
      const err = refused(() => buildPlugin(registry, kind, 'nope', {}, {} as never, ['x', 0], ['x', 0, 'type']));
      expect(err.code).to.equal('CFG_UNKNOWN_PLUGIN');
      expect(err.path).to.deep.equal(['x', 0, 'type']);
      expect(err.message).to.equal(`unknown ${kind} "nope" (known: ${Object.keys(registry).join(', ')})`);
    });
    it(`a ${kind} named like an Object.prototype member is unknown, not a crash`, () => {
      expect(refused(() => buildPlugin(registry, kind, 'constructor', {}, {} as never, [])).code).to.equal(
        'CFG_UNKNOWN_PLUGIN',
      );
    });
  }

  it('route answer options are checked by the plug-in schema: lifetimeSeconds 0 and unknown options refused', () => {
    const clock = { now: () => 0 };
    let err = refused(() =>
      buildPlugin(routeAnswers, 'route answer', 'molisa-compat-token', { lifetimeSeconds: 0 }, { clock }, ['a']),
    );
    expect(err.path).to.deep.equal(['a', 'lifetimeSeconds']);
    expect(err.code).to.equal('CFG_INVALID_VALUE');
    err = refused(() => buildPlugin(routeAnswers, 'route answer', 'molisa-compat-token', { ttl: 5 }, { clock }, ['a']));
    expect(err.path).to.deep.equal(['a', 'ttl']);
    expect(err.code).to.equal('CFG_UNKNOWN_KEY');
    expect(err.message).to.equal('route answer molisa-compat-token: unknown option ttl');
    const answer = buildPlugin(
      routeAnswers,
      'route answer',
      'molisa-compat-token',
      { lifetimeSeconds: 60 },
      { clock },
      [],
    );
    expect(answer({ username: 'u', password: 'p' }).body).to.include({ error_code: 0, expires_in: 60 });
  });

  it('mapping ops go through the same loader: unknown op, misspelt option, in English', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'lgsp-catalogs-'));
    const deps = createMappingDeps(loadCatalogs(empty));
    rmSync(empty, { recursive: true, force: true });
    let err = refused(() => compileMapping([{ op: 'renam', fields: { a: 'b' } }], deps, ['m']));
    expect(err.code).to.equal('CFG_UNKNOWN_PLUGIN');
    expect(err.path).to.deep.equal(['m', 0, 'op']);
    err = refused(() => compileMapping([{ type: 'drop', feld: 'a' }], deps, ['m']));
    expect(err.path).to.deep.equal(['m', 0, 'feld']);
    expect(err.message).to.equal('mapping op drop: unknown option feld');
  });
});

describe('configuration errors are coded data: CFG_ codes beside GW_', () => {
  function issuesOf(files: Record<string, string>) {
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-cfg-code-'));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
      loadConfig(dir, gatewayLoadOptions({}));
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return (err as ConfigError).issues;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    throw new Error('the config loaded');
  }

  it('every issue of a broken config carries a registered code, shown in its file:line:col line', () => {
    const issues = issuesOf({
      'gateway.yaml':
        'version: 1\nlisten:\n  prot: 80\nupstreams:\n  a:\n    url: "http://127.0.0.1:1"\n    errorDialect: klingon\nroutes:\n  - id: r\n    path: /a\n    upstream: b\n',
    });
    const byCode = Object.fromEntries(issues.map((i) => [i.code, i]));
    for (const issue of issues) expect(Object.keys(configCodes)).to.include(issue.code);
    expect(byCode.CFG_UNKNOWN_KEY).to.include({ file: 'gateway.yaml', line: 3, path: 'listen.prot' });
    expect(formatIssue(byCode.CFG_UNKNOWN_KEY)).to.equal(
      'gateway.yaml:3:3: listen.prot: unknown key "prot" [CFG_UNKNOWN_KEY additionalProperties]',
    );
    expect(byCode.CFG_UNKNOWN_PLUGIN).to.include({ path: 'upstreams.a.errorDialect', rule: 'reference' });
    expect(byCode.CFG_REFERENCE).to.include({ path: 'routes[0].upstream', line: 11 });
  });

  it('a YAML syntax error is CFG_YAML_SYNTAX', () => {
    const [issue] = issuesOf({ 'gateway.yaml': 'version: 1\nlisten:\n\tport: 1\n' });
    expect(issue.code).to.equal('CFG_YAML_SYNTAX');
  });
});
