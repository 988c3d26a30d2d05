import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { resolveSecretRef } from '../config/secrets.ts';
import { ConfigPathError } from '../config/config-error.ts';
import type { ApiKeyRef } from '../config/types.ts';

/**
 * API keys, client secrets and admin keys: stored as SHA-256 digests, compared in constant time.
 *
 * A fast hash is enough here (no bcrypt/scrypt on the hot path) because the keys themselves are random
 * with at least 128 bits of entropy: there is no dictionary to brute-force, unlike a password.
 */

/** Where secrets from `{env}` refs come from (tests pass their own). */
import type { Env } from '../config/interpolate.ts';

/** Keys taken from env vars or files must look random: 22 base64url chars carry 128 bits. */
export const MIN_KEY_LENGTH = 22;
/** Longer presented keys are rejected before hashing (a header of kilobytes is never a key). */
export const MAX_KEY_LENGTH = 512;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** SHA-256 of a key as a 32-byte Buffer. */
export function sha256(key: string): Buffer {
  // One-shot crypto.hash: no Hash object per call (this runs on every API-key request). Its digest as a
  // latin1 ('binary') string (one character a byte) copied into a Buffer costs about half of asking for a Buffer
  // (which node builds from C++ on a fresh ArrayBuffer): ~0.7 against ~1.2 µs.
  return Buffer.from(hash('sha256', key, 'binary'), 'binary');
}

/** Makes a new API key (256 random bits, base64url, `lgsp_` prefix so scanners spot leaked ones) and its digest. */
export function genKey(): { key: string; sha256: string } {
  const key = `lgsp_${randomBytes(32).toString('base64url')}`;
  return { key, sha256: sha256(key).toString('hex') };
}

/**
 * Finds which digest (if any) a presented key matches. The key is hashed once; then EVERY digest is
 * compared with `compare` (timingSafeEqual on two 32-byte buffers), with no early exit, so the time spent
 * depends only on how many keys are configured, never on the secret or on which entry matched.
 * `compare` is a parameter only so a test can prove how it is called.
 */
export function matchDigest(
  presented: string,
  digests: readonly Buffer[],
  compare: (a: Buffer, b: Buffer) => boolean = timingSafeEqual,
): number {
  if (presented.length === 0 || presented.length > MAX_KEY_LENGTH) return -1;
  const digest = sha256(presented);
  let found = -1;
  for (let i = 0; i < digests.length; i++) {
    // No `break`: the loop always runs over every digest, and a later match never overrides the first.
    const hit = compare(digest, digests[i]) ? 1 : 0;
    found = found === -1 && hit === 1 ? i : found;
  }
  return found;
}

/**
 * Turns configured key refs into digests. `{sha256}` is used as is; `{env}`/`{file}` keys are read,
 * trimmed (files end with a newline), checked for length and hashed; the clear text is not kept.
 */
export function resolveKeyDigests(
  refs: readonly ApiKeyRef[] | undefined,
  path: readonly (string | number)[],
  env: Env,
  /** `sandboxDefault` values are honoured only outside `environment: production`. */
  allowSandboxDefault = false,
) {
  const out: Buffer[] = [];
  (refs ?? []).forEach((ref, i) => {
    const at = [...path, i];
    if (ref.sha256 !== undefined) {
      const hex = ref.sha256.toLowerCase();
      if (!SHA256_HEX.test(hex)) throw new ConfigPathError([...at, 'sha256'], 'pattern', 'must be 64 hex characters');
      out.push(Buffer.from(hex, 'hex'));
      return;
    }
    if (ref.env !== undefined && ref.sandboxDefault !== undefined && !env[ref.env]) {
      if (!allowSandboxDefault) {
        throw new ConfigPathError(
          [...at, 'env'],
          'secret',
          `${ref.env} is not set (sandboxDefault is refused in production)`,
        );
      }
      out.push(sha256(ref.sandboxDefault));
      return;
    }
    const source = ref.env !== undefined ? { env: ref.env } : ref.file !== undefined ? { file: ref.file } : undefined;
    if (!source) throw new ConfigPathError(at, 'required', 'a key needs one of sha256, env, file');
    const key = resolveSecretRef(source, at, env).trim();
    if (key.length < MIN_KEY_LENGTH || key.length > MAX_KEY_LENGTH) {
      throw new ConfigPathError(
        [...at, ref.env !== undefined ? 'env' : 'file'],
        'key-strength',
        `a key must be ${MIN_KEY_LENGTH}..${MAX_KEY_LENGTH} characters (use lgsp-gateway gen-key)`,
      );
    }
    out.push(sha256(key));
  });
  return out;
}
