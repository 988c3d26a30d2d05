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

/** A short one-line list of field errors, for dialects that have only a message string. */
export function summariseDetails(err: GatewayError): string {
  if (err.details.length === 0) return err.message;
  return `${err.message}: ${err.details.map((d) => d.message).join('; ')}`;
}
