import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { createAdminRouter } from './admin/admin-router.ts';
import { watchConfigDir } from './config/config-watcher.ts';
import type { Env } from './config/interpolate.ts';
import { systemClock, type Clock } from './config/types.ts';
import { errorDialects } from './errors/dialects/index.ts';
import { createLogger, type Logger } from './logging/logger.ts';
import { createGatewayHandler, type JsonParser, type PipelineHooks } from './pipeline/gateway-handler.ts';
import { defaultFactories } from './runtime/default-factories.ts';
import { Reloader } from './runtime/reloader.ts';
import { buildRuntime, closeRuntime, type RuntimeFactories } from './runtime/runtime.ts';

export interface GatewayOptions {
  readonly configDir: string;
  readonly env?: Env;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly factories?: RuntimeFactories;
  readonly hooks?: PipelineHooks;
  readonly parseJson?: JsonParser;
  /** Watch the config directory for changes (default: the config's `reload.watch`). */
  readonly watch?: boolean;
}

export interface Gateway {
  readonly app: Express;
  readonly reloader: Reloader;
  readonly logger: Logger;
  /** Starts listening (port 0 = any free port). */
  listen(port?: number, host?: string): Promise<{ server: Server; url: string; port: number }>;
  /** Graceful stop: refuse new connections, let in-flight requests finish within `graceMs`, close agents. */
  close(graceMs?: number): Promise<void>;
  readonly ready: boolean;
}

/** Builds a whole gateway from its dependencies; several can run in one process (tests do). */
export function createGateway(options: GatewayOptions): Gateway {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  const factories =
    options.factories ?? defaultFactories({ configDir: options.configDir, env: options.env ?? process.env, logger });
  const dialectNames = Object.keys(errorDialects);
  const reloader = new Reloader({
    dir: options.configDir,
    load: { env: options.env ?? process.env, dialects: dialectNames },
    build: (loaded, previous) => buildRuntime(loaded, { factories, logger, clock }, previous),
    logger,
    clock,
  });
  logger.level = reloader.current.config.logging.level;

  let server: Server | undefined;
  let shuttingDown = false;
  let listening = false;
  const handler = createGatewayHandler({
    current: () => reloader.current,
    logger,
    clock,
    hooks: options.hooks,
    parseJson: options.parseJson,
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    // While draining, tell keep-alive callers to reconnect elsewhere and free the socket after the reply.
    if (shuttingDown) {
      res.setHeader('connection', 'close');
      res.once('finish', () => server?.closeIdleConnections());
    }
    next();
  });
  const ownResponses = helmet();
  app.get('/healthz', ownResponses, (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', ownResponses, (_req, res) => {
    const ready = listening && !shuttingDown;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', hash: reloader.current.hash });
  });
  app.use('/admin', ownResponses, createAdminRouter(reloader));
  app.use((req, res) => handler(req, res));

  const watch = options.watch ?? reloader.current.config.reload.watch;
  const watcher = watch
    ? watchConfigDir(options.configDir, {
        debounceMs: reloader.current.config.reload.debounceMs,
        logger,
        onChange: () => reloader.reload('file-change'),
      })
    : undefined;

  return {
    app,
    reloader,
    logger,
    get ready() {
      return listening && !shuttingDown;
    },
    listen(port = reloader.current.config.listen.port, host = reloader.current.config.listen.host) {
      return new Promise((resolve, reject) => {
        const s = http.createServer(
          { keepAliveTimeout: 65_000, headersTimeout: 66_000 },
          app as (req: IncomingMessage, res: ServerResponse) => void,
        );
        s.once('error', reject);
        s.listen(port, host, () => {
          server = s;
          listening = true;
          const address = s.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({
            server: s,
            port: address.port,
            url: `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`,
          });
        });
      });
    },
    async close(graceMs = reloader.current.config.shutdown.graceMs) {
      shuttingDown = true;
      watcher?.close();
      if (server) {
        const s = server;
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        const runtime = reloader.current;
        const timer = setTimeout(() => s.closeAllConnections(), graceMs);
        await closed;
        clearTimeout(timer);
        listening = false;
        closeRuntime(runtime);
      } else {
        closeRuntime(reloader.current);
      }
      (factories as { tokenCache?: { close(): void } }).tokenCache?.close();
    },
  };
}
