import { Type } from 'typebox';
import { definePlugin } from '../../plugin/plugin.ts';
import { deliveryFields, failureStatus, summariseDetails, type ErrorRenderer } from './dialect.ts';

/**
 * MOJ civil-status software: `{ status: "1" | "0", statusDescription, errorCode, errorDescription }`
 * (domain.md §4; seed 003). A gateway error is always status "0" ("1" is success); errorCode is the GW_
 * code. No options: a configurable status could be set to "1".
 */
export const hotichDialect = definePlugin(
  Type.Object(
    {},
    {
      additionalProperties: false,
      description: 'hotich takes no options: a gateway error always has status "0", never the success "1"',
    },
  ),
  (): ErrorRenderer => (err, ctx) => ({
    status: failureStatus(err),
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({
      status: '0',
      statusDescription: err.message,
      errorCode: err.code,
      errorDescription: summariseDetails(err),
      hop: err.hop,
      requestId: ctx.requestId,
      ...deliveryFields(err),
      ...(err.details.length > 0 ? { errors: err.details } : {}),
    }),
  }),
);
