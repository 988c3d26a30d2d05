import { randomBytes } from 'node:crypto';
import type { Clock } from '../config/types.ts';

/** What a sandbox token stands for: who it was issued to, by which simulated issuer, until when. */
export interface IssuedToken {
  readonly token: string;
  /** Issuer id: `ndxp`, `vdxp`, `hotich`, `molisa`, `vneid`. Services list the issuers they accept. */
  readonly issuer: string;
  /** Client id, username or citizen id the token was issued to. */
  readonly subject: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** Why a presented token was refused; services word their own error from this. */
export type TokenProblem = 'missing' | 'unknown' | 'expired' | 'wrong-issuer';

export type TokenCheck = { ok: true; token: IssuedToken } | { ok: false; problem: TokenProblem };

/**
 * In-memory token store shared by every simulated system of one sandbox. Expiry reads the injected
 * clock, so a test moves a fake clock forward instead of waiting.
 */
export class TokenStore {
  readonly #clock: Clock;
  readonly #tokens = new Map<string, IssuedToken>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Issues a new random opaque token valid for `lifetimeSeconds` from now. */
  issue(issuer: string, subject: string, lifetimeSeconds: number): IssuedToken {
    this.#sweep();
    const now = this.#clock.now();
    const issued: IssuedToken = {
      token: randomBytes(24).toString('base64url'),
      issuer,
      subject,
      issuedAt: now,
      expiresAt: now + lifetimeSeconds * 1000,
    };
    this.#tokens.set(issued.token, issued);
    return issued;
  }

  /** Checks a presented token against the accepted issuers and the clock. */
  check(token: string | undefined, acceptedIssuers: readonly string[]): TokenCheck {
    if (!token) return { ok: false, problem: 'missing' };
    const found = this.#tokens.get(token);
    if (!found) return { ok: false, problem: 'unknown' };
    if (this.#clock.now() >= found.expiresAt) return { ok: false, problem: 'expired' };
    if (!acceptedIssuers.includes(found.issuer)) return { ok: false, problem: 'wrong-issuer' };
    return { ok: true, token: found };
  }

  /** Revokes one token (VNeID logout). */
  revoke(token: string): boolean {
    return this.#tokens.delete(token);
  }

  /** Revokes every token of one subject at one issuer (VNeID logout of a session). */
  revokeSubject(issuer: string, subject: string): number {
    let n = 0;
    for (const [key, t] of this.#tokens) {
      if (t.issuer === issuer && t.subject === subject) {
        this.#tokens.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Revokes every token an issuer gave (a sandbox fault: the national side dropped its sessions). */
  revokeIssuer(issuer: string): number {
    let n = 0;
    for (const [key, t] of this.#tokens) {
      if (t.issuer === issuer) {
        this.#tokens.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Forgets tokens expired for more than an hour, so a long-running sandbox does not grow forever. */
  #sweep(): void {
    if (this.#tokens.size < 1000) return;
    const horizon = this.#clock.now() - 3_600_000;
    for (const [key, t] of this.#tokens) if (t.expiresAt < horizon) this.#tokens.delete(key);
  }
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or another scheme. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1] : undefined;
}

/** Human-readable (Vietnamese) reason for a refused token, used in every simulated system's error body. */
export function describeTokenProblem(problem: TokenProblem): string {
  switch (problem) {
    case 'missing':
      return 'Thiếu token xác thực';
    case 'unknown':
      return 'Token không hợp lệ';
    case 'expired':
      return 'Token đã hết hạn';
    case 'wrong-issuer':
      return 'Token không được cấp cho dịch vụ này';
  }
}
