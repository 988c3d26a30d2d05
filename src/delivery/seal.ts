import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * A push as it is stored: the mapped and validated request the gateway would send, minus the upstream's
 * credentials (applied afresh at each attempt through the route's credential chain).
 */
export interface SealedRequest {
  readonly method: string;
  /** Upstream path and query. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer | undefined;
}

/** Blob layout: version (1) | key id (8) | IV (12) | GCM tag (16) | ciphertext. */
const VERSION = 1;
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;

export interface Sealer {
  /** Encrypts a request under the current key (AES-256-GCM; the version and key id are authenticated too). */
  seal(request: SealedRequest): Buffer;
  /** Decrypts a blob sealed under the current key or one of the previous ones; throws on any tampering. */
  open(blob: Buffer): SealedRequest;
  /** Keyed HMAC of a business key (the store's orderKey): no citizen identifier at rest. */
  orderKey(businessKey: string): string;
  /** The current key's id (hex), for /admin and logs: it says which key, never the key. */
  readonly keyId: string;
}

/**
 * Reads a 32-byte key given as 64 hex digits or base64 (what `openssl rand -hex 32` / `-base64 32` print).
 * Anything else is refused: a passphrase would silently be a weak key.
 */
export function parseKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
    return key.length === 32 ? key : undefined;
  }
  return undefined;
}

/** The sealer of `current` (sealing and opening) and `previous` keys (opening only, after a rotation). */
export function createSealer(current: Buffer, previous: readonly Buffer[] = []): Sealer {
  const keys = new Map<string, Buffer>();
  for (const key of [current, ...previous]) keys.set(keyIdOf(key).toString('hex'), key);
  const currentId = keyIdOf(current);
  // A separate key for the business-key HMACs, derived so that the ledger's keys do not change with the
  // ciphertexts' key id scheme, and a leaked HMAC key would not decrypt anything.
  const hmacKey = Buffer.from(hkdfSync('sha256', current, Buffer.alloc(0), 'lgsp-gateway delivery order key', 32));
  return {
    keyId: currentId.toString('hex'),
    seal(request) {
      const iv = randomBytes(IV_BYTES);
      const head = Buffer.concat([Buffer.of(VERSION), currentId]);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(head);
      const plain = Buffer.from(
        JSON.stringify({
          m: request.method,
          p: request.path,
          h: request.headers,
          b: request.body?.toString('base64') ?? null,
        }),
      );
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      plain.fill(0);
      return Buffer.concat([head, iv, cipher.getAuthTag(), body]);
    },
    open(blob) {
      if (blob.length < HEADER_BYTES || blob[0] !== VERSION) throw new Error('not a sealed delivery');
      const id = blob.subarray(1, 1 + KEY_ID_BYTES);
      const key = keys.get(id.toString('hex'));
      if (!key) throw new Error(`sealed under an unknown key (id ${id.toString('hex')})`);
      const iv = blob.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES);
      const tag = blob.subarray(1 + KEY_ID_BYTES + IV_BYTES, HEADER_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(blob.subarray(0, 1 + KEY_ID_BYTES));
      decipher.setAuthTag(tag);
      const plain = Buffer.concat([decipher.update(blob.subarray(HEADER_BYTES)), decipher.final()]);
      const value = JSON.parse(plain.toString('utf8')) as {
        m: string;
        p: string;
        h: Record<string, string | string[]>;
        b: string | null;
      };
      return {
        method: value.m,
        path: value.p,
        headers: value.h,
        body: value.b === null ? undefined : Buffer.from(value.b, 'base64'),
      };
    },
    orderKey(businessKey) {
      return createHmac('sha256', hmacKey).update(businessKey, 'utf8').digest('base64url');
    },
  };
}

/** The first 8 bytes of the key's SHA-256: names the key in each blob without revealing it. */
function keyIdOf(key: Buffer): Buffer {
  return createHash('sha256').update('lgsp-gateway delivery key id').update(key).digest().subarray(0, KEY_ID_BYTES);
}

/** SHA-256 (base64url) of what is delivered: method, path and body (the idempotency fingerprint). */
export function payloadHash(request: SealedRequest): string {
  const hash = createHash('sha256');
  hash.update(request.method).update('\n').update(request.path).update('\n');
  if (request.body) hash.update(request.body);
  return hash.digest('base64url');
}
