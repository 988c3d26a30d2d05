import type { Plugin } from '../../plugin/plugin.ts';
import { summariseDetails, type ErrorRenderer } from './dialect.ts';

/**
 * NDXP / VNeID style: `{ responseCode, responseMessage }` (seed 001, part C response). The response code
 * is a string; by default the HTTP status, as the platforms answer "200" for success.
 */
export const ndxpDialect: Plugin<Record<string, never>, unknown, ErrorRenderer> = {
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => (err, ctx) => ({
    status: err.status,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({
      responseCode: String(err.status),
      responseMessage: summariseDetails(err),
      code: err.code,
      hop: err.hop,
      requestId: ctx.requestId,
      ...(err.details.length > 0 ? { errors: err.details } : {}),
    }),
  }),
};
