import { isDeepStrictEqual } from 'node:util';
import type { ConfigIssue } from './config-error.ts';
import type { GatewayConfig } from './types.ts';

type PathSeg = string | number;

/**
 * The settings read once, when the process starts: a reload that changes one fails naming it, and the
 * running config stays (a restart applies it). Every other setting applies on reload. JSON pointers into
 * the validated config; a pointer covers everything below it. README's configuration reference marks the
 * same keys "start-only" (a unit test keeps the two in step).
 */
export const START_ONLY: Readonly<Record<string, string>> = {
  // `production` refuses the sandbox when the process starts: a reload could not stop a sandbox already
  // running, so a config turning a development process into `production` would be a false label.
  '/environment': 'it decides at start what may run (never the sandbox in production)',
  '/listen': 'the gateway listener is bound at start: a port or certificate cannot move under live connections',
  '/admin/listen': 'the admin listener is bound at start',
  '/sandbox': 'the sandbox listener is started with the process',
  // The audit trail is the legal record of who exchanged whose data (Decree 47/2020): a reload fired by a
  // file watcher must not switch it off, move it or rotate its HMAC key mid-file (the same citizen would
  // hash two ways in one day's file). At a restart the writer is flushed and closed with its guarantees
  // (pending lines written or counted lost); per-route `routes[].audit` settings do apply on reload.
  '/audit': 'the audit trail (the legal record) is opened at start and closed, flushed, at shutdown',
  // The payload key, the store and the worker belong to the process (issue 17): pushes sealed under a key
  // are read with it until restart; every replica and the CLI must agree on one queue, and a reload moving
  // it would strand deliveries in flight.
  '/delivery': 'the delivery store (queue and ledger), its payload key and its worker are opened with the process',
  '/metrics/defaultMetrics': 'the process metrics are registered once, when the process starts',
};

/** `'/admin/listen'` -> `['admin', 'listen']` (RFC 6901 escapes). */
function segments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function at(value: unknown, path: readonly PathSeg[]): unknown {
  let node = value;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** The deepest keys under `path` whose values differ (a whole subtree when one side lacks it). */
function changedKeys(before: unknown, after: unknown, path: readonly PathSeg[], out: PathSeg[][]): void {
  if (isDeepStrictEqual(before, after)) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)]))
      changedKeys(before[key], after[key], [...path, key], out);
    return;
  }
  out.push([...path]);
}

/**
 * One issue per start-only key that differs between the running config and a newly loaded one, located
 * in the new files (`file:line:col`, or the nearest enclosing key when the key was removed). Values are
 * never shown: some of them (`audit.hmacKey`) are secrets.
 */
export function startOnlyChanges(
  running: GatewayConfig,
  next: GatewayConfig,
  locate: (path: readonly PathSeg[], rule: string, message: string) => ConfigIssue,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [pointer, why] of Object.entries(START_ONLY)) {
    const root = segments(pointer);
    const changed: PathSeg[][] = [];
    changedKeys(at(running, root), at(next, root), root, changed);
    for (const path of changed) {
      const change = at(running, path) === undefined ? 'added' : at(next, path) === undefined ? 'removed' : 'changed';
      issues.push(
        locate(
          path,
          'start-only',
          `${change}, but this setting is read only at start (${why}): restart the gateway to apply it, ` +
            'or restore the running value; the running config stays',
        ),
      );
    }
  }
  return issues;
}
