import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/app/gateway.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { ADMIN_KEY, CONSUMER_KEY } from './keys.ts';
import { registerSecret, registerWritten, snapshotDir } from './written-registry.ts';

export interface TestGateway {
  gateway: Gateway;
  url: string;
  dir: string;
  /** Every log line written so far, parsed. */
  logs: Record<string, unknown>[];
  write(file: string, content: string): void;
  close(): Promise<void>;
}

/** Writes a config directory from `files` (name -> YAML) and starts a gateway on 127.0.0.1:0. */
export async function startGateway(
  files: Record<string, string>,
  options: Partial<GatewayOptions> = {},
): Promise<TestGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-gw-'));
  const write = (file: string, content: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  };
  for (const [name, content] of Object.entries(files)) write(name, content);
  if (!Object.values(files).some((text) => /^audit:/m.test(text))) {
    // Every test gateway keeps an audit trail in its own directory, so tests can read what it wrote.
    write(
      'audit.yaml',
      `audit:\n  dir: ${path.join(dir, 'audit-trail')}\n  hmacKey: "test-audit-hmac-key-0123456789abcdef"\n`,
    );
  }
  const logs: Record<string, unknown>[] = [];
  const rawLog: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    rawLog.push(text);
    for (const line of text.split('\n')) if (line.trim()) logs.push(JSON.parse(line));
  });
  // Everything this gateway writes is checked for IDs and secrets in clear after the whole suite.
  registerWritten(`log of gateway in ${dir}`, () => rawLog.join(''));
  for (const secret of [ADMIN_KEY, CONSUMER_KEY, 'test-audit-hmac-key-0123456789abcdef']) registerSecret(secret);
  const gateway = await createGateway({
    configDir: dir,
    env: {},
    logger: createLogger({ stream, level: 'debug' }),
    watch: false,
    ...options,
  });
  const { url } = await gateway.listen(0, '127.0.0.1');
  return {
    gateway,
    url,
    dir,
    logs,
    write,
    async close() {
      await gateway.close(1000);
      snapshotDir(`audit trail of gateway in ${dir}`, path.join(dir, 'audit-trail'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
