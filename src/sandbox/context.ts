import type { Request, Response } from 'express';
import type { Clock } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import { maskUrl } from '../logging/mask.ts';
import type { ReceivedLog } from './received-log.ts';
import type { TokenStore } from './tokens.ts';

/** Consumer key and secret a platform issues per environment (domain.md §2.1; seed 003 figure "consumer-key"). */
export interface ConsumerCredential {
  consumerKey: string;
  consumerSecret: string;
}

/** The demo credentials every simulated system accepts. Defaults are in DEFAULT_CREDENTIALS (index.ts). */
export interface SandboxCredentials {
  /** NDXP token endpoint client (OAuth2 client credentials). */
  ndxp: ConsumerCredential;
  /** VDXP token endpoint client. */
  vdxp: ConsumerCredential;
  /** Civil-status software token endpoint client. */
  hotich: ConsumerCredential;
  /** MOLISA `GetToken` account (seed 004, Appendix 1 §1). */
  molisa: { username: string; password: string };
  /** VNeID SSO client (seed 001 part A §6: issued by C06 over a private channel). */
  vneid: { clientId: string; clientSecret: string };
}

/** What every simulated system of one sandbox shares. */
export interface SandboxContext {
  readonly clock: Clock;
  readonly tokens: TokenStore;
  readonly received: ReceivedLog;
  readonly credentials: SandboxCredentials;
  readonly tokenLifetimeSeconds: number;
  readonly logger?: Logger;
}

/** Sends a JSON answer and records the exchange in the system's received log. */
export function answer(
  ctx: SandboxContext,
  system: string,
  operation: string,
  req: Request,
  res: Response,
  status: number,
  body: unknown,
  client: string | null = null,
): void {
  ctx.received.record(system, {
    method: req.method,
    path: req.originalUrl,
    operation,
    client,
    body: req.body ?? null,
    response: { status, body },
    // The gateway's delivery id (issue 17): a national side can deduplicate retried pushes by it.
    deliveryId: req.get('x-lgsp-delivery-id') ?? null,
  });
  ctx.logger?.debug('sandbox exchange', { system, operation, path: maskUrl(req.originalUrl), status });
  res.status(status).json(body);
}

/**
 * A simulated system's call into the gateway: POST `body` as JSON with the API key the gateway gave it.
 * The answer's status and body (parsed JSON, else the text); a call that gets no answer throws.
 */
export async function postToGateway(
  url: string,
  apiKey: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  const sent = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await sent.text();
  try {
    return { status: sent.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: sent.status, body: text };
  }
}
