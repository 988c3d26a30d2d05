import type { Plugin } from '../../plugin/plugin.ts';
import { summariseDetails, type ErrorRenderer } from './dialect.ts';

/**
 * MOLISA social-protection API: `{ error_code, message }`, 0 meaning success (seed 004, §IV.2), so a
 * gateway error always carries a non-zero code. The numeric code is the HTTP status unless configured.
 */
interface Options {
  errorCode?: number;
}

export const molisaDialect: Plugin<Options, unknown, ErrorRenderer> = {
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { errorCode: { type: 'integer', not: { const: 0 } } },
  },
  create: (options) => (err, ctx) => ({
    status: err.status,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({
      error_code: options.errorCode ?? err.status,
      message: summariseDetails(err),
      code: err.code,
      hop: err.hop,
      requestId: ctx.requestId,
      ...(err.details.length > 0 ? { errors: err.details } : {}),
    }),
  }),
};
