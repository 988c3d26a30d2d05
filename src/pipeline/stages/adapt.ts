import { GatewayError } from '../../errors/gateway-error.ts';
import { mayHoldCombiningMarks } from '../../transform/text.ts';
import { outgoingHeaders } from '../../upstream/headers.ts';
import { describeUtf8Request } from '../body-encoding.ts';
import type { Exchange } from '../exchange.ts';
import { parseGuarded } from '../parse-json.ts';
import { identifyOfficer } from './officer.ts';

/**
 * Turns the caller's request into the upstream's: the forwarded headers (routing overrides only where the
 * route lets them through), the upstream path, and for parsed routes the body, mapped and validated
 * (`json`) or parsed as a form (`form`) and labelled plain UTF-8 again.
 */
export function adapt(ex: Exchange): void {
  const { req, route, consumer } = ex;
  const headers = outgoingHeaders(req, {
    requestId: ex.requestId,
    proto: (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    dropAuthorization: consumer!.via === 'jwt',
    trustedProxies: ex.runtime.trustedProxies,
    allowHeaders: route.forwardHeaders,
  });
  ex.upstreamPath = route.upstreamPath(ex.params) + ex.query;
  ex.call = { method: ex.record.method, headers, json: undefined, form: undefined, query: ex.query };
  const mode = route.plan.body;
  // An XML body (bodies: [json, xml]) goes as it came: the JSON stages apply to JSON bodies only.
  if (mode === 'json' && !ex.xml) adaptJson(ex);
  else if (mode === 'form') adaptForm(ex);
  identifyOfficer(ex);
}

/** A JSON body parsed, mapped and validated; an empty one passes as it is unless the route needs one. */
function adaptJson(ex: Exchange): void {
  const { body, route, call } = ex;
  if (body === undefined || body.length === 0) {
    if (route.request)
      throw new GatewayError('GW_BAD_REQUEST', { reason: `tuyến ${route.id} cần dữ liệu JSON trong thân yêu cầu` });
    return;
  }
  const parsed = parseGuarded(ex, body);
  let value = parsed.value;
  if (route.request) {
    // The consumer picks the code forms its values are read in (consumers.<id>.codeForms, issue 16.1).
    // The body's bytes are UTF-8 here (decoded before the guard): without a combining mark's lead byte
    // or escape, the mapping's NFC trim has no string to scan (text.ts mayHoldCombiningMarks).
    const facts = { noCombiningMarks: !mayHoldCombiningMarks(body) };
    const out = route.request.run(value, parsed.rawNumbers, ex.consumer!.id, facts);
    if (out.errors.length > 0) {
      ex.record.validationRejected = true;
      throw new GatewayError('GW_VALIDATION_FAILED', { count: out.errors.length }, { details: out.errors });
    }
    value = out.body;
  }
  // After the mapping, which normalises the field (a module code upper-cased by its code list).
  const mismatch = route.apiVersionGuard?.(ex.params, value);
  if (mismatch) {
    ex.record.validationRejected = true;
    throw mismatch;
  }
  call.json = value;
  ex.body = undefined; // what is sent is the adapted value, never the caller's bytes
  describeUtf8Request(call.headers);
  ex.ctx.hooks?.onBody?.(ex.record, value);
}

/** A form body parsed, so a credential can write into it. */
function adaptForm(ex: Exchange): void {
  if (ex.body === undefined) return;
  ex.call.form = new URLSearchParams(ex.body.toString('utf8'));
  ex.body = undefined;
  describeUtf8Request(ex.call.headers);
}
