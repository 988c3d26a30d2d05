import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { SecretMasker } from './secret-masker.ts';

/**
 * What an upstream's answer may not carry back to the caller (issue 13.5): the credentials the gateway
 * injected, quoted in a header value, and cookies of the national side, which would bind the caller to a
 * session opened with the gateway's credentials. Body bytes are masked by the masker's stream; headers
 * here, in place, before they are written.
 */
export function scrubRelayedHeaders(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
  masker: SecretMasker | undefined,
  allowSetCookie: boolean,
): void {
  if (!allowSetCookie && headers['set-cookie'] !== undefined) delete headers['set-cookie'];
  if (!masker) return;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') {
      const masked = masker.maskHeaderValue(value);
      if (masked !== value) headers[name] = masked;
    } else if (Array.isArray(value)) headers[name] = value.map((v) => masker.maskHeaderValue(v));
  }
}
