import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/app/gateway.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { startSandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { SHIPPED_CONFIG_DIR, shippedConfigEnv } from './shipped-config.ts';

export type StartedSandbox = Awaited<ReturnType<typeof startSandbox>>;

/** The sandbox of the national systems and a gateway on the shipped config pointed at it. */
export interface ShippedStack {
  readonly sandbox: StartedSandbox;
  readonly gateway: Gateway;
  /** The gateway's base URL. */
  readonly url: string;
  /** The audit trail's directory, a fresh one (the delivery store lies beside it: see shippedConfigEnv). */
  readonly auditDir: string;
  /** Closes the gateway, then the sandbox, and removes the audit directory. */
  close(): Promise<void>;
}

/**
 * Starts the sandbox on loopback port 0, then a gateway on loopback port 0 with the shipped config (or
 * `gateway.configDir`) and its environment (shippedConfigEnv) pointed at that sandbox, config not watched,
 * logging nothing unless `gateway.logger` is given. A gateway that fails to start closes the sandbox.
 */
export async function startShippedStack(options: {
  /** The audit directory's prefix in the temporary directory, e.g. `lgsp-flows-audit-`. */
  readonly auditPrefix: string;
  readonly sandbox?: SandboxOptions;
  readonly gateway?: Partial<Omit<GatewayOptions, 'env'>>;
}): Promise<ShippedStack> {
  const sandbox = await startSandbox({ ...options.sandbox, port: 0, host: '127.0.0.1' });
  const auditDir = mkdtempSync(path.join(tmpdir(), options.auditPrefix));
  const removeAuditDir = () => rmSync(auditDir, { recursive: true, force: true });
  let gateway: Gateway;
  try {
    gateway = await createGateway({
      configDir: SHIPPED_CONFIG_DIR,
      watch: false,
      logger: createLogger({ silent: true }),
      ...options.gateway,
      env: shippedConfigEnv(sandbox.url, auditDir),
    });
  } catch (err) {
    await sandbox.close();
    removeAuditDir();
    throw err;
  }
  const close = async () => {
    await gateway.close(1000);
    await sandbox.close();
    removeAuditDir();
  };
  return { sandbox, gateway, url: (await gateway.listen(0, '127.0.0.1')).url, auditDir, close };
}
