import type { Plugin, Registry } from '../../plugin/plugin.ts';
import type { ErrorRenderer } from './dialect.ts';
import { hotichDialect } from './hotich.ts';
import { molisaDialect } from './molisa.ts';
import { ndxpDialect } from './ndxp.ts';
import { problemJsonDialect } from './problem-json.ts';

/** Error dialects by name, as routes and upstreams name them in YAML (`errorDialect: molisa`). */
export const errorDialects: Registry<unknown, ErrorRenderer> = {
  'problem+json': problemJsonDialect as Plugin<never, unknown, ErrorRenderer>,
  molisa: molisaDialect as Plugin<never, unknown, ErrorRenderer>,
  ndxp: ndxpDialect as Plugin<never, unknown, ErrorRenderer>,
  hotich: hotichDialect as Plugin<never, unknown, ErrorRenderer>,
};

export const defaultDialect = 'problem+json';
