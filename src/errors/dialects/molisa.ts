import { Type } from '../../plugin/schema-type.ts';
import { definePlugin } from '../../plugin/plugin.ts';
import { failureStatus, jsonError, summariseDetails, traceFields, type ErrorRenderer } from './dialect.ts';

/**
 * MOLISA social-protection API: `{ error_code, message }`, 0 meaning success (seed 004, §IV.2), so a
 * gateway error always carries a non-zero code. The numeric code is the HTTP status unless configured.
 */
export const molisaDialect = definePlugin(
  Type.Object(
    {
      errorCode: Type.Optional(
        Type.Integer({
          minimum: 1,
          description: 'error_code 0 means success to a MOLISA caller (seed 004): a gateway error never carries it',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  (options): ErrorRenderer =>
    (err, ctx) =>
      jsonError(err, {
        // The schema refuses 0 at load; this guards a renderer built without the loader.
        error_code: isErrorCode(options.errorCode) ? options.errorCode : failureStatus(err),
        message: summariseDetails(err),
        code: err.code,
        ...traceFields(err, ctx),
      }),
);

function isErrorCode(code: unknown): code is number {
  return typeof code === 'number' && Number.isInteger(code) && code >= 1;
}
