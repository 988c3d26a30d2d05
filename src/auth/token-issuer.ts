import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
// jose by its entry points: its index loads all of it (JWE, key generation, remote key sets).
import type { JWK, JWTHeaderParameters } from 'jose';
import { calculateJwkThumbprint } from 'jose/jwk/thumbprint';
import { exportJWK } from 'jose/key/export';
import { SignJWT } from 'jose/jwt/sign';
import { jwtVerify } from 'jose/jwt/verify';
import { ConfigPathError } from '../config/config-error.ts';
import type { Clock, GatewayConfig, SigningKeyConfig, TokenIssuerConfig } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import { addressIn, clientAddress } from './addresses.ts';
import type { Env } from '../config/interpolate.ts';
import { matchDigest, sha256 } from './api-keys.ts';
import { resolveSecretRef } from '../config/secrets.ts';
import { addressKey, tokenThrottleState, type TokenThrottleState } from './auth-throttle.ts';
import { ALLOWED_ALGORITHMS } from '../config/consumers-schema.ts';
import { buildConsumerTable } from './consumer-table.ts';
import type { ConsumerIdentity } from './identity.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';

/**
 * The gateway's own OAuth 2.0 client-credentials issuer (RFC 6749 §4.4): consumers trade
 * `client_id`/`client_secret` for a short-lived JWT, and every call presenting it is checked here.
 */
export interface TokenIssuer {
  /** `POST /token` and `GET /.well-known/jwks.json`. */
  router(): Router;
  /** Verifies a JWT this gateway issued; rejects (throws) on any fault. */
  verify(jwt: string): Promise<ConsumerIdentity>;
  /** Replaces a generated signing key; the old public key stays published until its tokens expire. */
  rotate(): Promise<void>;
  /** Public keys currently published (active first). */
  jwks(): { keys: JWK[] };
  /** Key material handed to the issuer built on the next reload (`deps.previous`). */
  keyState(): IssuerKeyState;
  /** Failed-authentication counters, handed on like the keys so a reload unlocks no one. */
  throttleState?(): TokenThrottleState;
  close?(): void;
}

interface IssuerKey {
  readonly kid: string;
  readonly alg: string;
  readonly publicKey: KeyObject;
  readonly privateKey?: KeyObject;
  readonly jwk: JWK;
  /** Generated at start (not from config): tokens do not outlive the process. */
  readonly generated: boolean;
  /** Epoch ms after which a retired key is dropped; undefined = kept while configured. */
  readonly retireAt?: number;
}

export interface IssuerKeyState {
  readonly active?: IssuerKey;
  readonly verifyOnly: readonly IssuerKey[];
  readonly ttlSeconds: number;
}

/** Asymmetric algorithms only: HMAC would let anyone holding the (public) JWKS mint tokens; `none` is never. */

const KEY_TYPE_FOR_ALG: Record<string, { type: string; curve?: string }> = {
  ES256: { type: 'ec', curve: 'prime256v1' },
  ES384: { type: 'ec', curve: 'secp384r1' },
  ES512: { type: 'ec', curve: 'secp521r1' },
  EdDSA: { type: 'ed25519' },
};

function expectedKeyType(alg: string): { type: string; curve?: string } {
  return KEY_TYPE_FOR_ALG[alg] ?? { type: alg.startsWith('RS') || alg.startsWith('PS') ? 'rsa' : 'unknown' };
}

function checkKeyMatchesAlg(key: KeyObject, alg: string, path: readonly (string | number)[]): void {
  const want = expectedKeyType(alg);
  const details = key.asymmetricKeyDetails;
  const typeOk = key.asymmetricKeyType === want.type || (want.type === 'rsa' && key.asymmetricKeyType === 'rsa-pss');
  if (!typeOk || (want.curve && details?.namedCurve !== want.curve)) {
    throw new ConfigPathError(
      path,
      'key-type',
      `key is ${key.asymmetricKeyType ?? 'symmetric'}, ${alg} needs ${want.type}`,
    );
  }
  if (want.type === 'rsa' && (details?.modulusLength ?? 0) < 2048) {
    throw new ConfigPathError(path, 'key-strength', 'RSA keys must have at least 2048 bits');
  }
}

/** Parses PEM (PKCS#8/SEC1 private, SPKI public) or JWK JSON text. */
function parseKey(text: string, kind: 'private' | 'public', path: readonly (string | number)[]): KeyObject {
  const trimmed = text.trim();
  try {
    const input = trimmed.startsWith('{')
      ? ({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' } as const)
      : ({ key: trimmed, format: 'pem' } as const);
    return kind === 'private' ? createPrivateKey(input) : createPublicKey(input);
  } catch (err) {
    throw new ConfigPathError(path, 'key-format', `not a ${kind} key in PEM or JWK form: ${(err as Error).message}`);
  }
}

async function makeKey(
  alg: string,
  publicKey: KeyObject,
  privateKey: KeyObject | undefined,
  kid: string | undefined,
  generated: boolean,
  retireAt?: number,
): Promise<IssuerKey> {
  const jwk = await exportJWK(publicKey);
  const id = kid ?? (await calculateJwkThumbprint(jwk));
  return { kid: id, alg, publicKey, privateKey, generated, retireAt, jwk: { ...jwk, kid: id, alg, use: 'sig' } };
}

async function generateKey(alg: string): Promise<IssuerKey> {
  const want = expectedKeyType(alg);
  const pair =
    want.type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: want.curve! })
      : want.type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return makeKey(alg, pair.publicKey, pair.privateKey, undefined, true);
}

async function loadConfiguredKeys(
  keys: readonly SigningKeyConfig[],
  defaultAlg: string,
  env: Env,
): Promise<{ active?: IssuerKey; verifyOnly: IssuerKey[] }> {
  let active: IssuerKey | undefined;
  const verifyOnly: IssuerKey[] = [];
  const kids = new Set<string>();
  for (const [i, entry] of keys.entries()) {
    const path = ['auth', 'tokens', 'signingKeys', i];
    const alg = entry.alg ?? defaultAlg;
    if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new ConfigPathError([...path, 'alg'], 'enum', `${alg} is not an allowed asymmetric algorithm`);
    }
    if (kids.has(entry.kid)) throw new ConfigPathError([...path, 'kid'], 'unique', `kid ${entry.kid} is used twice`);
    kids.add(entry.kid);
    let privateKey: KeyObject | undefined;
    let publicKey: KeyObject;
    if (entry.privateKey !== undefined) {
      privateKey = parseKey(resolveSecretRef(entry.privateKey, [...path, 'privateKey'], env), 'private', [
        ...path,
        'privateKey',
      ]);
      publicKey = createPublicKey(privateKey);
    } else if (entry.publicKey !== undefined) {
      publicKey = parseKey(resolveSecretRef(entry.publicKey, [...path, 'publicKey'], env), 'public', [
        ...path,
        'publicKey',
      ]);
    } else {
      throw new ConfigPathError(path, 'required', 'a signing key needs privateKey or publicKey');
    }
    checkKeyMatchesAlg(publicKey, alg, path);
    const key = await makeKey(alg, publicKey, privateKey, entry.kid, false);
    if (privateKey && !active) active = key;
    else verifyOnly.push(key);
  }
  if (!active) {
    throw new ConfigPathError(['auth', 'tokens', 'signingKeys'], 'required', 'no entry has a privateKey to sign with');
  }
  return { active, verifyOnly };
}

/** body-parser failures (by `type`) as status and a fixed description: nothing of the request echoed. */
const BODY_ERRORS: Readonly<Record<string, readonly [number, string]>> = {
  'entity.too.large': [413, 'the request body is larger than 8 KiB'],
  'parameters.too.many': [400, 'too many parameters'],
  'charset.unsupported': [415, 'the form must be UTF-8'],
  'encoding.unsupported': [415, 'Content-Encoding is not accepted: send the form uncompressed'],
  'entity.parse.failed': [400, 'the form body is malformed'],
  'entity.verify.failed': [400, 'the form body is malformed'],
  'request.aborted': [400, 'the request body was cut off'],
  'request.size.invalid': [400, 'the body length does not match Content-Length'],
  'stream.encoding.set': [400, 'the request body could not be read'],
  'stream.not.readable': [400, 'the request body could not be read'],
};

/** Reads client credentials from HTTP Basic (RFC 6749 §2.3.1, form-encoded inside) or the form body. */
function clientCredentials(req: Request): { id?: string; secret?: string; basic: boolean; conflict: boolean } {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const formId = typeof body.client_id === 'string' ? body.client_id : undefined;
  const formSecret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
  const header = req.headers.authorization;
  const basic = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!basic) return { id: formId, secret: formSecret, basic: false, conflict: header !== undefined };
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return { basic: true, conflict: true };
  const formDecode = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return {
    id: formDecode(decoded.slice(0, colon)),
    secret: formDecode(decoded.slice(colon + 1)),
    basic: true,
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
    conflict: formSecret !== undefined,
  };
}

/**
 * Builds the token issuer of one config. With no `auth.tokens.signingKeys`, a key pair is generated
 * here: tokens then die with the process and differ per replica (configure shared keys to scale out).
 * `deps.previous` (the issuer of the config being replaced) carries keys across a hot reload, so a reload
 * never invalidates tokens already handed out.
 */
export async function createTokenIssuer(
  config: GatewayConfig,
  deps: { clock: Clock; logger: Logger; env?: Env; metrics?: GatewayMetrics; previous?: TokenIssuer },
): Promise<TokenIssuer> {
  const env = deps.env ?? process.env;
  const options: TokenIssuerConfig = config.auth.tokens;
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(options.algorithm)) {
    throw new ConfigPathError(['auth', 'tokens', 'algorithm'], 'enum', `${options.algorithm} is not allowed`);
  }
  const table = buildConsumerTable(config, env);
  const toleranceMs = options.clockToleranceSeconds * 1000;
  const previous = deps.previous?.keyState();

  let active: IssuerKey | undefined;
  let verifyOnly: IssuerKey[] = [];
  if (options.enabled) {
    if (options.signingKeys && options.signingKeys.length > 0) {
      ({ active, verifyOnly } = await loadConfiguredKeys(options.signingKeys, options.algorithm, env));
    } else if (previous?.active?.generated && previous.active.alg === options.algorithm) {
      active = previous.active;
      verifyOnly = [...previous.verifyOnly];
    } else {
      active = await generateKey(options.algorithm);
      deps.logger.warn(
        'token issuer: signing key generated at start; tokens will not survive a restart and are valid on this replica only (set auth.tokens.signingKeys to share keys)',
        { kid: active.kid, alg: active.alg },
      );
    }
    // Keys of the replaced config that this config dropped keep verifying until their tokens expire.
    if (previous) {
      const known = new Set([active!.kid, ...verifyOnly.map((k) => k.kid)]);
      const now = deps.clock.now();
      const carry = [previous.active, ...previous.verifyOnly].filter((k): k is IssuerKey => !!k && !known.has(k.kid));
      for (const key of carry) {
        const retireAt = key === previous.active ? now + previous.ttlSeconds * 1000 + toleranceMs : key.retireAt;
        if (retireAt !== undefined && retireAt > now) verifyOnly.push({ ...key, privateKey: undefined, retireAt });
      }
    }
  }

  const liveKeys = (): IssuerKey[] => {
    const now = deps.clock.now();
    verifyOnly = verifyOnly.filter((k) => k.retireAt === undefined || k.retireAt > now);
    return active ? [active, ...verifyOnly] : [...verifyOnly];
  };

  const issue = async (consumerId: string): Promise<string> => {
    const key = active!;
    const now = Math.floor(deps.clock.now() / 1000);
    return new SignJWT({ client_id: consumerId })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setSubject(consumerId)
      .setIssuedAt(now)
      .setExpirationTime(now + options.ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey!);
  };

  // RFC 6749 §5.2: every error is JSON, never cached; 401 names the scheme (§5.2 invalid_client).
  const oauthError = (
    res: Response,
    status: number,
    error: string,
    description: string,
    headers: Record<string, string> = {},
  ) => {
    if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="lgsp-gateway"');
    res
      .status(status)
      .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache', 'X-Content-Type-Options': 'nosniff', ...headers })
      .json({ error, error_description: description });
  };

  // A fixed digest to compare against when the client id is unknown, so that path costs the same.
  const unknownClientDigest = [sha256('unknown-client')];
  const limits = options.throttle;
  const windowMs = limits.windowSeconds * 1000;
  const throttle = tokenThrottleState(deps.clock, limits, deps.previous?.throttleState?.());

  const handleToken = async (req: Request, res: Response) => {
    // RFC 6749 §4.4.2 / §3.2: a form body, each parameter at most once.
    // `false`: a body of another type (`null` is no body at all, answered by the checks below).
    if (req.is('application/x-www-form-urlencoded') === false) {
      return oauthError(res, 415, 'invalid_request', 'send the request as application/x-www-form-urlencoded');
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const repeated = Object.keys(body).find((k) => typeof body[k] !== 'string');
    if (repeated !== undefined) {
      return oauthError(res, 400, 'invalid_request', 'a parameter is included more than once');
    }
    if (body.grant_type === undefined) return oauthError(res, 400, 'invalid_request', 'grant_type is required');
    if (body.grant_type !== 'client_credentials') {
      return oauthError(res, 400, 'unsupported_grant_type', 'only grant_type=client_credentials is supported');
    }
    const creds = clientCredentials(req);
    if (creds.conflict || creds.id === undefined || creds.secret === undefined) {
      return oauthError(res, 400, 'invalid_request', 'send client_id and client_secret by HTTP Basic or in the form');
    }
    const entry = table.byId.get(creds.id);
    // Throttling (issue 13.7): failed secrets per configured client (from any address), per unknown client
    // id and per caller address. A locked key is refused before its secret is compared, so guessing on
    // costs nothing but tells nothing.
    const caller = clientAddress(req, table.trustedProxies);
    const address = caller === undefined ? '(unknown)' : addressKey(caller);
    const clientKey = entry ? entry.id : creds.id;
    const clients = entry ? throttle.clients : throttle.unknownClients;
    const wait = Math.max(
      clients.lockedFor(clientKey, limits.maxFailuresPerClient, windowMs),
      throttle.addresses.lockedFor(address, limits.maxFailuresPerAddress, windowMs),
    );
    if (wait > 0) {
      deps.metrics?.authFailures.inc({ reason: 'token-throttled' });
      deps.logger.warn('token request throttled after failed client authentications', {
        client: entry?.id,
        retryAfterSeconds: wait,
      });
      return oauthError(res, 429, 'invalid_client', `too many failed client authentications; retry after ${wait} s`, {
        'Retry-After': String(wait),
      });
    }
    const digests = entry && entry.secretDigests.length > 0 ? entry.secretDigests : unknownClientDigest;
    const ok = matchDigest(creds.secret, digests) !== -1 && entry !== undefined && entry.secretDigests.length > 0;
    // A client with `ipAllow` gets no token elsewhere (its calls would be refused anyway), and failures from
    // outside its addresses do not count against it: nobody outside can lock it out.
    const outside = entry?.ipAllow !== undefined && !addressIn(entry.ipAllow, caller);
    if (!ok || outside) {
      if (!outside) clients.recordFailure(clientKey, windowMs);
      throttle.addresses.recordFailure(address, windowMs);
      deps.metrics?.authFailures.inc({ reason: 'invalid-client' });
      return oauthError(res, 401, 'invalid_client', 'client authentication failed');
    }
    const token = await issue(entry.id);
    deps.metrics?.tokensIssued.inc({ consumer: entry.id });
    deps.logger.info('token issued', { consumer: entry.id, kid: active!.kid });
    res
      .status(200)
      .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .json({ access_token: token, token_type: 'Bearer', expires_in: options.ttlSeconds });
  };

  /**
   * Every failure of the body parser or the handler as an RFC 6749 §5.2 JSON error. Express's own error
   * page is HTML with the stack and file paths when NODE_ENV is unset (issue 13.7); nothing of the error
   * itself is echoed, only a fixed description per kind.
   */
  const tokenErrors = (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const { status, type } = err as { status?: number; type?: string };
    const known = type !== undefined && Object.hasOwn(BODY_ERRORS, type) ? BODY_ERRORS[type] : undefined;
    if (known) return oauthError(res, known[0], 'invalid_request', known[1]);
    if (status !== undefined && status >= 400 && status < 500) {
      return oauthError(res, 400, 'invalid_request', 'the request body could not be read');
    }
    deps.logger.error('token endpoint failed', { error: err });
    return oauthError(res, 500, 'server_error', 'the token could not be issued');
  };

  const issuer: TokenIssuer = {
    router() {
      const router = express.Router();
      if (!options.enabled) return router;
      // No inflate: a token request is a few hundred bytes, and a compressed one is only attack surface.
      const form = express.urlencoded({ extended: false, limit: '8kb', inflate: false, parameterLimit: 16 });
      router.post('/token', form, (req, res, next) => {
        handleToken(req, res).catch(next);
      });
      router.all('/token', (_req, res) =>
        oauthError(res, 405, 'invalid_request', 'use POST (RFC 6749 §3.2)', { Allow: 'POST' }),
      );
      router.get('/.well-known/jwks.json', (_req, res) => {
        // Short cache: after a rotation, verifiers see the new key within a minute.
        res.set('Cache-Control', 'public, max-age=60').json(issuer.jwks());
      });
      router.use(tokenErrors);
      return router;
    },

    async verify(jwt) {
      const keys = liveKeys();
      const getKey = (header: JWTHeaderParameters) => {
        const key = keys.find((k) => k.kid === header.kid);
        if (!key) throw new Error(`unknown kid ${String(header.kid)}`);
        // The key decides the algorithm, never the token header (defeats alg-confusion attacks).
        if (header.alg !== key.alg) throw new Error(`alg ${header.alg} does not match key ${key.kid}`);
        return key.publicKey;
      };
      const { payload } = await jwtVerify(jwt, getKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: [...new Set(keys.map((k) => k.alg))],
        currentDate: new Date(deps.clock.now()),
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp', 'iat', 'sub'],
        // RFC 9068 access-token type: a JWT of another kind signed by the same key is not an access token.
        typ: 'at+jwt',
        maxTokenAge: options.ttlSeconds + options.clockToleranceSeconds,
      });
      const entry = table.byId.get(payload.sub!);
      if (!entry) throw new Error('token subject is not a configured consumer');
      return { id: entry.id, name: entry.name, via: 'jwt' };
    },

    async rotate() {
      if (!options.enabled || !active) throw new Error('token issuer is disabled');
      if (!active.generated) throw new Error('signing keys come from config: rotate them by editing auth.tokens');
      const next = await generateKey(options.algorithm);
      const retireAt = deps.clock.now() + options.ttlSeconds * 1000 + toleranceMs;
      verifyOnly = [{ ...active, privateKey: undefined, retireAt }, ...verifyOnly];
      active = next;
      deps.logger.info('token issuer: signing key rotated', { kid: next.kid, retiring: verifyOnly[0].kid });
    },

    jwks() {
      return { keys: liveKeys().map((k) => k.jwk) };
    },

    keyState() {
      return { active, verifyOnly: [...verifyOnly], ttlSeconds: options.ttlSeconds };
    },

    throttleState() {
      return throttle;
    },
  };
  return issuer;
}
