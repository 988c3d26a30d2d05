#!/usr/bin/env node
// CLI shim: run the compiled build when present (Docker, npm pack), else the TypeScript sources
// directly (Node >= 22.18 strips types natively).
//
// Plain JavaScript that any Node >= 18 parses, so that a machine whose Node is older still gets a
// sentence instead of ERR_UNKNOWN_FILE_EXTENSION: when this Node cannot run the sources, the Node 24
// that `npm ci` installed (the optional dependency `node`, from the npm registry) runs them instead, as
// a child that receives every signal this process gets.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
const canRunSources = major > 22 || (major === 22 && minor >= 18);

if (canRunSources) {
  await import(existsSync(compiled) ? compiled : '../src/cli/main.ts');
} else if (existsSync(bundled)) {
  const child = spawn(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGUSR2']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0);
  });
} else {
  process.stderr.write(
    `lgsp-gateway: Node ${process.versions.node} (${process.execPath}) cannot run the TypeScript sources; ` +
      'Node >= 22.18 is needed. `npm ci` installs Node 24 into node_modules (the optional dependency "node", ' +
      'from the npm registry); it is missing, so run `npm ci` again (without --omit=optional) and start with ' +
      '`npm start`, or put Node 24 first on PATH.\n',
  );
  process.exitCode = 1;
}
