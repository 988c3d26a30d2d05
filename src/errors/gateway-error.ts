import { maskText } from '../logging/mask.ts';
import { errorCodes, type ErrorCode, type Hop } from './codes.ts';

/** One problem inside a rejected payload: where (JSON pointer), which rule, and a readable message. */
export interface FieldError {
  /** JSON pointer into the body the caller sent, e.g. `/0/HoVaTen` (record index first for arrays). */
  readonly pointer: string;
  /** The JSON Schema keyword or mapping rule that failed (English), e.g. `maxLength`. */
  readonly rule: string;
  /** Vietnamese sentence naming the field, the rule and its limit. */
  readonly message: string;
  readonly limit?: unknown;
}

type Params = Readonly<Record<string, string | number | boolean | undefined>>;

/** An error the gateway produces: coded data, rendered later in the caller's dialect. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hop: Hop;
  readonly params: Params;
  readonly details: readonly FieldError[];
  /** Extra response headers (Allow, Retry-After, WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;
  /** For upstream failures: the upstream id, so dialects and logs can name the hop. */
  readonly upstream: string | undefined;

  constructor(
    code: ErrorCode,
    params: Params = {},
    extra: { details?: readonly FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    const spec = errorCodes[code];
    super(renderTemplate(spec.message, params), extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = spec.status;
    this.hop = spec.hop;
    this.params = params;
    this.details = extra.details ?? [];
    this.headers = extra.headers ?? {};
    this.upstream = typeof params.upstream === 'string' ? params.upstream : undefined;
  }
}

/**
 * Fills `{name}` placeholders; a missing param renders as `?` so a template never throws. Text params
 * (a caller's path, a content type, an upstream's message) are masked: an ID number a caller put in a
 * path (`/x/012345678901`, `%30%31…`) is not echoed into the answer or the log (issue 14.7).
 */
export function renderTemplate(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    return value === undefined ? '?' : typeof value === 'string' ? maskText(value) : String(value);
  });
}

/** Wraps anything thrown into a GatewayError (unknown errors become GW_INTERNAL). */
export function toGatewayError(err: unknown, requestId: string): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('GW_INTERNAL', { requestId }, { cause: err });
}
