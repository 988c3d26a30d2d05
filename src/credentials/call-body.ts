import { jsonUtf8 } from '../transform/json-utf8.ts';
import type { OutgoingCall } from './types.ts';

/**
 * The bytes an outgoing call carries, serialised after the credentials wrote into it: its JSON or form
 * body when the route parsed one, else the body as it came (`passthrough`). One writer for the pipeline's
 * send stage, the delivery's sealed request and each delivery attempt. A JSON body is written straight as
 * UTF-8 (json-utf8.ts: the bytes of `Buffer.from(JSON.stringify(json))` without the string between).
 */
export function callBody(call: OutgoingCall, passthrough: Buffer | undefined): Buffer | undefined {
  if (call.json !== undefined) return jsonUtf8(call.json);
  if (call.form !== undefined) return Buffer.from(call.form.toString());
  return passthrough;
}
