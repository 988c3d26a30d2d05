import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import type { ChildStats } from './child.ts';

export interface BenchChild {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  /** CPU (µs) and memory of the child, read inside the child over IPC. */
  stats(): Promise<ChildStats>;
  stop(): Promise<void>;
}

let nextId = 1;

/**
 * Forks `script` (a .ts file run by Node's type stripping) with stdout to `logFile`, waits until it listens.
 * `BENCH_EXEC_ARGV` (space-separated Node flags) is given to every child, for flags NODE_OPTIONS refuses
 * (e.g. `--single-threaded-gc`, to see what V8's helper threads cost both proxies).
 */
export async function startChild(
  name: string,
  script: string,
  env: Record<string, string>,
  logFile = '/dev/null',
  execArgv: string[] = [],
): Promise<BenchChild> {
  const out = openSync(logFile, 'a');
  const child: ChildProcess = fork(script, [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, 'inherit', 'ipc'],
    execArgv: [...(process.env.BENCH_EXEC_ARGV?.split(' ').filter(Boolean) ?? []), ...execArgv],
  });
  closeSync(out);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code} before listening`)));
    child.on('message', (msg: { type: string; port?: number }) => {
      if (msg.type === 'ready') resolve(msg.port!);
    });
  });
  child.removeAllListeners('exit');
  child.once('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`bench: ${name} (pid ${child.pid}) died unexpectedly (code ${code}, signal ${signal})\n`);
      process.exit(1);
    }
  });
  let stopping = false;
  return {
    name,
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    stats() {
      const id = nextId++;
      return new Promise((resolve) => {
        const onMessage = (msg: { type: string; id?: number; stats?: ChildStats }) => {
          if (msg.type !== 'stats' || msg.id !== id) return;
          child.off('message', onMessage);
          resolve(msg.stats!);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats', id });
      });
    },
    stop() {
      stopping = true;
      return new Promise((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ type: 'stop' });
      });
    },
  };
}
