import { EventEmitter } from 'node:events';
import { ConfigError, formatIssue, type ConfigIssue } from '../config/config-error.ts';
import { issuesFrom, loadConfig, type LoadedConfig, type LoadOptions } from '../config/load-config.ts';
import { startOnlyChanges } from '../config/start-only.ts';
import type { Clock } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import { releaseRetired, type Runtime } from './runtime.ts';

export type ReloadResult =
  | { readonly result: 'success'; readonly hash: string; readonly reason: string }
  | { readonly result: 'unchanged'; readonly hash: string; readonly reason: string }
  | { readonly result: 'failure'; readonly issues: readonly ConfigIssue[]; readonly reason: string };

export interface ReloaderOptions {
  readonly dir: string;
  readonly load: LoadOptions;
  readonly build: (loaded: LoadedConfig, previous?: Runtime) => Promise<Runtime>;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * Holds the current runtime and swaps it whole. A reload loads and builds a complete new runtime; only
 * when that succeeds is the reference swapped, so a broken file keeps the old table running. In-flight
 * requests keep the runtime they started with. A reload that changes a start-only setting
 * (src/config/start-only.ts) fails naming it; every other setting is the new runtime's, and what lives
 * outside the runtime (log level, watcher, the gateway's own routes) follows it on the 'reload' event.
 * Emits 'reload' with a ReloadResult.
 */
export class Reloader extends EventEmitter {
  #current!: Runtime;
  /** Reloads run one at a time; a request for another while one runs waits for it. */
  #queue: Promise<unknown> = Promise.resolve();
  #lastError: { at: string; issues: readonly ConfigIssue[] } | undefined;
  #lastAttempt: string | undefined;
  readonly counts = { success: 0, failure: 0, unchanged: 0 };
  readonly #options: ReloaderOptions;

  private constructor(options: ReloaderOptions) {
    super();
    this.#options = options;
  }

  /** Loads the first config; throws ConfigError when it is invalid (the gateway refuses to start). */
  static async create(options: ReloaderOptions): Promise<Reloader> {
    const reloader = new Reloader(options);
    const loaded = loadConfig(options.dir, options.load);
    for (const notice of loaded.notices) options.logger.warn(notice, { dir: options.dir });
    try {
      reloader.#current = await options.build(loaded);
    } catch (err) {
      throw new ConfigError(issuesFrom(err, loaded));
    }
    return reloader;
  }

  get current(): Runtime {
    return this.#current;
  }

  /** Reloads now. `force` rebuilds even when the files did not change (SIGHUP, POST /admin/reload). */
  reload(reason: string, force = false): Promise<ReloadResult> {
    const next = this.#queue.then(() => this.#reloadNow(reason, force));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #reloadNow(reason: string, force: boolean): Promise<ReloadResult> {
    const { logger, clock } = this.#options;
    this.#lastAttempt = new Date(clock.now()).toISOString();
    let result: ReloadResult;
    let loaded: LoadedConfig | undefined;
    try {
      loaded = loadConfig(this.#options.dir, this.#options.load);
      if (!force && loaded.hash === this.#current.hash) {
        result = { result: 'unchanged', hash: loaded.hash, reason };
        // The files are back to what runs (a deleted or broken directory restored): the fault is over.
        this.#lastError = undefined;
      } else {
        // A start-only setting (listen, audit...) cannot change under a running process: the whole reload
        // fails naming it, rather than reporting success while the change is silently ignored.
        const startOnly = startOnlyChanges(this.#current.config, loaded.config, loaded.locate);
        if (startOnly.length > 0) throw new ConfigError(startOnly);
        const next = await this.#options.build(loaded, this.#current);
        const old = this.#current;
        this.#current = next;
        old.retiredBy = next;
        if (old.inFlight === 0) releaseRetired(old, next);
        result = { result: 'success', hash: next.hash, reason };
        this.#lastError = undefined;
      }
    } catch (err) {
      const issues =
        err instanceof ConfigError || !loaded
          ? ((err as ConfigError).issues ?? [{ path: '', rule: 'load', message: String(err) }])
          : issuesFrom(err, loaded);
      this.#lastError = { at: this.#lastAttempt, issues };
      result = { result: 'failure', issues, reason };
    }
    this.counts[result.result]++;
    if (result.result === 'failure') {
      logger.error('config reload failed; the previous route table stays active', {
        reason,
        dir: this.#options.dir,
        errors: result.issues.map(formatIssue),
      });
    } else if (result.result === 'success') {
      logger.info('config reloaded', { reason, hash: result.hash, routes: this.#current.routeList.length });
    } else {
      logger.debug('config unchanged; reload skipped', { reason });
    }
    this.emit('reload', result);
    return result;
  }

  status() {
    return {
      hash: this.#current.hash,
      loadedAt: this.#current.loadedAt.toISOString(),
      environment: this.#current.config.environment,
      routes: this.#current.routeList.length,
      upstreams: this.#current.upstreams.size,
      lastAttemptAt: this.#lastAttempt,
      lastError: this.#lastError ? { at: this.#lastError.at, errors: this.#lastError.issues.map(formatIssue) } : null,
      reloads: { ...this.counts },
    };
  }
}
