import { readFileSync } from 'node:fs';

/** Resident and peak resident memory of a process, from /proc/<pid>/status (Linux), in kB. */
export function memoryOf(pid: number | 'self' = 'self'): { rssKb: number; hwmKb: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return { rssKb: NaN, hwmKb: NaN };
  }
}

export interface ChildStats {
  /** process.cpuUsage() of the child, in microseconds. */
  readonly user: number;
  readonly system: number;
  readonly rssKb: number;
  readonly hwmKb: number;
}

/**
 * Child side of the harness: tells the parent the port it listens on, and answers `stats` requests over
 * IPC with its own CPU usage, so CPU per request is measured in the proxy process only.
 */
export function reportReady(port: number, onClose?: () => Promise<void>): void {
  process.on('message', (msg: { type: string; id?: number }) => {
    if (msg.type === 'stats') {
      const cpu = process.cpuUsage();
      const stats: ChildStats = { user: cpu.user, system: cpu.system, ...memoryOf() };
      process.send?.({ type: 'stats', id: msg.id, stats });
    } else if (msg.type === 'stop') {
      void (onClose ?? (async () => {}))().finally(() => process.exit(0));
    }
  });
  process.send?.({ type: 'ready', port });
}
