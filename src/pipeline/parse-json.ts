import { GatewayError } from '../errors/gateway-error.ts';
import type { Exchange, JsonParser } from './exchange.ts';
import { guardJsonBody } from '../transform/json-guard.ts';

/** A JSON body parsed, with the parser's flag for numbers carried as their source text. */
export interface ParsedJson {
  readonly value: unknown;
  readonly rawNumbers?: boolean;
}

/** An upstream answer parsed for a response stage, or why it could not be. */
export type ParsedAnswer = ({ ok: true } & ParsedJson) | { ok: false; error: GatewayError };

/**
 * A caller's body: guarded (depth, key count, numbers a double may not carry; json-guard.ts), then parsed,
 * exactly where the guard saw a number at risk. A fault throws the caller's 400.
 */
export function parseGuarded(ex: Exchange, buf: Buffer): ParsedJson {
  const limits = ex.route.plan.json;
  const facts = guardJsonBody(buf, limits);
  if (facts instanceof GatewayError) throw facts;
  const parsed = ex.ctx.parseJson(buf, {
    maxDepth: limits.maxDepth,
    exactNumbers: facts.exactNumbers,
    guarded: facts.checked,
  });
  if (!parsed.ok) throw parsed.error;
  return parsed;
}

/**
 * An upstream answer guarded and parsed like a request: a hostile or broken upstream must not reach the
 * mapping's recursion (issue 14.5). A fault is a 502 naming the upstream and the rule.
 */
export function readAnswer(ex: Exchange, body: Buffer): ParsedAnswer {
  const limits = ex.route.plan.json;
  const facts = guardJsonBody(body, limits);
  if (facts instanceof GatewayError) {
    const reason = String(facts.params.reason ?? facts.message);
    return badAnswer(ex, facts.code === 'GW_MALFORMED_JSON' ? `phản hồi không phải JSON hợp lệ (${reason})` : reason);
  }
  const parsed = ex.ctx.parseJson(body, {
    maxDepth: limits.maxDepth,
    exactNumbers: facts.exactNumbers,
    guarded: facts.checked,
  });
  if (!parsed.ok) {
    const detail = String(parsed.error.params.reason ?? parsed.error.message);
    return badAnswer(
      ex,
      parsed.error.code === 'GW_MALFORMED_JSON' ? `phản hồi không phải JSON hợp lệ (${detail})` : detail,
    );
  }
  return parsed;
}

function badAnswer(ex: Exchange, reason: string): ParsedAnswer {
  return { ok: false, error: new GatewayError('GW_UPSTREAM_BAD_RESPONSE', { upstream: ex.route.upstream.id, reason }) };
}

/** Plain JSON.parse with the position of the fault; the transform module supplies a stricter parser. */
export const parseJsonPlain: JsonParser = (buf) => {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) };
  } catch (err) {
    return { ok: false, error: new GatewayError('GW_MALFORMED_JSON', { reason: (err as Error).message }) };
  }
};
