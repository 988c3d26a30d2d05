import { GatewayError } from '../errors/gateway-error.ts';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'HPE_INVALID_CONSTANT',
]);

/**
 * One pure function from a socket/TLS error to the gateway error naming the upstream and the failure
 * (the role of http-proxy-middleware's status-code.ts): refused -> 502, reset -> 502, timeout -> 504.
 */
export function upstreamError(err: unknown, upstream: string): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  const reason = code
    ? `${code}${e.message && !e.message.includes(code) ? `: ${e.message}` : ''}`
    : String(e?.message ?? err);
  if (CONNECT_CODES.has(code))
    return new GatewayError('GW_UPSTREAM_CONNECT_FAILED', { upstream, reason }, { cause: err });
  if (code === 'ETIMEDOUT') {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', { upstream, timeoutMs: '?', phase: 'connect' }, { cause: err });
  }
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_(VERIFY|GET)|ERR_SSL|DEPTH_ZERO/.test(code)) {
    return new GatewayError('GW_UPSTREAM_TLS', { upstream, reason }, { cause: err });
  }
  if (RESET_CODES.has(code) || code.startsWith('HPE_') || /socket hang up/i.test(e?.message ?? '')) {
    return new GatewayError('GW_UPSTREAM_RESET', { upstream, reason }, { cause: err });
  }
  return new GatewayError('GW_UPSTREAM_RESET', { upstream, reason: reason || 'unknown error' }, { cause: err });
}

/** `body`: the response head came, then the body went silent for longer than the timeout (idle, not total). */
export function timeoutError(
  upstream: string,
  timeoutMs: number,
  phase: 'connect' | 'response' | 'body',
): GatewayError {
  return new GatewayError('GW_UPSTREAM_TIMEOUT', { upstream, timeoutMs, phase });
}
