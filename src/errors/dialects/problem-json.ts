import { definePlugin } from '../../plugin/plugin.ts';
import { deliveryFields, failureStatus, noOptions, type ErrorRenderer } from './dialect.ts';

/** RFC 9457 problem details, the default dialect. */
export const problemJsonDialect = definePlugin(
  noOptions('problem+json takes no options'),
  (): ErrorRenderer => (err, ctx) => ({
    status: failureStatus(err),
    contentType: 'application/problem+json; charset=utf-8',
    body: JSON.stringify({
      type: `urn:lgsp-gateway:error:${err.code}`,
      title: err.code,
      status: failureStatus(err),
      detail: err.message,
      instance: ctx.path,
      code: err.code,
      hop: err.hop,
      ...(err.upstream === undefined ? {} : { upstream: err.upstream }),
      requestId: ctx.requestId,
      ...deliveryFields(err),
      ...(err.details.length > 0 ? { errors: err.details } : {}),
    }),
  }),
);
