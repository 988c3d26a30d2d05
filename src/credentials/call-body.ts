import type { OutgoingCall } from './types.ts';

/**
 * The bytes an outgoing call carries, serialised after the credentials wrote into it: its JSON or form
 * body when the route parsed one, else the body as it came (`passthrough`). One writer for the pipeline's
 * send stage, the delivery's sealed request and each delivery attempt.
 */
export function callBody(call: OutgoingCall, passthrough: Buffer | undefined): Buffer | undefined {
  if (call.json !== undefined) return Buffer.from(JSON.stringify(call.json));
  if (call.form !== undefined) return Buffer.from(call.form.toString());
  return passthrough;
}
