/**
 * The shapes the request pipeline relies on. Implementations live in their own modules
 * (src/credentials, src/transform, src/consumers); these structural types keep the pipeline
 * independent of them.
 */
import type { IncomingMessage } from 'node:http';
import type { FieldError } from '../errors/gateway-error.ts';
import type { SecretMasker } from '../credentials/secret-masker.ts';

export interface OutgoingCall {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  json?: unknown;
  form?: URLSearchParams;
  query?: string;
}

export interface CredentialChainLike {
  readonly bodyNeed?: 'json' | 'form';
  apply(call: OutgoingCall): Promise<void>;
  /** Applies without waiting when every credential is at hand (returns true); otherwise call apply(). */
  applyCached?(call: OutgoingCall): boolean;
  isTokenRejected(status: number, body: unknown): boolean;
  /** True when isTokenRejected needs the answer's body (otherwise answers stream straight through). */
  readonly inspectsBody?: boolean;
  /** The upstream refused the credentials `call` carried. */
  invalidate(call?: OutgoingCall): void;
  /** Masks the injected secrets in relayed answers; undefined when this upstream gets none. */
  relayMasker?(): SecretMasker | undefined;
  describe?(): unknown;
  close?(): void;
}

export type ValidateFn = (body: unknown) => FieldError[];

export interface ConsumerIdentity {
  readonly id: string;
  readonly name?: string;
  readonly via: 'api-key' | 'jwt' | 'mtls';
}

export interface AuthenticatorLike {
  authenticate(req: IncomingMessage): Promise<ConsumerIdentity>;
}
