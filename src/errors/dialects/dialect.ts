import { Type } from '../../plugin/schema-type.ts';
import { NOTICE_CODES } from '../codes.ts';
import type { GatewayError } from '../gateway-error.ts';

/** What a dialect renders: the HTTP status stays the error's own, only the body shape changes. */
export interface RenderedError {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface ErrorContext {
  readonly requestId: string;
  /** The path the caller asked for, used as the problem+json `instance`. */
  readonly path: string;
}

export type ErrorRenderer = (err: GatewayError, ctx: ErrorContext) => RenderedError;

/**
 * The HTTP status of a gateway error as every dialect renders it: 4xx or 5xx, never a success a caller
 * could mistake for an answer (issue 13.9, last guard behind the option schemas).
 */
export function failureStatus(err: GatewayError): number {
  // A queued push's notice (issue 17): 202 Accepted, which no caller takes for the upstream's answer.
  if (err.status === 202 && NOTICE_CODES.has(err.code)) return 202;
  return Number.isInteger(err.status) && err.status >= 400 && err.status <= 599 ? err.status : 500;
}

/** A short one-line list of field errors, for dialects that have only a message string. */
export function summariseDetails(err: GatewayError): string {
  if (err.details.length === 0) return err.message;
  return `${err.message}: ${err.details.map((d) => d.message).join('; ')}`;
}

/** The tracking id and state of a queued push's notice, added to every dialect's body (issue 17). */
export function deliveryFields(err: GatewayError): { trackingId?: string; deliveryState?: string } {
  const { trackingId, state } = err.params;
  if (typeof trackingId !== 'string') return {};
  return typeof state === 'string' ? { trackingId, deliveryState: state } : { trackingId };
}

/**
 * What every JSON dialect writes after its own fields, so an admin can trace any error answer: the hop that
 * failed, the request id, a queued push's tracking fields and the field errors (when there are any).
 */
export function traceFields(err: GatewayError, ctx: ErrorContext): Record<string, unknown> {
  return {
    hop: err.hop,
    requestId: ctx.requestId,
    ...deliveryFields(err),
    ...(err.details.length > 0 ? { errors: err.details } : {}),
  };
}

/** A JSON error answer in `body`'s shape, with the error's own failure status. */
export function jsonError(err: GatewayError, body: Record<string, unknown>): RenderedError {
  return { status: failureStatus(err), contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

/** The options schema of a dialect that takes none; `description` says why (shown when a config sets one). */
export function noOptions(description: string) {
  return Type.Object({}, { additionalProperties: false, description });
}
