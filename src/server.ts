import path from 'node:path';
import { ConfigError } from './config/config-error.ts';
import { createGateway, type Gateway } from './gateway.ts';
import { createLogger, type Logger } from './logging/logger.ts';

export interface StartOptions {
  readonly configDir?: string;
  readonly port?: number;
  readonly host?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Install SIGTERM/SIGINT (graceful stop) and SIGHUP (reload) handlers. */
  readonly signals?: boolean;
}

export interface Started {
  readonly gateway: Gateway;
  readonly url: string;
  stop(): Promise<void>;
}

/** `lgsp-gateway start`: the gateway on PORT with LGSP_CONFIG_DIR, plus the sandbox when the config enables it. */
export async function startServer(options: StartOptions = {}): Promise<Started> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ level: env.LOG_LEVEL });
  const configDir = path.resolve(options.configDir ?? env.LGSP_CONFIG_DIR ?? 'config');
  const gateway = await createGateway({ configDir, env, logger });
  const config = gateway.reloader.current.config;
  const closers: (() => Promise<void>)[] = [];
  if (config.sandbox.enabled) closers.push(await startSandboxIfAvailable(config, env, logger));
  const port = options.port ?? (env.PORT ? Number(env.PORT) : config.listen.port);
  const { url } = await gateway.listen(port, options.host ?? env.HOST ?? config.listen.host);
  if (config.admin.listen) {
    const admin = await gateway.listenAdmin(config.admin.listen.port, config.admin.listen.host);
    logger.info('admin listener', { url: admin.url });
  }
  logger.info('lgsp-gateway listening', {
    url,
    configDir,
    environment: config.environment,
    routes: gateway.reloader.current.routeList.length,
  });
  if (config.sandbox.enabled && process.stderr.isTTY) {
    const admin = config.admin.listen ? `http://${config.admin.listen.host}:${config.admin.listen.port}` : undefined;
    process.stderr.write(
      sandboxHint(url, env.LGSP_DEMO_API_KEY ? '$LGSP_DEMO_API_KEY' : 'lgsp-demo-mcdt-key-2026', admin),
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: draining in-flight requests');
      await gateway.close();
      for (const close of closers) await close();
      logger.info('stopped');
    })());
  if (options.signals) {
    process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
    process.once('SIGINT', () => void stop().then(() => process.exit(0)));
    process.on('SIGHUP', () => void gateway.reloader.reload('SIGHUP', true));
  }
  return { gateway, url, stop };
}

async function startSandboxIfAvailable(
  config: { environment: string; sandbox: { port: number; host: string } },
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<() => Promise<void>> {
  if (env.NODE_ENV === 'production' || config.environment === 'production') {
    throw new ConfigError([
      {
        path: 'sandbox.enabled',
        rule: 'production',
        message: 'the sandbox never runs in production: set sandbox.enabled: false',
      },
    ]);
  }
  const { startSandbox } = await import('./sandbox/index.ts');
  const started = await startSandbox({
    port: config.sandbox.port,
    host: config.sandbox.host,
    environment: config.environment,
    logger,
  });
  logger.info('sandbox of the national systems listening', { url: started.url });
  return () => started.close();
}

/** For a person at a terminal running the sandbox: one call that works, and where to read more. */
function sandboxHint(url: string, key: string, admin: string | undefined): string {
  return [
    '',
    `  lgsp-gateway is up at ${url} with the sandbox of the national systems (synthetic data only).`,
    '  Try a population look-up through VDXP, with the demo one-stop-system key:',
    '',
    `    curl -s -X POST ${url}/vdxp/dancu/1.0/thongTinChuHo -H "X-API-Key: ${key}" \\`,
    `      -H 'Content-Type: application/json' -d '{"soDinhDanh":"099205000103"}'`,
    '',
    `  More calls: README.md, "Try it".${admin ? ` Admin: ${admin}/admin/status` : ''}`,
    '',
    '',
  ].join('\n');
}
