import { definePlugin } from '../../plugin/plugin.ts';
import { failureStatus, jsonError, noOptions, summariseDetails, traceFields, type ErrorRenderer } from './dialect.ts';

/**
 * NDXP / VNeID style: `{ responseCode, responseMessage }` (seed 001, part C response). The response code
 * is a string: the HTTP status, never "200", which the platforms answer for success. No options: a
 * configurable code could be set to the success one.
 */
export const ndxpDialect = definePlugin(
  noOptions('ndxp takes no options: responseCode is the HTTP status of the error, never the success code "200"'),
  (): ErrorRenderer => (err, ctx) =>
    jsonError(err, {
      responseCode: String(failureStatus(err)),
      responseMessage: summariseDetails(err),
      code: err.code,
      ...traceFields(err, ctx),
    }),
);
