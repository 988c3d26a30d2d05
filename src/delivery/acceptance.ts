import type { UpstreamDeliveryConfig } from '../config/types.ts';
import { getPath } from '../credentials/json-path.ts';

/** How one answer to a push is judged: delivered, refused for good (relayed, buried), or to be retried. */
export type Judgement = 'accepted' | 'refused' | 'retry';

export interface Verdict {
  readonly judgement: Judgement;
  /** A coded, citizen-data-free line for the ledger and the logs (`HTTP 503`, `error_code 5`); null when accepted. */
  readonly reason: string | null;
}

/** An upstream's acceptance rule, compiled at load from its `delivery:` block. */
export type AcceptanceRule = (status: number, body: Buffer) => Verdict;

type Field = UpstreamDeliveryConfig['accepted']['json'][number];

/**
 * Compiles an upstream's `delivery.accepted` / `delivery.refused` into one function. 408 and 429 are never
 * refusals (the upstream asks to come back later); the JSON conditions read a JSON answer only (anything
 * else fails an `accepted.json` condition and matches no `refused.json` one).
 */
export function compileAcceptance(config: UpstreamDeliveryConfig): AcceptanceRule {
  const acceptedStatus = statusMatcher(config.accepted.statuses);
  const refusedStatus = statusMatcher(config.refused.statuses);
  const acceptedJson = config.accepted.json;
  const refusedJson = config.refused.json;
  const readsBody = acceptedJson.length > 0 || refusedJson.length > 0;
  return (status, body) => {
    const json = readsBody ? parse(body) : undefined;
    if (acceptedStatus(status) && acceptedJson.every((field) => holds(field, json))) {
      return { judgement: 'accepted', reason: null };
    }
    const reason = describe(status, json, [...acceptedJson, ...refusedJson]);
    if (status === 408 || status === 429) return { judgement: 'retry', reason };
    if (refusedStatus(status) || refusedJson.some((field) => holds(field, json)))
      return { judgement: 'refused', reason };
    return { judgement: 'retry', reason };
  };
}

function statusMatcher(list: readonly (number | string)[]): (status: number) => boolean {
  const exact = new Set(list.filter((s): s is number => typeof s === 'number'));
  const classes = new Set(list.filter((s): s is string => typeof s === 'string').map((s) => Number(s[0])));
  return (status) => exact.has(status) || classes.has(Math.floor(status / 100));
}

function holds(field: Field, json: unknown): boolean {
  const value = getPath(json, field.path);
  if (value === undefined) return false;
  if (field.in && !field.in.some((v) => v === value)) return false;
  if (field.notIn && field.notIn.some((v) => v === value)) return false;
  return true;
}

/**
 * `HTTP 200 error_code=4`: the status and the value of each configured field that is a short code (a number,
 * or a string of at most 16 letters, digits, `-` and `_`): never a message, which may quote citizen data.
 */
function describe(status: number, json: unknown, fields: readonly Field[]): string {
  const parts = [`HTTP ${status}`];
  const seen = new Set<string>();
  for (const { path } of fields) {
    if (seen.has(path)) continue;
    seen.add(path);
    const value = getPath(json, path);
    if (
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      (typeof value === 'string' && /^[\w-]{1,16}$/.test(value))
    )
      if (!/\d{9,}/.test(String(value))) parts.push(`${path}=${String(value)}`);
  }
  return parts.join(' ');
}

function parse(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
