import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { MOLISA_ERROR } from '../../../src/sandbox/molisa.ts';

/**
 * Issue 16.3: the production config carries only what the seeds or the national side's own documents say;
 * anything assumed is marked `# ASSUMPTION:` there and explained in docs/domain-decisions.md. The sandbox
 * invents what the seeds leave open (MOLISA's error codes other than 0, token lifetimes); none of that may
 * reach deploy/config-production/, where a code meaning something else at MOLISA would replay a push.
 */

const root = new URL('../../../', import.meta.url).pathname;
const PRODUCTION = path.join(root, 'deploy/config-production');

/** Keys whose value says how a national system behaves (or how its callers are answered). */
const BEHAVIOUR_KEYS = [
  'errorDialect',
  'timeouts',
  'credentials',
  'success',
  'lifetimeSeconds',
  'lifetimePath',
  'tokenRejected',
  'retentionDays',
  'defaultConsumer',
];
/** A comment that backs a value: a seed cited, or the value declared an assumption. */
const BACKED = /ASSUMPTION:|\bseed 00\d/i;

/**
 * Lines of a YAML text that set a behaviour key with neither a backing comment on the line itself nor in
 * the comment block right above it. Returned as `line N: text`.
 */
export function unbackedBehaviour(text: string): string[] {
  const lines = text.split('\n');
  const keyLine = new RegExp(`^\\s*(?:-\\s+)?(${BEHAVIOUR_KEYS.join('|')})\\s*:`);
  const found: string[] = [];
  lines.forEach((line, i) => {
    if (!keyLine.test(line)) return;
    const comments = [line.includes('#') ? line.slice(line.indexOf('#')) : ''];
    for (let j = i - 1; j >= 0 && /^\s*#/.test(lines[j]); j--) comments.push(lines[j]);
    if (!comments.some((c) => BACKED.test(c))) found.push(`line ${i + 1}: ${line.trim()}`);
  });
  return found;
}

/** Every value a production credential reads as a success or token-rejection code. */
function signalValues(upstreams: Record<string, { credentials?: Record<string, unknown>[] }>) {
  const out: { upstream: string; where: string; value: unknown }[] = [];
  for (const [id, upstream] of Object.entries(upstreams)) {
    for (const credential of upstream.credentials ?? []) {
      const success = credential.success as { in?: unknown[] } | undefined;
      for (const value of success?.in ?? []) out.push({ upstream: id, where: 'success.in', value });
      const rejected = credential.tokenRejected as { when?: { in?: unknown[]; notIn?: unknown[] }[] } | undefined;
      for (const signal of rejected?.when ?? []) {
        for (const value of [...(signal.in ?? []), ...(signal.notIn ?? [])])
          out.push({ upstream: id, where: 'tokenRejected.when', value });
      }
    }
  }
  return out;
}

const productionFiles = () => readdirSync(PRODUCTION).filter((f) => f.endsWith('.yaml'));

describe('production config: only what the seeds say, assumptions marked (issue 16.3)', () => {
  it("carries none of the sandbox's own MOLISA error codes (the seed defines only 0 = success)", () => {
    // Seed 004 Appendix 1: "error_code: 0 là thành công, các mã khác là lỗi"; 1–4 are the sandbox's.
    const sandboxOnly = new Set(
      Object.values(MOLISA_ERROR)
        .filter((code) => code !== MOLISA_ERROR.ok)
        .map(String),
    );
    const { upstreams } = parse(readFileSync(path.join(PRODUCTION, 'upstreams.yaml'), 'utf8'));
    const offending = signalValues(upstreams).filter((s) => sandboxOnly.has(String(s.value)));
    expect(offending, 'sandbox-only codes in deploy/config-production/upstreams.yaml').to.deep.equal([]);
  });

  it('replays a MOLISA call only on HTTP 401: no body signal the seed does not define', () => {
    const { upstreams } = parse(readFileSync(path.join(PRODUCTION, 'upstreams.yaml'), 'utf8'));
    const molisa = (upstreams.molisa.credentials as Record<string, unknown>[])[0];
    expect(molisa.tokenRejected).to.equal(undefined);
  });

  it('backs every behaviour value with a seed citation or an # ASSUMPTION: marker', () => {
    const findings = productionFiles().flatMap((file) =>
      unbackedBehaviour(readFileSync(path.join(PRODUCTION, file), 'utf8')).map((f) => `${file} ${f}`),
    );
    expect(findings).to.deep.equal([]);
  });

  it('the marker check finds an unmarked value (it can fail)', () => {
    const text = [
      'upstreams:',
      '  x:',
      '    # a comment that cites nothing',
      '    errorDialect: molisa',
      '    # ASSUMPTION: explained in the docs',
      '    timeouts: { connectMs: 5000 }',
      '    credentials:',
      '      - type: login-token',
      '        lifetimeSeconds: 60 # seed 004 says so',
      '        tokenRejected:',
      '          when: [{ path: error_code, in: [2] }]',
    ].join('\n');
    expect(unbackedBehaviour(text)).to.deep.equal([
      'line 4: errorDialect: molisa',
      'line 7: credentials:',
      'line 10: tokenRejected:',
    ]);
  });

  it('every production file with assumptions is explained in docs/domain-decisions.md', () => {
    const docs = readFileSync(path.join(root, 'docs/domain-decisions.md'), 'utf8');
    const at = docs.indexOf('### Production configuration');
    expect(at, 'a "### Production configuration" subsection').to.be.greaterThan(-1);
    const section = docs.slice(at);
    for (const file of productionFiles()) {
      if (!readFileSync(path.join(PRODUCTION, file), 'utf8').includes('ASSUMPTION:')) continue;
      expect(section, file).to.include(`deploy/config-production/${file}`);
    }
  });
});
