import type { Static } from 'typebox';
import { Type } from '../plugin/schema-type.ts';
import { ConfigPathError } from '../config/config-error.ts';
import { getPath } from './json-path.ts';

const scalar = Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'] });

/** Every condition given must hold. */
const BodySignalSchema = Type.Object(
  {
    /** Dot path of a code field, e.g. `error_code`. */
    path: Type.Optional(Type.String({ minLength: 1 })),
    in: Type.Optional(Type.Array(scalar, { minItems: 1 })),
    notIn: Type.Optional(Type.Array(scalar, { minItems: 1 })),
    /** Dot path of a message field and a case-insensitive regular expression it must match. */
    messagePath: Type.Optional(Type.String({ minLength: 1 })),
    messageMatches: Type.Optional(Type.String({ minLength: 1 })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    dependencies: { in: ['path'], notIn: ['path'], messageMatches: ['messagePath'] },
  },
);
export type BodySignal = Static<typeof BodySignalSchema>;

/**
 * YAML `tokenRejected:` block: when an upstream answer means "your token is no good" so the pipeline
 * drops it and replays once. HTTP 401 by default; some upstreams answer 200 with a failure code instead
 * (MOLISA: `error_code` non-zero with a message about the token, seed 004 §IV.1). The block itself
 * defaults to `{}`, so an absent one is filled to `{statuses: [401], when: []}` by the plug-in loader.
 */
export const TokenRejectedSchema = Type.Object(
  {
    statuses: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { default: [401] }),
    when: Type.Array(BodySignalSchema, { default: [] }),
  },
  { additionalProperties: false, default: {} },
);
export type TokenRejectedOptions = Static<typeof TokenRejectedSchema>;

/** Builds `isTokenRejected(status, body)`; the body may be parsed JSON, a JSON string or a Buffer. */
export function compileTokenRejected(
  options: TokenRejectedOptions,
  path: readonly (string | number)[],
): ((status: number, body: unknown) => boolean) & { readonly inspectsBody: boolean } {
  const statuses = new Set(options.statuses);
  const signals = options.when.map((signal, i) => {
    let pattern: RegExp | undefined;
    if (signal.messageMatches !== undefined) {
      try {
        pattern = new RegExp(signal.messageMatches, 'i');
      } catch (err) {
        throw new ConfigPathError([...path, 'when', i, 'messageMatches'], 'pattern', (err as Error).message);
      }
    }
    return (body: unknown): boolean => {
      if (signal.path !== undefined) {
        const code = getPath(body, signal.path);
        if (code === undefined) return false;
        if (signal.in && !signal.in.includes(code as string)) return false;
        if (signal.notIn && signal.notIn.includes(code as string)) return false;
      }
      if (pattern && signal.messagePath !== undefined) {
        const message = getPath(body, signal.messagePath);
        if (typeof message !== 'string' || !pattern.test(message)) return false;
      }
      return true;
    };
  });
  // The JSON key each signal needs (the last segment of its path): an answer whose raw bytes hold none
  // of them cannot match, and is not parsed (most answers, on every call of a MOLISA route).
  const needles = options.when.map((signal) => keyNeedle(signal.path ?? signal.messagePath));
  const check = (status: number, body: unknown): boolean => {
    if (statuses.has(status)) return true;
    if (signals.length === 0) return false;
    if (Buffer.isBuffer(body) && !mayHoldSignal(body, needles)) return false;
    const parsed = parseBody(body);
    return parsed !== undefined && signals.some((matches) => matches(parsed));
  };
  // Tells the pipeline whether answers must be read to look for a signal, or can stream straight through.
  return Object.assign(check, { inspectsBody: signals.length > 0 });
}

/** `"key"` as it appears in JSON text, or undefined when the path ends in an array index (always parse). */
function keyNeedle(path: string | undefined): Buffer | undefined {
  const last = path?.split('.').at(-1);
  if (last === undefined || last === '' || /^\d+$/.test(last)) return undefined;
  return Buffer.from(JSON.stringify(last));
}

/** False only when no signal's key can be in the body (a `\u` escape could spell one: then parse). */
function mayHoldSignal(body: Buffer, needles: readonly (Buffer | undefined)[]): boolean {
  if (body.includes(BACKSLASH_U)) return true;
  return needles.some((needle) => needle === undefined || body.includes(needle));
}
const BACKSLASH_U = Buffer.from('\\u');

function parseBody(body: unknown): unknown {
  if (Buffer.isBuffer(body)) body = body.toString('utf8');
  if (typeof body !== 'string') return body ?? undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
