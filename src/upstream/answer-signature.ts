import { X509Certificate, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type https from 'node:https';
// jose by its entry points: its index loads all of it (JWE, signing, key generation).
import type { FetchImplementation, JWK, JWTVerifyGetKey } from 'jose';
import { decodeProtectedHeader } from 'jose/decode/protected_header';
import { createLocalJWKSet } from 'jose/jwks/local';
import { createRemoteJWKSet, customFetch } from 'jose/jwks/remote';
import { jwtVerify } from 'jose/jwt/verify';
import type { Agent as UndiciAgent } from 'undici';
import { Agent, undiciFetch } from './undici-parts.ts';
import { ConfigPathError } from '../config/config-error.ts';
import type { AnswerSignatureConfig, Clock, RouteSignatureConfig } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';

type Path = readonly (string | number)[];

/**
 * Checks the national side's signature on its answers (issue 16.2; seed 001 part C, step B10: the
 * identification system "ký số dữ liệu" before returning it; §V.2: JWT — JWS, JWE, JWK). Built once per
 * upstream at load; an unchanged upstream keeps it across reloads, and with it the cached JWKS.
 */
export interface AnswerVerifier {
  /** The verified claims of a compact JWS; throws GW_UPSTREAM_SIGNATURE_INVALID or GW_UPSTREAM_SIGNING_KEYS_UNAVAILABLE. */
  verify(jws: string, upstream: string): Promise<Record<string, unknown>>;
  /** Releases the connection pool of the JWKS fetches. */
  close(): void;
}

export interface AnswerVerifierDeps {
  /** TLS options toward the upstream (private CA of the national platform): the JWKS is fetched with them. */
  readonly tls?: https.AgentOptions;
  readonly clock: Clock;
}

/**
 * Largest JWKS read (bytes). A national key set is a few keys of a few hundred bytes each; a larger answer,
 * announced or streamed, is cut off and the keys count as unavailable, never parsed whole in memory.
 */
export const MAX_JWKS_BYTES = 256 * 1024;

/** JWT registered claims: the envelope of the signed data, not citizen fields (RFC 7519 §4.1). */
const REGISTERED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'];

/**
 * Builds the verifier of one upstream's `answerSignature`. `keyTexts`: the `keys` entries already
 * resolved (PEM or JSON text). A key that cannot be read, a private or symmetric key, is a config error.
 */
export function createAnswerVerifier(
  config: AnswerSignatureConfig,
  keyTexts: readonly string[] | undefined,
  deps: AnswerVerifierDeps,
  path: Path,
): AnswerVerifier {
  // One resolver per key source: the remote JWKS, or each configured key on its own (below).
  let resolvers: JWTVerifyGetKey[];
  let agent: UndiciAgent | undefined;
  if (config.jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(config.jwksUrl);
    } catch {
      throw new ConfigPathError([...path, 'jwksUrl'], 'format', `"${config.jwksUrl}" is not a valid URL`);
    }
    // The JWKS comes from the national side: fetched with the upstream's TLS options (its private CA),
    // never following a redirect (jose asks for `redirect: manual`).
    const tls = deps.tls ?? {};
    agent = new Agent({
      connect: {
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: tls.servername,
        rejectUnauthorized: tls.rejectUnauthorized,
      },
    });
    const pool = agent;
    const fetchJwks: FetchImplementation = async (resource, options) => {
      const response = await undiciFetch(resource, {
        method: options.method,
        redirect: options.redirect,
        signal: options.signal,
        headers: Object.fromEntries(options.headers),
        dispatcher: pool,
      });
      // jose reads `status` and `json()` only: the body is read here, bounded (a failure is jose's "not JSON").
      return {
        status: response.status,
        json: async () => JSON.parse((await readBounded(response.body, MAX_JWKS_BYTES)).toString('utf8')) as unknown,
      } as unknown as Response;
    };
    resolvers = [
      createRemoteJWKSet(url, {
        cooldownDuration: config.jwksCooldownSeconds * 1000,
        cacheMaxAge: config.jwksMaxAgeSeconds * 1000,
        timeoutDuration: config.jwksTimeoutMs,
        [customFetch]: fetchJwks,
      }),
    ];
  } else {
    const keys: JWK[] = [];
    (keyTexts ?? []).forEach((text, i) => keys.push(...publicJwks(text, [...path, 'keys', i])));
    if (keys.length === 0) throw new ConfigPathError([...path, 'keys'], 'required', 'no public key in these entries');
    // Each key is tried on its own: a key given as PEM has no `kid`, and jose's key set would then match
    // no JWS that names one (and refuses to choose between several keys that fit).
    resolvers = keys.map((jwk) => {
      const set = createLocalJWKSet({ keys: [jwk] });
      return jwk.kid === undefined ? (header, token) => set({ ...header, kid: undefined }, token) : set;
    });
  }
  const options = {
    algorithms: [...config.algorithms],
    clockTolerance: config.clockToleranceSeconds,
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
  };
  return {
    async verify(jws, upstream) {
      const verifyOptions = { ...options, currentDate: new Date(deps.clock.now()) };
      let failure: unknown;
      for (const getKey of resolvers) {
        try {
          const { payload } = await jwtVerify(jws, getKey, verifyOptions);
          return payload as Record<string, unknown>;
        } catch (err) {
          const code = (err as { code?: string }).code;
          // Another key may fit; any other fault (alg refused, expired after a good signature) is final.
          if (code !== 'ERR_JWKS_NO_MATCHING_KEY' && code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
            throw verificationError(err, jws, upstream, config);
          }
          if (failure === undefined || code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') failure = err;
        }
      }
      throw verificationError(failure, jws, upstream, config);
    },
    close() {
      void agent?.close();
    },
  };
}

/** The public JWKs a `keys` entry holds: a PEM public key or certificate, a JWK, or a JWKS. */
function publicJwks(text: string, path: Path): JWK[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: { keys?: unknown };
    try {
      parsed = JSON.parse(trimmed) as { keys?: unknown };
    } catch (err) {
      throw new ConfigPathError(path, 'key-format', `not JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(parsed.keys) ? (parsed.keys as unknown[]) : [parsed];
    return list.map((jwk) => checkedJwk(jwk as JWK, path));
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(trimmed)) {
    throw new ConfigPathError(path, 'key-type', 'a private key: give the national side’s public key or certificate');
  }
  let key: KeyObject;
  try {
    key = trimmed.includes('-----BEGIN CERTIFICATE-----')
      ? new X509Certificate(trimmed).publicKey
      : createPublicKey({ key: trimmed, format: 'pem' });
  } catch (err) {
    throw new ConfigPathError(path, 'key-format', `not a PEM public key or certificate: ${(err as Error).message}`);
  }
  return [checkedJwk(key.export({ format: 'jwk' }) as JWK, path)];
}

/** A public asymmetric JWK, or a config error: a symmetric key would let anyone holding it sign. */
function checkedJwk(jwk: JWK, path: Path): JWK {
  if (jwk === null || typeof jwk !== 'object' || typeof jwk.kty !== 'string') {
    throw new ConfigPathError(path, 'key-format', 'not a JWK (no "kty")');
  }
  if (jwk.kty === 'oct') throw new ConfigPathError(path, 'key-type', 'a symmetric key (kty oct): public keys only');
  if ('d' in jwk) throw new ConfigPathError(path, 'key-type', 'a private JWK (has "d"): public keys only');
  try {
    createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (err) {
    throw new ConfigPathError(path, 'key-format', `not a usable public key: ${(err as Error).message}`);
  }
  return jwk;
}

/** A jose failure as the gateway's error: the reason names the rule, never echoes attacker-chosen text. */
function verificationError(err: unknown, jws: string, upstream: string, config: AnswerSignatureConfig): GatewayError {
  const code = (err as { code?: string }).code;
  const invalid = (reason: string) =>
    new GatewayError('GW_UPSTREAM_SIGNATURE_INVALID', { upstream, reason }, { cause: err });
  switch (code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return invalid('chữ ký không khớp với dữ liệu hoặc với khóa tin cậy');
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return invalid('khóa ký (kid) không có trong bộ khóa tin cậy');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return invalid(`thuật toán ký ${headerAlg(jws)} không được phép (chỉ nhận: ${config.algorithms.join(', ')})`);
    case 'ERR_JWT_EXPIRED':
      return invalid('dữ liệu ký đã hết hạn (exp)');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const claim = (err as { claim?: string }).claim;
      if (claim === 'nbf') return invalid('dữ liệu ký chưa đến thời điểm hiệu lực (nbf)');
      if (claim === 'iss') return invalid('nơi phát hành (iss) không phải nơi được tin cậy');
      return invalid(`trường ${claim === 'iat' ? 'iat' : 'thời gian'} của dữ liệu ký không hợp lệ`);
    }
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return new GatewayError(
        'GW_UPSTREAM_SIGNING_KEYS_UNAVAILABLE',
        {
          upstream,
          reason: code === 'ERR_JWKS_TIMEOUT' ? 'hết thời gian chờ JWKS' : 'JWKS không hợp lệ hoặc không trả 200',
        },
        { cause: err },
      );
    default:
      if (err instanceof TypeError) {
        // fetch failed: the JWKS endpoint cannot be reached
        return new GatewayError(
          'GW_UPSTREAM_SIGNING_KEYS_UNAVAILABLE',
          { upstream, reason: 'không kết nối được tới địa chỉ JWKS' },
          { cause: err },
        );
      }
      return invalid('không phải JWS dạng compact hợp lệ');
  }
}

/** The `alg` of a JWS header when it is a plain short name; otherwise a placeholder (it is the sender's text). */
function headerAlg(jws: string): string {
  try {
    const alg = decodeProtectedHeader(jws).alg;
    return typeof alg === 'string' && /^[A-Za-z0-9+-]{1,16}$/.test(alg) ? alg : '(không đọc được)';
  } catch {
    return '(không đọc được)';
  }
}

/**
 * The answer with its signature checked, as the route's `signature` says: the compact JWS at `jws`
 * verified, its claims (minus the JWT envelope: iss, iat, exp…) written at `payload`. A plain copy already
 * at `payload` must equal them: an unsigned copy that differs is refused, never relayed. An answer with
 * neither a JWS nor data (the national side's "QR not correct" answers, steps B4.1/B5) passes as it is;
 * data without a signature does not.
 */
export async function verifySignedAnswer(
  body: unknown,
  spec: RouteSignatureConfig,
  verifier: AnswerVerifier,
  upstream: string,
): Promise<unknown> {
  const refuse = (reason: string) => new GatewayError('GW_UPSTREAM_SIGNATURE_INVALID', { upstream, reason });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw refuse('phản hồi không phải đối tượng JSON nên không chứa chữ ký');
  }
  const jwsPath = spec.jws.split('.');
  const payloadPath = spec.payload.split('.');
  const jws = readPath(body, jwsPath);
  const plain = readPath(body, payloadPath);
  const samePlace = spec.jws === spec.payload;
  if (jws === undefined || jws === null) {
    if (plain === undefined || plain === null) return body;
    throw refuse(`dữ liệu ${spec.payload} không có chữ ký số (${spec.jws})`);
  }
  if (typeof jws !== 'string') throw refuse(`${spec.jws} không phải JWS dạng compact`);
  const claims = await verifier.verify(jws, upstream);
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(claims)) if (!REGISTERED_CLAIMS.includes(key)) data[key] = value;
  if (!samePlace && plain !== undefined && plain !== null && !sameJson(plain, data)) {
    throw refuse(`bản không ký ở ${spec.payload} khác dữ liệu đã ký`);
  }
  return writePath(body as Record<string, unknown>, payloadPath, data);
}

/** Equal as JSON values (prototypes aside: the gateway's parser may build its objects without one). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isRawJson(a) || isRawJson(b)) return jsonText(a) === jsonText(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

const isRawJson = (v: unknown): boolean => (JSON as { isRawJSON?: (v: unknown) => boolean }).isRawJSON?.(v) === true;
const jsonText = (v: unknown): string => (isRawJson(v) ? (v as { rawJSON: string }).rawJSON : JSON.stringify(v));

function readPath(body: unknown, path: readonly string[]): unknown {
  let node = body;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A copy of `body` with `value` at `path` (objects on the way copied, never edited). */
function writePath(body: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [key, ...rest] = path;
  const child = body[key!];
  const next =
    rest.length === 0
      ? value
      : writePath(
          child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as never) : {},
          rest,
          value,
        );
  return { ...body, [key!]: next };
}

/** A body read whole up to `limit` bytes; past it the stream is cancelled and the read fails. */
async function readBounded(body: AsyncIterable<Uint8Array> | null, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (body === null) return Buffer.alloc(0);
  for await (const chunk of body) {
    size += chunk.byteLength;
    // Leaving the loop cancels the stream (and its connection): nothing more is read.
    if (size > limit) throw new Error(`JWKS larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
