import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** SIGTERM to a child process that still runs, then its exit code (at once if it has already ended). */
export async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill('SIGTERM');
  const [code] = await exited;
  return code;
}
