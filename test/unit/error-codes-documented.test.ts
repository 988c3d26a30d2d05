import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { errorCodes } from '../../src/errors/codes.ts';
import { configCodes } from '../../src/errors/config-codes.ts';

describe('error code registry', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  for (const [code, spec] of Object.entries(errorCodes)) {
    it(`${code} is documented in README.md with its status and hop`, () => {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, `README.md has no table row for ${code}`).to.be.a('string');
      expect(row).to.contain(`| ${spec.status} |`);
      expect(row).to.contain(`| ${spec.hop} |`);
    });
  }
});

describe('config error code registry', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  for (const code of Object.keys(configCodes)) {
    it(`${code} is documented in README.md`, () => {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row, `README.md has no table row for ${code}`).to.be.a('string');
    });
  }
});
