import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, type ConfigIssue } from '../../../src/config/config-error.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { errorDialects } from '../../../src/errors/dialects/index.ts';
import { GatewayError } from '../../../src/errors/gateway-error.ts';
import { gatewayLoadOptions } from '../../../src/app/default-factories.ts';
import { startGateway } from '../../helpers/gateway.ts';
import { request } from '../../helpers/http.ts';

/**
 * Issue 13.9: every error dialect's options are validated at load against its schema, located at
 * file:line:key like any other config fault, and no dialect can render a gateway error with the success
 * code of the platform it imitates (MOLISA error_code 0, NDXP responseCode "200", civil-status status "1").
 */
const UPSTREAM = (dialect: string) =>
  `version: 1\nupstreams:\n  molisa:\n    url: "http://127.0.0.1:1/molisa"\n    errorDialect: ${dialect}\n`;

function loadFails(files: Record<string, string>): ConfigIssue[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-dialect-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    loadConfig(dir, gatewayLoadOptions({}));
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return [...(err as ConfigError).issues];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error('the config loaded');
}

describe('plug-in options: error dialects (issue 13.9)', () => {
  const refused: { name: string; files: Record<string, string>; expect: Partial<ConfigIssue>; says: RegExp }[] = [
    {
      name: 'molisa errorCode 0 (success to a MOLISA caller) on an upstream',
      files: { 'upstreams.yaml': UPSTREAM('{ name: molisa, options: { errorCode: 0 } }') },
      expect: {
        file: 'upstreams.yaml',
        line: 5,
        path: 'upstreams.molisa.errorDialect.options.errorCode',
        rule: 'minimum',
      },
      says: /error dialect molisa: must be >= 1 \(error_code 0 means success/,
    },
    {
      name: 'molisa errorCode "0" as a string',
      files: { 'upstreams.yaml': UPSTREAM('{ name: molisa, options: { errorCode: "0" } }') },
      expect: { path: 'upstreams.molisa.errorDialect.options.errorCode', rule: 'type' },
      says: /must be integer/,
    },
    {
      name: 'molisa errorCode negative',
      files: { 'upstreams.yaml': UPSTREAM('{ name: molisa, options: { errorCode: -1 } }') },
      expect: { path: 'upstreams.molisa.errorDialect.options.errorCode', rule: 'minimum' },
      says: />= 1/,
    },
    {
      name: 'molisa with a misspelt option',
      files: { 'upstreams.yaml': UPSTREAM('{ name: molisa, options: { error_code: 7 } }') },
      expect: { path: 'upstreams.molisa.errorDialect.options.error_code', rule: 'additionalProperties' },
      says: /unknown option error_code/,
    },
    {
      name: 'ndxp responseCode "200" (ndxp takes no options)',
      files: { 'upstreams.yaml': UPSTREAM('{ name: ndxp, options: { responseCode: "200" } }') },
      expect: { file: 'upstreams.yaml', line: 5, path: 'upstreams.molisa.errorDialect.options.responseCode' },
      says: /unknown option responseCode \(ndxp takes no options/,
    },
    {
      name: 'hotich status "1" on a route',
      files: {
        'upstreams.yaml': UPSTREAM('molisa'),
        'routes.yaml':
          'routes:\n  - id: r\n    path: /molisa/x\n    upstream: molisa\n    errorDialect:\n      name: hotich\n      options: { status: "1" }\n',
      },
      expect: {
        file: 'routes.yaml',
        line: 7,
        path: 'routes[0].errorDialect.options.status',
        rule: 'additionalProperties',
      },
      says: /hotich takes no options/,
    },
    {
      name: 'problem+json with any option',
      files: { 'upstreams.yaml': UPSTREAM('{ name: "problem+json", options: { status: 200 } }') },
      expect: { path: 'upstreams.molisa.errorDialect.options.status' },
      says: /unknown option status/,
    },
  ];
  for (const c of refused) {
    it(`refuses at load: ${c.name}, located at file:line and key`, () => {
      const issues = loadFails(c.files);
      const issue = issues.find((i) => i.path.includes('errorDialect'));
      expect(issue, JSON.stringify(issues)).to.not.equal(undefined);
      expect(issue).to.include(c.expect);
      expect(issue!.message).to.match(c.says);
    });
  }

  it('a valid option loads (molisa errorCode 99)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-dialect-'));
    try {
      writeFileSync(path.join(dir, 'upstreams.yaml'), UPSTREAM('{ name: molisa, options: { errorCode: 99 } }'));
      expect(() => loadConfig(dir, gatewayLoadOptions({}))).not.to.throw();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the gateway refuses to start with the ConfigError naming file:line and the key', async () => {
    let error: unknown;
    try {
      const gw = await startGateway({ 'upstreams.yaml': UPSTREAM('{ name: molisa, options: { errorCode: 0 } }') });
      await gw.close();
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.match(
      /upstreams\.yaml:5:\d+: upstreams\.molisa\.errorDialect\.options\.errorCode: /,
    );
  });

  it('a configured errorCode is what a MOLISA caller reads on a gateway error', async () => {
    const gw = await startGateway({
      'upstreams.yaml': `${UPSTREAM('{ name: molisa, options: { errorCode: 99 } }')}`,
      'routes.yaml': 'routes:\n  - { id: r, methods: [POST], path: /molisa/x, upstream: molisa }\n',
    });
    try {
      const res = await request(`${gw.url}/molisa/x`);
      expect(res.status).to.equal(405);
      expect(res.json()).to.include({ error_code: 99, code: 'GW_METHOD_NOT_ALLOWED' });
    } finally {
      await gw.close();
    }
  });

  describe('render-time guard (a renderer built without the loader)', () => {
    const ctx = { requestId: 'r1', path: '/x' };
    const forged = new GatewayError('GW_BAD_REQUEST', { reason: 'x' });
    (forged as { status: number }).status = 200; // a status that reads as success

    it('molisa built with errorCode 0 still renders a non-zero error_code', () => {
      const out = errorDialects.molisa.create({ errorCode: 0 } as never, {})(
        new GatewayError('GW_BAD_REQUEST', { reason: 'x' }),
        ctx,
      );
      expect(JSON.parse(out.body).error_code).to.equal(400);
    });
    it('no dialect renders a 2xx status or its platform success code', () => {
      for (const [name, dialect] of Object.entries(errorDialects)) {
        const out = dialect.create({} as never, {})(forged, ctx);
        expect(out.status, name).to.equal(500);
        if (name === 'soap') {
          expect(out.body).to.include('<soap:Fault>').and.include('<faultcode>soap:Client</faultcode>');
          continue;
        }
        const body = JSON.parse(out.body) as Record<string, unknown>;
        expect(body.error_code ?? 500, name).not.to.equal(0);
        expect(body.responseCode ?? '500', name).not.to.equal('200');
        if (name === 'hotich') expect(body.status).to.equal('0');
        if (name === 'problem+json') expect(body.status).to.equal(500);
      }
    });
  });
});
