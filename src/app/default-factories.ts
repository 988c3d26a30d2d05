import { existsSync } from 'node:fs';
import type { Env } from '../config/interpolate.ts';
import type { LoadOptions } from '../config/load-config.ts';
import type { Clock } from '../config/types.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { createCredentialChain, createTokenCache, type TokenCache } from '../credentials/index.ts';
import { errorDialects } from '../errors/dialects/index.ts';
import type { Logger } from '../logging/logger.ts';
import { buildTlsOptions } from '../upstream/tls.ts';
import { createAnswerVerifier } from '../upstream/answer-signature.ts';
import { resolveSecret } from '../config/secrets.ts';
import { ConfigPathError } from '../config/config-error.ts';
import {
  compileBodyStage,
  compileCodeForms,
  createMappingDeps,
  createValidatorFactory,
  loadCatalogs,
  type CatalogSet,
  type MappingDeps,
  type ValidatorFactory,
} from '../transform/index.ts';
import { createRuntimeConsumers } from './consumers-factory.ts';
import type { RuntimeFactories } from '../runtime/runtime.ts';
import type { PushLedger } from '../policy/guards/guard.ts';

export interface FactoryDeps {
  readonly configDir: string;
  readonly env: Env;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics?: GatewayMetrics;
  /** Shared across reloads so an unchanged credential set keeps its token. */
  readonly tokenCache?: TokenCache;
  /** The delivery ledger the `ledger-module` route guards read (issue 17); read at each call. */
  readonly ledger?: () => PushLedger | undefined;
}

/** How the gateway loads its config: the env and the error dialects (whose option schemas are checked). */
export function gatewayLoadOptions(env: Env): LoadOptions {
  return { env, dialects: errorDialects };
}

/** The factories the gateway is built with: the one place that wires the pluggable modules together. */
export function defaultFactories(deps: FactoryDeps): RuntimeFactories & { tokenCache: TokenCache } {
  const tokenCache = deps.tokenCache ?? createTokenCache();
  // Per build: catalogs and one validator factory (ajv instance with a per-file cache), made fresh by
  // beginBuild so a reload sees edited catalogs and schemas, and the old build keeps its own.
  let stageDeps: (MappingDeps & { validators: ValidatorFactory }) | undefined;
  // Kept across builds, since compiling is most of a reload and a reload holds up traffic: the body
  // validators of schema files whose content did not change (plug-in option schemas are compiled once
  // per process by src/config/plugin-options.ts).
  let previousValidators: ValidatorFactory | undefined;
  return {
    tokenCache,
    beginBuild(config) {
      // No catalog directory is fine for a config without code lists: a codelist op then names the
      // catalog it cannot find.
      let catalogs: CatalogSet = { get: () => undefined, names: () => [] };
      try {
        if (existsSync(config.paths.catalogs)) catalogs = loadCatalogs(config.paths.catalogs);
      } catch (err) {
        if (err instanceof ConfigPathError) throw err;
        throw new ConfigPathError(['paths', 'catalogs'], 'catalog', (err as Error).message);
      }
      const validators = createValidatorFactory(config.paths.schemas, { reuse: previousValidators });
      previousValidators = validators;
      // Sender profiles checked against these catalogues once; each codelist op then picks its consumers'.
      const codeForms = compileCodeForms(config.consumers, catalogs);
      stageDeps = { ...createMappingDeps(catalogs, codeForms), validators };
    },
    compileStage(stage, path, senders) {
      if (!stageDeps) throw new Error('compileStage called before beginBuild');
      return compileBodyStage(stage as never, senders ? { ...stageDeps, senders } : stageDeps, path);
    },
    createCredentials: (refs, strategyDeps, path) =>
      createCredentialChain(
        refs,
        {
          ...strategyDeps,
          tokenCache,
          env: deps.env,
          configDir: deps.configDir,
          onTokenCall: (upstream, ok) => {
            deps.metrics?.tokenFetches.inc({ upstream });
            if (!ok) deps.metrics?.tokenFailures.inc({ upstream });
          },
        },
        path,
      ),
    createConsumers: (config, previous) =>
      createRuntimeConsumers(
        config,
        { clock: deps.clock, logger: deps.logger, env: deps.env, metrics: deps.metrics },
        previous as never,
      ),
    tlsOptions: (upstream, path) => buildTlsOptions(upstream.tls, path, deps.logger),
    answerVerifier: (config, verifierDeps, path) => {
      // Public keys, read like secrets ({ env } / { file } relative to the config directory / inline text).
      const texts = config.keys?.map((ref, i) =>
        resolveSecret(ref, `answerSignature.keys[${i}]`, [...path, 'keys', i], {
          env: deps.env,
          configDir: deps.configDir,
        }),
      );
      return createAnswerVerifier(config, texts, verifierDeps, path);
    },
    ledger: () => deps.ledger?.(),
  };
}
