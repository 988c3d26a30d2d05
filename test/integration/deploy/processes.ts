import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { stopChild } from '../../helpers/child-process.ts';

export interface GatewayProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Every JSON line the process wrote to stdout so far (logs, and audit lines with audit.output: stdout). */
  readonly lines: Record<string, unknown>[];
  /** Resolves once `count` lines satisfy `match` (lines already written count). */
  waitForLines(match: (line: Record<string, unknown>) => boolean, count: number): Promise<void>;
  /** SIGTERM (graceful drain), then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Spawns `node <cli> start` as its own process with PORT=0 and resolves with the URL it logged in its
 * `lgsp-gateway listening` JSON line (the CLI reports its port only there). Rejects, with what the process
 * printed, if it exits first.
 */
export async function spawnGateway(cli: string, env: NodeJS.ProcessEnv): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [cli, 'start'], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const events = new EventEmitter();
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(parsed);
      events.emit('line');
      if (parsed.message === 'lgsp-gateway listening') resolve(String(parsed.url));
    });
    child.once('exit', (code) =>
      reject(new Error(`gateway exited with ${code} before listening:\n${stderr}\n${JSON.stringify(lines)}`)),
    );
  });
  const waitForLines = (match: (line: Record<string, unknown>) => boolean, count: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (lines.filter(match).length < count) return;
        events.off('line', check);
        child.off('exit', early);
        resolve();
      };
      const early = () => reject(new Error(`gateway exited while waiting for ${count} lines`));
      events.on('line', check);
      child.once('exit', early);
      check();
    });
  return { url, child, lines, waitForLines, stop: () => stopChild(child) };
}
