import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logging/logger.ts';

export interface WatchOptions {
  readonly debounceMs: number;
  /** The other directories the config reads (routes, mappings, catalogs), asked again after each burst. */
  readonly extraDirs?: () => readonly string[];
  readonly logger: Logger;
  /** Called once per burst of changes, after `debounceMs` of quiet. */
  readonly onChange: () => unknown;
}

/**
 * Watches the config directory itself (not single files): a Kubernetes ConfigMap update swaps the
 * `..data` symlink, which shows as an event on the directory, and an editor's save-by-rename does too.
 * Subdirectories the loader reads (routes/, catalogs/) are watched as well. After every burst the
 * watchers are re-armed, so a directory that was deleted and created again is followed.
 */
export function watchConfigDir(dir: string, options: WatchOptions): { close(): void } {
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const fire = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      // Re-arm after the reload, so directories the new config names (paths.routes...) are watched too;
      // the current watchers keep reporting changes meanwhile.
      void Promise.resolve(options.onChange()).finally(arm);
    }, options.debounceMs);
  };

  const arm = () => {
    for (const w of watchers) w.close();
    watchers = [];
    if (closed) return;
    const dirs = new Set([dir, path.join(dir, 'routes'), path.join(dir, 'catalogs'), path.join(dir, 'mappings')]);
    for (const extra of options.extraDirs?.() ?? []) dirs.add(extra);
    for (const d of dirs) {
      if (!existsSync(d)) continue;
      try {
        const w = watch(d, { persistent: false }, fire);
        w.on('error', (err) => {
          options.logger.warn('config watcher error; re-arming', { dir: d, error: err.message });
          fire();
        });
        watchers.push(w);
      } catch (err) {
        options.logger.warn('cannot watch config directory', { dir: d, error: (err as Error).message });
      }
    }
    if (watchers.length === 0) {
      // The directory is gone (replaced, unmounted): look again shortly; the running table stays.
      timer = setTimeout(fire, Math.max(options.debounceMs, 1000));
    }
  };

  arm();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers = [];
    },
  };
}
