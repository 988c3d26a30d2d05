import { createHmac, hash, type KeyObject } from 'node:crypto';

/**
 * HMAC-SHA256 of short identifiers, base64url without padding: the audit trail hashes one per distinct
 * citizen ID of every body. `createHmac` costs ~2.5 µs a call, nearly all of it making the native `Hmac`
 * object and crossing into OpenSSL (the two SHA-256 blocks themselves are ~0.2 µs). Here the key's inner
 * and outer blocks are compressed once (the standard HMAC precomputation, RFC 2104 §4), and a message of
 * at most 55 ASCII bytes (every ID number, dossier code or account code the trail sees) costs two
 * compressions in JavaScript. Anything else (longer, or non-ASCII) goes to `createHmac`: the same digest.
 * Property-tested against `createHmac` (test/unit/consumers/subject-hmac.test.ts).
 *
 * The two 32-byte states stand for the key (as the `KeyObject` does) and live as long as the trail.
 * SHA-256 has no data-dependent branches or table lookups: the time depends on the message's length (and
 * on whether, and where, it first holds a non-ASCII character), never on the key.
 */
export function compileSubjectHmac(key: Buffer | KeyObject): (message: string) => string {
  const raw = Buffer.isBuffer(key) ? key : key.export();
  const block = new Uint8Array(64);
  block.set(raw.length > 64 ? hash('sha256', raw, 'buffer') : raw);
  const inner = padState(block, 0x36);
  const outer = padState(block, 0x5c);
  block.fill(0);
  if (raw !== key) raw.fill(0); // the exported copy: the KeyObject keeps its own
  const state = new Int32Array(8);
  return (message) => {
    const length = message.length;
    if (length > 55 || !loadAscii(message, length)) {
      return createHmac('sha256', key).update(message, 'utf8').digest('base64url');
    }
    // Inner: H((K ^ ipad) || message); the key block is already in `inner`.
    W[length >> 2]! |= 0x80 << (24 - ((length & 3) << 3));
    W[15] = (64 + length) << 3;
    state.set(inner);
    compress(state);
    // Outer: H((K ^ opad) || inner digest): 32 bytes, the padding and a length of 96 bytes.
    for (let i = 0; i < 8; i++) W[i] = state[i]!;
    W[8] = 0x80000000;
    for (let i = 9; i < 15; i++) W[i] = 0;
    W[15] = 96 << 3;
    state.set(outer);
    compress(state);
    return base64url(state);
  };
}

/** Message schedule, shared: the functions here never yield between writing and reading it. */
const W = new Int32Array(64);

/** Writes an ASCII message as big-endian words into W[0..15] (zeroed), false at the first non-ASCII character. */
function loadAscii(message: string, length: number): boolean {
  W.fill(0, 0, 16);
  for (let i = 0; i < length; i++) {
    const c = message.charCodeAt(i);
    if (c > 0x7f) return false;
    W[i >> 2]! |= c << (24 - ((i & 3) << 3));
  }
  return true;
}

/** The state after compressing one key block XOR `pad` from SHA-256's initial value. */
function padState(key: Uint8Array, pad: number): Int32Array {
  for (let i = 0; i < 16; i++) {
    const j = i << 2;
    W[i] = ((key[j]! ^ pad) << 24) | ((key[j + 1]! ^ pad) << 16) | ((key[j + 2]! ^ pad) << 8) | (key[j + 3]! ^ pad);
  }
  const state = Int32Array.from(IV);
  compress(state);
  W.fill(0);
  return state;
}

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// prettier-ignore
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** One SHA-256 compression (FIPS 180-4 §6.2.2) of the block in W[0..15] into `state`. */
function compress(state: Int32Array): void {
  const w = W;
  const k = K;
  for (let t = 16; t < 64; t++) {
    const w15 = w[t - 15]!;
    const w2 = w[t - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + (g ^ (e & (f ^ g))) + k[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (c & (a ^ b)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64 = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const chars = new Array<number>(43);

/** The 32 bytes of `state` (big-endian words) as base64url without padding: 43 characters. */
function base64url(state: Int32Array): string {
  // 256 bits = 42 groups of 6 bits and 4 bits left, read across word boundaries.
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < 8; i++) {
    const w = state[i]!;
    for (let shift = 24; shift >= 0; shift -= 8) {
      acc = ((acc << 8) | ((w >>> shift) & 0xff)) & 0xffff;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        chars[n++] = B64[(acc >>> bits) & 63]!;
      }
    }
  }
  chars[n] = B64[(acc << (6 - bits)) & 63]!;
  return String.fromCharCode.apply(null, chars);
}
