import type { Static } from 'typebox';
import type { GatewayConfigSchema, ListenSchema } from './config-schema.ts';

/**
 * The validated, frozen configuration. Built once per load by load-config.ts from the YAML files of the
 * config directory; never edited afterwards (a reload builds a new one and swaps it whole). Every type
 * here is derived from its schema (config-schema.ts, consumers-schema.ts): the shape is written once.
 */

/** A value nothing may edit: what deepFreeze makes of the loaded config. */
export type Frozen<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer E)[]
    ? readonly Frozen<E>[]
    : T extends object
      ? { readonly [K in keyof T]: Frozen<T[K]> }
      : T;

export type GatewayConfig = Frozen<Static<typeof GatewayConfigSchema>>;
export type ListenConfig = Frozen<Static<typeof ListenSchema>>;
export type UpstreamConfig = GatewayConfig['upstreams'][string];
export type RouteConfig = GatewayConfig['routes'][number];
export type ConsumerConfig = GatewayConfig['consumers'][string];
export type BodyStageConfig = NonNullable<RouteConfig['request']>;
export type AdminConfig = GatewayConfig['admin'];
export type AuthConfig = GatewayConfig['auth'];
export type TokenIssuerConfig = AuthConfig['tokens'];
export type TokenThrottleConfig = TokenIssuerConfig['throttle'];
export type SigningKeyConfig = NonNullable<TokenIssuerConfig['signingKeys']>[number];
export type RateLimitsConfig = GatewayConfig['rateLimits'];
export type RateLimitConfig = NonNullable<ConsumerConfig['rateLimit']>;
export type RouteRateLimitConfig = NonNullable<RouteConfig['rateLimit']>;
export type AuditConfig = GatewayConfig['audit'];
export type RouteAuditConfig = NonNullable<RouteConfig['audit']>;
export type AuditFailureMode = AuditConfig['onFailure'];
export type MetricsConfig = GatewayConfig['metrics'];
export type RouteDeliveryConfig = NonNullable<RouteConfig['delivery']>;
export type UpstreamDeliveryConfig = UpstreamConfig['delivery'];
export type DeliveryConfig = GatewayConfig['delivery'];
export type TlsClientConfig = NonNullable<UpstreamConfig['tls']>;
export type ApiKeyRef = AdminConfig['apiKeys'][number];
export type { SecretRef } from './consumers-schema.ts';
export type { DialectRef, PluginRef } from './config-schema.ts';

/** Time source, passed in so tests control expiry without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
