import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { ConfigIssue } from '../../../src/config/config-error.ts';
import { START_ONLY, startOnlyChanges } from '../../../src/config/start-only.ts';
import type { GatewayConfig } from '../../../src/config/types.ts';

const locate = (path: readonly (string | number)[], rule: string, message: string): ConfigIssue => ({
  path: path.join('.'),
  rule,
  message,
});
const config = (over: Record<string, unknown>) =>
  ({
    listen: { port: 8080, host: '0.0.0.0' },
    admin: { apiKeys: [] },
    sandbox: { enabled: false, port: 9180, host: '127.0.0.1' },
    audit: {
      enabled: true,
      dir: '/var/audit',
      hmacKey: 'old-secret-hmac-key-0123456789abcdef',
      subjectFields: ['CMND'],
    },
    logging: { level: 'info' },
    ...over,
  }) as unknown as GatewayConfig;

describe('config: start-only settings', () => {
  it('reports nothing when no start-only key changed, whatever else did', () => {
    const issues = startOnlyChanges(config({}), config({ logging: { level: 'debug' }, routes: [] }), locate);
    expect(issues).to.deep.equal([]);
  });

  it('names the deepest changed key, and a key added or removed', () => {
    const before = config({});
    const after = config({
      listen: { port: 9090, host: '0.0.0.0' },
      admin: { apiKeys: [], listen: { port: 9091, host: '127.0.0.1' } },
      sandbox: { enabled: false, host: '127.0.0.1' },
    });
    const issues = startOnlyChanges(before, after, locate);
    expect(issues.map((i) => [i.path, i.rule, i.message.split(',')[0]])).to.deep.equal([
      ['listen.port', 'start-only', 'changed'],
      ['admin.listen', 'start-only', 'added'],
      ['sandbox.port', 'start-only', 'removed'],
    ]);
  });

  it('treats a list as one value and never shows a value (audit.hmacKey is a secret)', () => {
    const before = config({});
    const after = config({
      audit: {
        enabled: true,
        dir: '/var/audit',
        hmacKey: 'new-secret-hmac-key-0123456789abcdef',
        subjectFields: ['CMND', 'x'],
      },
    });
    const issues = startOnlyChanges(before, after, locate);
    expect(issues.map((i) => i.path)).to.deep.equal(['audit.hmacKey', 'audit.subjectFields']);
    for (const issue of issues) expect(issue.message).not.to.match(/secret|CMND|\/var/);
  });

  it("README's configuration reference marks exactly the keys under a start-only pointer", () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(
      readme.indexOf('### Top-level keys'),
      readme.indexOf('\n### ', readme.indexOf('### Top-level keys') + 1),
    );
    const dotted = Object.keys(START_ONLY).map((p) => p.slice(1).replace(/\//g, '.'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    expect(rows.length).to.be.greaterThan(20);
    for (const row of rows) {
      const keys = [...row.slice(0, row.indexOf(' | ')).matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      const meaning = row.slice(row.lastIndexOf(' | ') + 3);
      const startOnly = keys.some((k) => dotted.some((d) => k === d || k.startsWith(`${d}.`)));
      expect(meaning.startsWith('*start-only*'), `${keys.join(' / ')}`).to.equal(startOnly);
    }
    for (const d of dotted)
      expect(
        rows.some((r) => r.startsWith(`| \`${d}`)),
        `a row for ${d}`,
      ).to.equal(true);
  });
});
