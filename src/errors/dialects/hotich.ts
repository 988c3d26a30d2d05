import type { Plugin } from '../../plugin/plugin.ts';
import { summariseDetails, type ErrorRenderer } from './dialect.ts';

/**
 * MOJ civil-status software: `{ status: "1" | "0", statusDescription, errorCode, errorDescription }`
 * (domain.md §4; seed 003). A gateway error is always status "0"; errorCode is the GW_ code.
 */
export const hotichDialect: Plugin<Record<string, never>, unknown, ErrorRenderer> = {
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => (err, ctx) => ({
    status: err.status,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({
      status: '0',
      statusDescription: err.message,
      errorCode: err.code,
      errorDescription: summariseDetails(err),
      hop: err.hop,
      requestId: ctx.requestId,
      ...(err.details.length > 0 ? { errors: err.details } : {}),
    }),
  }),
};
