import { definePlugin } from '../../plugin/plugin.ts';
import { jsonError, noOptions, summariseDetails, traceFields, type ErrorRenderer } from './dialect.ts';

/**
 * MOJ civil-status software: `{ status: "1" | "0", statusDescription, errorCode, errorDescription }`
 * (domain.md §4; seed 003). A gateway error is always status "0" ("1" is success); errorCode is the GW_
 * code. No options: a configurable status could be set to "1".
 */
export const hotichDialect = definePlugin(
  noOptions('hotich takes no options: a gateway error always has status "0", never the success "1"'),
  (): ErrorRenderer => (err, ctx) =>
    jsonError(err, {
      status: '0',
      statusDescription: err.message,
      errorCode: err.code,
      errorDescription: summariseDetails(err),
      ...traceFields(err, ctx),
    }),
);
