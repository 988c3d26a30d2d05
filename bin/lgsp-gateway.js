#!/usr/bin/env node
// CLI shim: run the compiled build when present (Docker, npm pack), else the TypeScript sources
// directly (Node >= 22.18 strips types natively).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
await import(existsSync(compiled) ? compiled : '../src/cli.ts');
