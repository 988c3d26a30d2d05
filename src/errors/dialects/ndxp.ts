import { Type } from 'typebox';
import { definePlugin } from '../../plugin/plugin.ts';
import { deliveryFields, failureStatus, summariseDetails, type ErrorRenderer } from './dialect.ts';

/**
 * NDXP / VNeID style: `{ responseCode, responseMessage }` (seed 001, part C response). The response code
 * is a string: the HTTP status, never "200", which the platforms answer for success. No options: a
 * configurable code could be set to the success one.
 */
export const ndxpDialect = definePlugin(
  Type.Object(
    {},
    {
      additionalProperties: false,
      description: 'ndxp takes no options: responseCode is the HTTP status of the error, never the success code "200"',
    },
  ),
  (): ErrorRenderer => (err, ctx) => ({
    status: failureStatus(err),
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({
      responseCode: String(failureStatus(err)),
      responseMessage: summariseDetails(err),
      code: err.code,
      hop: err.hop,
      requestId: ctx.requestId,
      ...deliveryFields(err),
      ...(err.details.length > 0 ? { errors: err.details } : {}),
    }),
  }),
);
