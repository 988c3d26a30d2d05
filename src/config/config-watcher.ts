import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logging/logger.ts';

export interface WatchOptions {
  readonly debounceMs: number;
  readonly logger: Logger;
  /** Called once per burst of changes, after `debounceMs` of quiet. */
  readonly onChange: () => void;
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
      arm();
      options.onChange();
    }, options.debounceMs);
  };

  const arm = () => {
    for (const w of watchers) w.close();
    watchers = [];
    if (closed) return;
    for (const d of [dir, path.join(dir, 'routes'), path.join(dir, 'catalogs'), path.join(dir, 'mappings')]) {
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
