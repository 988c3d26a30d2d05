import type { BlockList } from 'node:net';

/** Who is calling, as established by the authenticator, plus the per-consumer checks `authorize` applies. */
export interface ConsumerIdentity {
  readonly id: string;
  readonly name?: string;
  readonly via: 'api-key' | 'jwt' | 'mtls';
  /** The caller's address (socket peer, or X-Forwarded-For behind a trusted proxy). */
  readonly clientIp?: string;
  /** Precomputed `ipAllow` of the consumer; absent = any address. */
  readonly ipAllow?: BlockList;
  /** Client certificate CN the consumer must present on the gateway's TLS listener. */
  readonly mtlsSubject?: string;
}
