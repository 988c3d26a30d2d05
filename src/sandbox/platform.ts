import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { answer, type ConsumerCredential, type SandboxContext } from './context.ts';
import { bearerToken, describeTokenProblem, type TokenProblem } from './tokens.ts';

/**
 * Simulated national data-exchange platform token endpoint (NDXP, VDXP; also the civil-status software).
 * The seeds do not spell out the token call (domain.md §2.1): these platforms run API managers whose
 * token endpoint is OAuth 2.0 client credentials (RFC 6749 §4.4), so that is what the sandbox speaks:
 * `POST <prefix>/token`, form (or JSON) body `grant_type=client_credentials`, client authenticated by HTTP
 * Basic or by `client_id`/`client_secret` in the body, answer `{access_token, token_type, expires_in, scope}`.
 */
export function tokenEndpoint(ctx: SandboxContext, issuer: string, credential: () => ConsumerCredential) {
  return (req: Request, res: Response): void => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    // Never keep the client secret in the received log.
    const logged = { ...body, ...(body.client_secret ? { client_secret: '[REDACTED]' } : {}) };
    const send = (status: number, payload: unknown, client: string | null = null): void => {
      res.set('Cache-Control', 'no-store');
      if (status === 401) res.set('WWW-Authenticate', `Basic realm="${issuer}"`);
      ctx.received.record(issuer, {
        method: req.method,
        path: req.originalUrl,
        operation: 'token',
        client,
        body: logged,
        // The token itself stays out of the log: the log is readable by anyone who can reach the sandbox.
        response: { status, body: redactToken(payload) },
      });
      res.status(status).json(payload);
    };

    const client = clientFromRequest(req, body);
    if (!client) return send(401, { error: 'invalid_client', error_description: 'Client authentication missing' });
    const expected = credential();
    if (client.id !== expected.consumerKey || client.secret !== expected.consumerSecret) {
      return send(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
    }
    if (body.grant_type === undefined) {
      return send(400, { error: 'invalid_request', error_description: 'grant_type is required' }, client.id);
    }
    if (body.grant_type !== 'client_credentials') {
      return send(400, { error: 'unsupported_grant_type' }, client.id);
    }
    const issued = ctx.tokens.issue(issuer, client.id, ctx.tokenLifetimeSeconds);
    send(
      200,
      { access_token: issued.token, token_type: 'Bearer', expires_in: ctx.tokenLifetimeSeconds, scope: 'default' },
      client.id,
    );
  };
}

/** Client id and secret from HTTP Basic, else from the body; undefined when neither is complete. */
function clientFromRequest(req: Request, body: Record<string, unknown>): { id: string; secret: string } | undefined {
  const header = req.get('authorization');
  const basic = header ? /^Basic\s+(\S+)\s*$/i.exec(header) : null;
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return undefined;
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined.
    return {
      id: safeDecode(decoded.slice(0, colon)),
      secret: safeDecode(decoded.slice(colon + 1)),
    };
  }
  if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
    return { id: body.client_id, secret: body.client_secret };
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/**
 * Express middleware: the request must carry `Authorization: Bearer <token>` issued by one of
 * `acceptedIssuers` and not expired, else 401 with `rejection(problem)` as body, by default
 * `{error: 'invalid_token'}` (RFC 6750 §3). The token's
 * subject is left in `res.locals.client`.
 */
export function requireBearer(
  ctx: SandboxContext,
  system: string,
  acceptedIssuers: readonly string[],
  rejection: (problem: TokenProblem) => unknown = (problem) => ({
    error: 'invalid_token',
    error_description: describeTokenProblem(problem),
  }),
) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const check = ctx.tokens.check(bearerToken(req.get('authorization')), acceptedIssuers);
    if (check.ok) {
      res.locals.client = check.token.subject;
      return next();
    }
    res.set('WWW-Authenticate', `Bearer realm="${system}", error="invalid_token"`);
    answer(ctx, system, operationOf(req), req, res, 401, rejection(check.problem));
  };
}

/** The last path segment, used as the operation name in the received log. */
export function operationOf(req: Request): string {
  const segments = req.path.split('/').filter(Boolean);
  return segments[segments.length - 1] ?? '';
}

/** Body parsers every simulated system uses: JSON (any top-level value) and HTML forms. */
export function bodyParsers(): Router {
  const router = express.Router();
  router.use(express.json({ limit: '10mb', strict: false }));
  router.use(express.urlencoded({ extended: false, limit: '1mb' }));
  return router;
}

/** A copy of a token answer with `access_token` / `token` values replaced, for the received log. */
export function redactToken(payload: unknown): unknown {
  if (typeof payload !== 'object' || payload === null) return payload;
  const out: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  for (const key of ['access_token', 'token', 'id_token', 'refresh_token']) {
    if (typeof out[key] === 'string') out[key] = '[REDACTED]';
  }
  return out;
}
