import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, type ConfigIssue } from '../../../src/config/config-error.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { errorDialects } from '../../../src/errors/dialects/index.ts';

const UP = 'upstreams:\n  ndxp: { url: "http://127.0.0.1:1" }\nconsumers:\n  mcdt: {}\n';
const ROUTE = 'routes:\n  - { id: r1, path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }\n';

/** One failing fixture per rule: the files, and what the first matching issue must say. */
const cases: {
  name: string;
  files: Record<string, string>;
  env?: Record<string, string>;
  expect: Partial<ConfigIssue> & { messageIncludes?: string };
}[] = [
  {
    name: 'YAML syntax error',
    files: { 'a.yaml': 'version: 1\nroutes: [\n' },
    expect: { file: 'a.yaml', rule: 'yaml-syntax' },
  },
  {
    name: 'a tab as indentation: one issue at the tab, not the cascade after it',
    files: { 'a.yaml': 'version: 1\nlisten:\n  port: 80\n\thost: x\nlogging: {}\n' },
    expect: { file: 'a.yaml', rule: 'yaml-syntax', line: 4, column: 1, messageIncludes: 'indent with spaces' },
  },
  {
    name: 'a quote never closed: located at the opening quote, not past the end of the file',
    files: { 'a.yaml': 'version: 1\nupstreams:\n  a:\n    url: "http://x\n  b: 2\n' },
    expect: { file: 'a.yaml', rule: 'yaml-syntax', line: 4, column: 10 },
  },
  {
    name: 'duplicate key in one file',
    files: { 'a.yaml': 'version: 1\nversion: 1\n' },
    expect: { file: 'a.yaml', rule: 'yaml-syntax', line: 2 },
  },
  { name: 'missing version', files: { 'a.yaml': UP }, expect: { rule: 'required', messageIncludes: 'version' } },
  {
    name: 'wrong version',
    files: { 'a.yaml': 'version: 2\n' },
    expect: { file: 'a.yaml', line: 1, rule: 'const', path: 'version' },
  },
  {
    name: 'unknown top-level key',
    files: { 'a.yaml': 'version: 1\nlisten: { port: 80 }\nlisn: {}\n' },
    expect: { file: 'a.yaml', line: 3, rule: 'additionalProperties', path: 'lisn' },
  },
  {
    name: 'unknown route key',
    files: { 'a.yaml': `version: 1\n${UP}routes:\n  - id: r1\n    path: /x\n    upstream: ndxp\n    methodz: [GET]\n` },
    expect: { file: 'a.yaml', line: 10, rule: 'additionalProperties', path: 'routes[0].methodz' },
  },
  {
    name: 'route without upstream',
    files: { 'a.yaml': `version: 1\n${UP}routes:\n  - { id: r1, path: /x }\n` },
    expect: { rule: 'required', path: 'routes[0]', messageIncludes: 'upstream' },
  },
  {
    name: 'bad method',
    files: { 'a.yaml': `version: 1\n${UP}routes:\n  - { id: r1, path: /x, upstream: ndxp, methods: [FETCH] }\n` },
    expect: { rule: 'enum', path: 'routes[0].methods[0]' },
  },
  {
    name: 'path not starting with /',
    files: { 'a.yaml': `version: 1\n${UP}routes:\n  - { id: r1, path: x, upstream: ndxp }\n` },
    expect: { rule: 'pattern', path: 'routes[0].path' },
  },
  {
    name: 'port out of range',
    files: { 'a.yaml': 'version: 1\nlisten: { port: 70000 }\n' },
    expect: { rule: 'maximum', path: 'listen.port' },
  },
  {
    name: 'bad upstream URL',
    files: { 'a.yaml': 'version: 1\nupstreams:\n  x: { url: "ftp://host" }\n' },
    expect: { rule: 'pattern', path: 'upstreams.x.url' },
  },
  {
    name: 'negative timeout',
    files: { 'a.yaml': 'version: 1\nupstreams:\n  x: { url: "http://h", timeouts: { responseMs: -1 } }\n' },
    expect: { rule: 'minimum', path: 'upstreams.x.timeouts.responseMs' },
  },
  {
    name: 'bad API key hash',
    files: { 'a.yaml': 'version: 1\nconsumers:\n  c: { apiKeys: [{ sha256: "abc" }] }\n' },
    expect: { rule: 'pattern', path: 'consumers.c.apiKeys[0].sha256' },
  },
  {
    name: 'route naming a missing upstream',
    files: { 'a.yaml': 'version: 1\n', 'routes/r.yaml': 'routes:\n  - { id: r1, path: /x, upstream: nope }\n' },
    expect: { file: path.join('routes', 'r.yaml'), line: 2, rule: 'reference', path: 'routes[0].upstream' },
  },
  {
    name: 'route allowing a missing consumer',
    files: { 'a.yaml': `version: 1\n${UP}routes:\n  - { id: r1, path: /x, upstream: ndxp, consumers: [ghost] }\n` },
    expect: { rule: 'reference', path: 'routes[0].consumers[0]', messageIncludes: 'ghost' },
  },
  {
    name: 'duplicate route id',
    files: { 'a.yaml': `version: 1\n${UP}${ROUTE}  - { id: r1, path: /y, upstream: ndxp }\n` },
    expect: { rule: 'unique', path: 'routes[1].id' },
  },
  {
    name: 'same method and path twice',
    files: { 'a.yaml': `version: 1\n${UP}${ROUTE}  - { id: r2, path: /ndxp/*, upstream: ndxp }\n` },
    expect: { rule: 'unique', path: 'routes[1].path' },
  },
  {
    name: 'unknown error dialect',
    files: { 'a.yaml': 'version: 1\nupstreams:\n  x: { url: "http://h", errorDialect: klingon }\n' },
    expect: { rule: 'reference', path: 'upstreams.x.errorDialect' },
  },
  {
    name: 'upstream defined in two files',
    files: {
      'a.yaml': 'version: 1\nupstreams:\n  x: { url: "http://h" }\n',
      'b.yaml': 'upstreams:\n  x: { url: "http://h" }\n',
    },
    expect: { file: 'b.yaml', rule: 'duplicate' },
  },
  {
    name: 'top-level key in two files',
    files: { 'a.yaml': 'version: 1\n', 'b.yaml': 'version: 1\n' },
    expect: { file: 'b.yaml', rule: 'duplicate' },
  },
  {
    name: 'missing environment variable',
    files: { 'a.yaml': 'version: 1\nupstreams:\n  x: { url: "${NDXP_URL}" }\n' },
    expect: { file: 'a.yaml', line: 3, rule: 'secret', messageIncludes: 'NDXP_URL' },
  },
  {
    name: 'unreadable VAR_FILE',
    files: { 'a.yaml': 'version: 1\nupstreams:\n  x: { url: "${NDXP_URL}" }\n' },
    env: { NDXP_URL_FILE: '/nonexistent/secret' },
    expect: { rule: 'secret', messageIncludes: 'NDXP_URL_FILE' },
  },
  { name: 'empty directory', files: {}, expect: { rule: 'files' } },
];

describe('config loader: every rule has a failing fixture with a located error', () => {
  for (const c of cases) {
    it(c.name, () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-cfg-'));
      try {
        for (const [name, text] of Object.entries(c.files)) {
          mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
          writeFileSync(path.join(dir, name), text);
        }
        let error: unknown;
        try {
          loadConfig(dir, { env: c.env ?? {}, dialects: Object.keys(errorDialects) });
        } catch (err) {
          error = err;
        }
        expect(error, 'loading must fail').to.be.instanceOf(ConfigError);
        const issues = (error as ConfigError).issues;
        const { messageIncludes, ...fields } = c.expect;
        const match = issues.find((i) => Object.entries(fields).every(([k, v]) => i[k as keyof ConfigIssue] === v));
        expect(match, JSON.stringify(issues, null, 1)).to.not.equal(undefined);
        if (messageIncludes) expect(match!.message).to.contain(messageIncludes);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a syntax error in one file hides neither the faults of the others nor adds faults that follow from it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-cfg-'));
    try {
      // upstreams.yaml is broken, so ndxp is missing: the route naming it is not a second fault.
      writeFileSync(path.join(dir, 'gateway.yaml'), `version: 1\nlisten: { prot: 1 }\n${ROUTE}`);
      writeFileSync(path.join(dir, 'upstreams.yaml'), 'upstreams:\n  ndxp: { url: "http://h" \n');
      let error: ConfigError | undefined;
      try {
        loadConfig(dir, { env: {} });
      } catch (err) {
        error = err as ConfigError;
      }
      expect(error?.issues.map((i) => `${i.file}:${i.line} ${i.rule}`)).to.deep.equal([
        'upstreams.yaml:2 yaml-syntax',
        'gateway.yaml:2 additionalProperties',
      ]);
      expect(error!.message).not.to.match(/column \d+:|\(root\)/); // no stray "at line 2, column 5:"
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a config directory that does not exist is one issue naming it', () => {
    const missing = path.join(tmpdir(), 'lgsp-no-such-config-dir');
    expect(() => loadConfig(missing, { env: {} }))
      .to.throw(ConfigError)
      .with.property('issues')
      .that.deep.equals([
        {
          path: '',
          rule: 'directory',
          code: 'CFG_FILE',
          message: `the config directory ${missing} does not exist (set by LGSP_CONFIG_DIR, or the argument of validate/routes)`,
        },
      ]);
  });

  it('interpolates ${VAR}, ${VAR:-default}, VAR_FILE and $${literal}', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-cfg-'));
    try {
      writeFileSync(path.join(dir, 'secret'), 'http://from-file\n');
      writeFileSync(
        path.join(dir, 'a.yaml'),
        'version: 1\nenvironment: "${ENV_NAME:-sandbox}"\nupstreams:\n  a: { url: "${A_URL}" }\n  b: { url: "${B_URL}", description: "$${NOT_A_VAR}" }\n',
      );
      const { config } = loadConfig(dir, { env: { A_URL: 'http://a', B_URL_FILE: path.join(dir, 'secret') } });
      expect(config.environment).to.equal('sandbox');
      expect(config.upstreams.a.url).to.equal('http://a');
      expect(config.upstreams.b.url).to.equal('http://from-file');
      expect(config.upstreams.b.description).to.equal('${NOT_A_VAR}');
      expect(Object.isFrozen(config.upstreams.a)).to.equal(true);
      expect(config.upstreams.a.timeouts).to.deep.equal({ connectMs: 5000, responseMs: 30000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a default may hold references: ${UPSTREAM_URL:-${LGSP_SANDBOX_URL}/x} follows sandbox.port and SANDBOX_PORT', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-cfg-'));
    try {
      writeFileSync(
        path.join(dir, 'a.yaml'),
        'version: 1\nsandbox: { port: 9300 }\nupstreams:\n  a: { url: "${A_URL:-${LGSP_SANDBOX_URL}/a}" }\n' +
          '  b: { url: "${B_URL:-http://h:${B_PORT:-81}/b}", description: "$${LITERAL:-${X}}" }\n',
      );
      const load = (env: Record<string, string>) => loadConfig(dir, { env }).config;
      expect(load({}).upstreams.a.url).to.equal('http://127.0.0.1:9300/a');
      expect(load({}).upstreams.b.url).to.equal('http://h:81/b');
      expect(load({}).upstreams.b.description).to.equal('${LITERAL:-${X}}');
      expect(load({ SANDBOX_PORT: '9400' }).upstreams.a.url).to.equal('http://127.0.0.1:9400/a');
      expect(load({ SANDBOX_PORT: '9400' }).sandbox.port).to.equal(9400);
      expect(load({ A_URL: 'https://real' }).upstreams.a.url).to.equal('https://real');
      expect(load({ B_PORT: '82' }).upstreams.b.url).to.equal('http://h:82/b');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
