import { ConfigPathError } from '../config/config-error.ts';
import type { PluginRef } from '../config/types.ts';
import type { Registry } from '../plugin/plugin.ts';
import { buildPlugin } from '../config/plugin-options.ts';
import { createSecretMasker, type SecretMasker } from '../logging/secret-masker.ts';
import { clientSecret } from './strategies/client-secret.ts';
import { loginToken } from './strategies/login-token.ts';
import { oauth2ClientCredentials } from './strategies/oauth2-client-credentials.ts';
import { staticCredentials } from './strategies/static.ts';
import type { CredentialDeps, CredentialStatus, CredentialStrategy, OutgoingCall, StrategyDeps } from './types.ts';

export type { CredentialDeps, CredentialStatus, CredentialStrategy, OutgoingCall, StrategyDeps } from './types.ts';
export { createTokenCache, type TokenCache, type CachedToken } from './token-cache.ts';
export { createMolisaCompatTokenResponder } from './molisa-compat-token.ts';

/** Every upstream credential strategy, by the `type` used in YAML. */
export const credentialStrategies: Registry<StrategyDeps, CredentialStrategy> = {
  'oauth2-client-credentials': oauth2ClientCredentials,
  'login-token': loginToken,
  static: staticCredentials,
  'client-secret': clientSecret,
};

type Path = readonly (string | number)[];

/**
 * Builds an upstream's credential chain from its `credentials:` list, applied in order (a platform token,
 * then a provincial access header). Each entry's options are checked against its strategy's schema.
 */
export function createCredentialChain(
  refs: readonly PluginRef[],
  deps: CredentialDeps,
  path: Path,
): CredentialStrategy & {
  strategies: readonly CredentialStrategy[];
  applyCached(call: OutgoingCall): boolean;
  relayMasker(): SecretMasker | undefined;
} {
  const strategies: CredentialStrategy[] = [];
  for (const [index, ref] of refs.entries()) {
    const entryPath = [...path, index];
    const { type, ...options } = ref;
    // What the entries before this one inject, for a token call that passes the same platform.
    const before = strategies.slice();
    const earlier =
      before.length === 0
        ? undefined
        : {
            async apply(call: OutgoingCall) {
              for (const strategy of before) await strategy.apply(call);
            },
            invalidate(call?: OutgoingCall) {
              for (const strategy of before) strategy.invalidate(call);
            },
            writesBody: before.some((strategy) => strategy.bodyNeed !== undefined),
          };
    strategies.push(
      buildPlugin(
        credentialStrategies,
        'credential strategy',
        type,
        options,
        { ...deps, path: entryPath, ...(earlier ? { earlier } : {}) },
        entryPath,
        [...entryPath, 'type'],
      ),
    );
  }

  const needs = new Set(strategies.map((s) => s.bodyNeed).filter((n) => n !== undefined));
  if (needs.size > 1) {
    throw new ConfigPathError(
      path,
      'bodyNeed',
      'one strategy needs a JSON body and another a form body: they cannot both apply',
    );
  }
  const bodyNeed = [...needs][0];
  let maskedValues: readonly string[] = [];
  let masker: SecretMasker | undefined;

  return {
    strategies,
    ...(bodyNeed ? { bodyNeed } : {}),
    async apply(call: OutgoingCall) {
      for (const strategy of strategies) await strategy.apply(call);
    },
    // Every strategy in order, without waiting; at the first that cannot, the caller awaits apply() (which
    // sets again what the earlier ones set: each strategy overwrites its own header or field).
    applyCached(call: OutgoingCall) {
      for (const strategy of strategies) if (!strategy.applyCached?.(call)) return false;
      return true;
    },
    isTokenRejected: (status, body) => strategies.some((s) => s.isTokenRejected(status, body)),
    inspectsBody: strategies.some((s) => s.inspectsBody === true),
    invalidate(call?: OutgoingCall) {
      for (const strategy of strategies) strategy.invalidate(call);
    },
    relayMasker() {
      // Compiled again only when a value changed (a token refresh): once per token, not per request. The
      // values are compared where they are (no array per request); collected only when one changed.
      let count = 0;
      let same = true;
      for (const strategy of strategies) {
        const own = strategy.secretValues?.();
        if (own) for (const value of own) if (value !== maskedValues[count++]) same = false;
      }
      if (same && count === maskedValues.length) return masker;
      const values: string[] = [];
      for (const strategy of strategies) {
        const own = strategy.secretValues?.();
        if (own) for (const value of own) values.push(value);
      }
      maskedValues = values;
      masker = createSecretMasker(values);
      return masker;
    },
    describe(): CredentialStatus {
      const parts = strategies.map((s) => s.describe());
      const validUntil = parts
        .map((p) => p.validUntil)
        .filter((v) => v !== undefined)
        .sort()[0];
      const lastRefresh = parts
        .map((p) => p.lastRefresh)
        .filter((v) => v !== undefined)
        .sort()
        .reverse()[0];
      const lastError = parts.find((p) => p.lastError !== undefined)?.lastError;
      const secrets: CredentialStatus['secrets'] = {};
      parts.forEach((p, i) => {
        for (const [name, state] of Object.entries(p.secrets)) secrets[`${i}.${p.strategy}.${name}`] = state;
      });
      return {
        strategy: parts.map((p) => p.strategy).join('+') || 'none',
        ...(validUntil ? { validUntil } : {}),
        ...(lastRefresh ? { lastRefresh } : {}),
        ...(lastError ? { lastError } : {}),
        secrets,
      };
    },
    close() {
      for (const strategy of strategies) strategy.close?.();
    },
  };
}
