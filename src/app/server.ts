import path from 'node:path';
import { ConfigError } from '../config/config-error.ts';
import { createGateway, type Gateway } from './gateway.ts';
import { settleHeap } from './settle-heap.ts';
import { createLogger, flushLines, type Logger } from '../logging/logger.ts';

/**
 * The gateway could not start for a reason outside the config files (a port taken): one sentence for
 * the admin, naming the setting to change. The CLI prints it and exits 1.
 */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartError';
  }
}

const LISTEN_FAULTS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (another lgsp-gateway?)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no such address on this machine',
};

/** Runs `listen`; a port taken or refused becomes a StartError naming the listener and its setting. */
export async function listenAs<T>(
  what: string,
  setting: string,
  host: string,
  port: number,
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const reason = LISTEN_FAULTS[(err as NodeJS.ErrnoException).code ?? ''];
    if (!reason || (err as NodeJS.ErrnoException).syscall !== 'listen') throw err; // not about the port
    throw new StartError(`cannot listen on ${host}:${port} for the ${what}: ${reason}; set ${setting}`);
  }
}

export interface StartOptions {
  readonly configDir?: string;
  readonly port?: number;
  readonly host?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logger?: Logger;
  /** Install SIGTERM/SIGINT (graceful stop) and SIGHUP (reload) handlers. */
  readonly signals?: boolean;
  /** Give back the memory the build no longer needs before listening (settle-heap.ts; the CLI's `start`). */
  readonly settleHeap?: boolean;
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
  // The first line: which process (signals go to this pid) and which Node runs it.
  logger.info('lgsp-gateway starting', {
    pid: process.pid,
    node: process.version,
    nodePath: process.execPath,
    configDir,
    ...(env.npm_lifecycle_event ? { startedBy: `npm run ${env.npm_lifecycle_event} (pid ${process.ppid})` } : {}),
  });
  const gateway = await createGateway({ configDir, env, logger });
  const config = gateway.reloader.current.config;
  const closers: (() => Promise<void>)[] = [];
  let url: string | undefined;
  try {
    // The simulated PM DVCLT sends linked-services dossiers (B1) to this gateway once it listens, and the
    // simulated VNeID and sector database (part B) call it too.
    if (config.sandbox.enabled) closers.push(await startSandboxIfAvailable(config, env, logger, () => url));
    if (options.settleHeap) {
      const settled = settleHeap();
      if (settled) logger.info('heap settled after the build', settled);
    }
    const port = options.port ?? (env.PORT ? Number(env.PORT) : config.listen.port);
    const host = options.host ?? env.HOST ?? config.listen.host;
    ({ url } = await listenAs('gateway', 'PORT (or listen.port)', host, port, () => gateway.listen(port, host)));
    const adminListen = config.admin.listen;
    if (adminListen) {
      const admin = await listenAs(
        'admin listener',
        'ADMIN_PORT (or admin.listen.port)',
        adminListen.host,
        adminListen.port,
        () => gateway.listenAdmin(adminListen.port, adminListen.host),
      );
      logger.info('admin listener', { url: admin.url });
    }
  } catch (err) {
    // Nothing may keep the process alive after a failed start: listeners, sandbox, Redis client.
    await gateway.close(0);
    for (const close of closers) await close();
    flushLines(logger);
    throw err;
  }
  logger.info('lgsp-gateway listening', {
    url,
    pid: process.pid,
    configDir,
    environment: config.environment,
    routes: gateway.reloader.current.routeList.length,
  });
  if (gateway.reloader.current.routeList.length === 0)
    logger.warn('the route table is empty: every request will be answered 404', {
      routes: config.paths.routes,
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
    if (env.npm_lifecycle_event) watchLauncher(logger, stop);
  }
  return { gateway, url, stop };
}

/**
 * Under `npm start`, npm is the process an admin sees, but npm forwards only SIGINT and SIGTERM: a SIGHUP
 * (or SIGKILL) sent to npm ends npm and would leave the gateway serving, unsupervised, with the old config.
 * When npm ends, the gateway notices (it is re-parented) and stops gracefully, saying why and where its
 * own signals go. Checked once a second, on an unref'd timer.
 */
function watchLauncher(logger: Logger, stop: () => Promise<void>): void {
  const launcher = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(timer);
    logger.warn(
      `the npm process (pid ${launcher}) that started the gateway has ended: stopping, so that no gateway runs unsupervised. ` +
        `npm passes on only SIGINT and SIGTERM; send SIGHUP (reload) to the gateway's own pid ${process.pid}, or POST /admin/reload`,
      { pid: process.pid, launcher },
    );
    void stop().then(() => process.exit(0));
  }, 1000);
  timer.unref();
}

async function startSandboxIfAvailable(
  config: { environment: string; sandbox: { port: number; host: string } },
  env: NodeJS.ProcessEnv,
  logger: Logger,
  gatewayUrl: () => string | undefined,
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
  const { startSandbox } = await import('../sandbox/index.ts');
  const { port, host } = config.sandbox;
  const started = await listenAs('sandbox', 'SANDBOX_PORT (or sandbox.port)', host, port, () =>
    startSandbox({
      port,
      host,
      environment: config.environment,
      logger,
      dvclt: { province: () => sandboxProvince(gatewayUrl(), env) },
      partB: {
        gatewayUrl: () => onLoopback(gatewayUrl()),
        apiKey: env.LGSP_VNEID_INBOUND_KEY || undefined,
        sectorDatabaseApiKey: env.LGSP_CSDLCN_KEY || undefined,
      },
    }),
  );
  logger.info('sandbox of the national systems listening', { url: started.url });
  return () => started.close();
}

/** The gateway's URL as a local caller reaches it: a wildcard listen address becomes loopback. */
function onLoopback(gatewayUrl: string | undefined): string | undefined {
  if (gatewayUrl === undefined) return undefined;
  const url = new URL(gatewayUrl);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
  return url.origin;
}

/**
 * Where the simulated PM DVCLT sends B1: the shipped inbound route on this gateway (a wildcard listen
 * address reached on loopback), with the key of the shipped `dvclt` consumer.
 */
function sandboxProvince(gatewayUrl: string | undefined, env: NodeJS.ProcessEnv) {
  if (gatewayUrl === undefined) return undefined;
  const target = new URL('/mcdt/dvclt/dongBoHoSo', gatewayUrl);
  if (target.hostname === '0.0.0.0' || target.hostname === '[::]') target.hostname = '127.0.0.1';
  return { url: target.href, apiKey: env.LGSP_DVCLT_INBOUND_KEY || 'lgsp-demo-dvclt-inbound-2026' };
}

/** For a person at a terminal running the sandbox: one call that works, and where to read more. */
function sandboxHint(url: string, key: string, admin: string | undefined): string {
  return [
    '',
    `  lgsp-gateway is up at ${url} with the sandbox of the national systems (synthetic data only).`,
    '  Try a population look-up through VDXP, with the demo one-stop-system key:',
    '',
    `    curl -s -X POST ${url}/dancu/1.0/thongTinChuHo -H "X-API-Key: ${key}" \\`,
    `      -H 'Content-Type: application/json' -d '{"maCanBo":"cb01","soDinhDanh":"099205000103"}'`,
    '',
    `  More calls: README.md, "Try it".${admin ? ` Admin: ${admin}/admin/status` : ''}`,
    '',
    '',
  ].join('\n');
}
