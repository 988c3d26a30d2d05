/**
 * `node bench/rest-rss.ts [seconds] [runs] [tree]`: resident memory at rest of `lgsp-gateway start` with the shipped
 * config (`config/`, sandbox included), as `npm start` runs it: the compiled build when `dist/` exists, else
 * the TypeScript sources. Each run starts the CLI on free ports with a temporary audit directory, waits for
 * its "listening" line, lets it rest `seconds` (default 10: the pages a collection frees are returned to the
 * system by a background thread, a second or so later), reads VmRSS from /proc, and stops it with SIGTERM.
 * `tree`: another checkout to measure (default: this one), for a before/after on the same machine.
 * `--heap`: also the V8 heap used after two full collections, taken after the RSS reading
 * (bench/lib/heap-at-rest.mjs, preloaded with `--expose-gc`): steady between runs where RSS is not.
 * Issue 19's target: ≤ 100 MB.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const root = path.resolve(args[2] ?? path.join(here, '..'));
const restS = Number(args[0] ?? 10);
const runs = Number(args[1] ?? 3);
const heap = process.argv.includes('--heap');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/** The heap report bench/lib/heap-at-rest.mjs writes on SIGUSR2 (bounded wait: 10 s). */
async function heapAfterGc(pid: number, file: string): Promise<string> {
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  const r = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  return `heap used after a full GC ${r.heapUsed} MB (total ${r.heapTotal}, external ${r.external}), ${r.cjs} CommonJS modules`;
}

async function once(): Promise<{ listening: number; rest: number; settled?: string; heap?: string }> {
  const audit = mkdtempSync(path.join(os.tmpdir(), 'lgsp-rest-rss-'));
  const heapFile = path.join(audit, 'heap.json');
  const env = {
    ...process.env,
    PORT: String(await freePort()),
    ADMIN_PORT: String(await freePort()),
    SANDBOX_PORT: String(await freePort()),
    LGSP_AUDIT_DIR: audit,
    LOG_LEVEL: 'info',
    ...(heap ? { REST_HEAP_FILE: heapFile } : {}),
  };
  const preload = heap ? ['--expose-gc', '--import', path.join(here, 'lib/heap-at-rest.mjs')] : [];
  const child = spawn(process.execPath, [...preload, path.join(root, 'bin/lgsp-gateway.js'), 'start'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no "listening" line within 60 s')), 60_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('lgsp-gateway listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before listening:\n${out}`)));
    });
    const listening = rssMb(child.pid!);
    await new Promise((resolve) => setTimeout(resolve, restS * 1000));
    const settled = /"message":"heap settled after the build"[^\n]*/.exec(out)?.[0];
    const rest = rssMb(child.pid!);
    return { listening, rest, settled, heap: heap ? await heapAfterGc(child.pid!, heapFile) : undefined };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(audit, { recursive: true, force: true });
  }
}

const from = existsSync(path.join(root, 'dist/src/cli/main.js')) ? 'dist/ (compiled build)' : 'src/ (type stripping)';
console.log(
  `RSS at rest of \`lgsp-gateway start\` (shipped config) in ${root}, run from ${from}, Node ${process.version}`,
);
for (let i = 0; i < runs; i++) {
  const r = await once();
  console.log(
    `run ${i + 1}: ${r.listening.toFixed(0)} MB when listening, ${r.rest.toFixed(0)} MB after ${restS} s` +
      (r.settled
        ? `  (${r.settled.replace(/.*"ms":(\d+),"rssAfterMb":(\d+),"rssBeforeMb":(\d+).*/, 'settled $3 -> $2 MB in $1 ms')})`
        : '') +
      (r.heap ? `; ${r.heap}` : ''),
  );
}
