import type { Registry } from '../../plugin/plugin.ts';
import type { ErrorRenderer } from './dialect.ts';
import { hotichDialect } from './hotich.ts';
import { molisaDialect } from './molisa.ts';
import { ndxpDialect } from './ndxp.ts';
import { problemJsonDialect } from './problem-json.ts';
import { soapDialect } from './soap.ts';

/** Error dialects by name, as routes and upstreams name them in YAML (`errorDialect: molisa`). */
export const errorDialects: Registry<unknown, ErrorRenderer> = {
  'problem+json': problemJsonDialect,
  molisa: molisaDialect,
  ndxp: ndxpDialect,
  hotich: hotichDialect,
  soap: soapDialect,
};

export const defaultDialect = 'problem+json';
