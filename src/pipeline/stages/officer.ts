import { GatewayError } from '../../errors/gateway-error.ts';
import type { Exchange } from '../exchange.ts';
import { xmlElementText } from '../xml-body.ts';

/** An officer identity is an account code: letters, digits and `. _ @ -`, at most 64 (no spaces, commas, markup). */
const OFFICER_ID = /^[\p{L}\p{N}._@-]{1,64}$/u;

/**
 * Who asked (route `officer:`, issue 16.6). Seed 002 binds every C06 account to one officer's signed
 * commitment, while the gateway calls with the province's platform token: the officer must be named in the
 * call and in the audit trail. Read from every source the route gives (header, JSON field after the
 * request stage, XML element); sources that disagree, a value that is no account code, or an XML body that
 * could show one value here and another upstream are refused; none at all is refused where the route
 * requires one. Then carried on as `forwardAs` says (a JSON body written into; an XML body never).
 * Values are never echoed in a refusal: a caller may have put a citizen's ID number there.
 */
export function identifyOfficer(ex: Exchange): void {
  const plan = ex.route.plan.officer;
  if (!plan) return;
  const { req, call } = ex;
  const found: { source: string; value: string }[] = [];
  const add = (source: string, value: string) => {
    if (value.trim() !== '') found.push({ source, value: value.trim() });
  };
  if (plan.header) {
    const value = req.headers[plan.header];
    if (value !== undefined) add(`header ${plan.header}`, Array.isArray(value) ? value.join(',') : value);
  }
  const json = !ex.xml && isRecord(call.json) ? call.json : undefined;
  if (plan.field && json && json[plan.field] !== undefined && json[plan.field] !== null) {
    const value = json[plan.field];
    if (typeof value !== 'string') throw invalid(`JSON field ${plan.field}`, 'phải là chuỗi');
    add(`JSON field ${plan.field}`, value);
  }
  if (plan.element && ex.xml && ex.body) {
    const value = xmlElementText(ex.body, plan.element);
    if (typeof value === 'object') throw invalid(`XML element ${plan.element}`, value.ambiguous);
    if (value !== undefined) add(`XML element ${plan.element}`, value);
  }
  if (found.length === 0) {
    if (plan.required) throw new GatewayError('GW_OFFICER_REQUIRED', { route: ex.route.id, sources: plan.sources });
    return;
  }
  const [first] = found;
  for (const { source, value } of found) {
    if (!OFFICER_ID.test(value)) throw invalid(source, 'chỉ gồm chữ, số và . _ @ -, tối đa 64 ký tự');
    if (value !== first.value) throw invalid(`${first.source} và ${source}`, 'hai nguồn cho hai giá trị khác nhau');
  }
  ex.record.officer = first.value;
  if (plan.forwardHeader) {
    for (const name of Object.keys(call.headers))
      if (name.toLowerCase() === plan.forwardHeader) delete call.headers[name];
    call.headers[plan.forwardHeader] = first.value;
  }
  if (plan.forwardField && json) json[plan.forwardField] = first.value;
}

function invalid(source: string, reason: string): GatewayError {
  return new GatewayError('GW_OFFICER_INVALID', { source, reason });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
