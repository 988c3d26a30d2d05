#!/usr/bin/env node
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { codeFormLines, describeRoute } from '../app/admin-router.ts';
import { ConfigError, formatIssue } from '../config/config-error.ts';
import { issuesFrom, loadConfig } from '../config/load-config.ts';
import { createLogger } from '../logging/logger.ts';
import { defaultFactories, gatewayLoadOptions } from '../app/default-factories.ts';
import { buildRuntime, closeRuntime } from '../runtime/runtime.ts';
import { StartError, startServer } from '../app/server.ts';
import { systemClock } from '../config/types.ts';

const USAGE = `lgsp-gateway <command>

  start                 start the gateway (LGSP_CONFIG_DIR, PORT, ADMIN_PORT, SANDBOX_PORT, LOG_LEVEL);
                        SIGHUP reloads the config, SIGTERM/SIGINT drain and stop
  validate [dir]        check a config directory; exit 0 when valid, 1 with every error
  routes [dir]          list the route table: method, path, upstream, credentials, mappings, schemas, and
                        how each consumer's values are read by each code list (validate prints these too)
  gen-key               make a consumer API key (>= 128 bits) and print it with its SHA-256 for the config
  report --from D --to D [--by consumer|route|day|month] [--format csv|json] [--dir audit]
                        monthly exchange statistics from the audit trail
  report reconciliation [--config DIR] [--since YYYY-MM] [--format table|json]
                        pushes the national side never accepted, per upstream and month (delivery ledger)
  deliveries list|show|retry|drop [--config DIR] [--json] ...
                        the delivery queue and ledger (lgsp-gateway deliveries --help)
`;

/** Runs one CLI command; returns the exit code (start resolves when the server is up). */
export async function runCli(argv: string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...args] = argv;
  const dirArg = () => path.resolve(args.find((a) => !a.startsWith('-')) ?? process.env.LGSP_CONFIG_DIR ?? 'config');
  switch (command) {
    case 'start': {
      // Signals are handled from the first moment: a container's PID 1 without a handler ignores SIGTERM.
      // Until the gateway is up there is nothing to drain; a SIGHUP then is moot (the config is being read).
      const early = (signal: NodeJS.Signals) => {
        io.stderr.write(`lgsp-gateway: ${signal} before the gateway was up: exiting\n`);
        process.exit(128 + (osConstants.signals[signal] ?? 0));
      };
      const ignore = () => undefined;
      process.once('SIGTERM', early).once('SIGINT', early).on('SIGHUP', ignore);
      try {
        await startServer({ signals: true, settleHeap: true });
        return 0;
      } catch (err) {
        if (err instanceof ConfigError) {
          io.stderr.write(`lgsp-gateway: the configuration is invalid, not starting:\n${err.message}\n`);
          return 1;
        }
        if (err instanceof StartError) {
          io.stderr.write(`lgsp-gateway: not starting: ${err.message}\n`);
          return 1;
        }
        throw err;
      } finally {
        process.off('SIGTERM', early).off('SIGINT', early).off('SIGHUP', ignore);
      }
    }
    case 'validate':
    case 'routes': {
      const dir = dirArg();
      const logger = createLogger({ silent: true });
      let loaded;
      try {
        loaded = loadConfig(dir, gatewayLoadOptions(process.env));
        for (const notice of loaded.notices) io.stderr.write(`${dir}: note: ${notice}\n`);
        const factories = defaultFactories({ configDir: dir, env: process.env, logger, clock: systemClock });
        const runtime = await buildRuntime(loaded, { factories, logger, clock: systemClock });
        factories.tokenCache.close();
        await closeRuntime(runtime);
        const routes = runtime.routeList.map((r) => describeRoute(r, loaded!.config.consumers));
        if (command === 'validate') {
          if (runtime.routeList.length === 0)
            io.stderr.write(
              `${dir}: warning: the route table is empty: every request will be answered 404 (paths.routes: ${loaded.config.paths.routes})\n`,
            );
          io.stdout.write(
            `${dir}: valid (${runtime.routeList.length} routes, ${runtime.upstreams.size} upstreams, hash ${runtime.hash.slice(0, 12)})\n`,
          );
          printCodeForms(routes, io.stdout);
        } else {
          printRoutes(routes, io.stdout);
          printCodeForms(routes, io.stdout);
        }
        return 0;
      } catch (err) {
        const issues = err instanceof ConfigError ? err.issues : loaded ? issuesFrom(err, loaded) : [];
        if (issues.length === 0) throw err;
        io.stderr.write(`${dir}: ${issues.length} error(s)\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}\n`);
        return 1;
      }
    }
    // The other commands' modules are loaded by the command that runs them, not by a started gateway.
    case 'gen-key':
      return (await import('./gen-key.ts')).runGenKey(args, io);
    case 'report': {
      const [{ runReport }, { openConfiguredStore }] = await Promise.all([
        import('./report.ts'),
        import('./open-store.ts'),
      ]);
      return runReport(args, io, process.env, openConfiguredStore);
    }
    case 'deliveries': {
      const [{ runDeliveries }, { openConfiguredStore }] = await Promise.all([
        import('./deliveries.ts'),
        import('./open-store.ts'),
      ]);
      return runDeliveries(args, { ...io, stdin: process.stdin }, { open: openConfiguredStore });
    }
    case undefined:
    case 'help':
    case '--help':
      io.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      io.stderr.write(`unknown command "${command}"\n${USAGE}`);
      return 1;
  }
}

function printRoutes(routes: ReturnType<typeof describeRoute>[], out: NodeJS.WritableStream): void {
  const rows = routes.map((r) => [
    r.methods.join(','),
    r.path,
    `${r.upstream} ${r.upstreamPath}`,
    r.credentials.join('+') || '-',
    [...r.requestMapping, ...r.responseMapping.map((m) => `resp:${m}`)].join(',') || '-',
    [
      r.requestSchema,
      r.responseSchema && `resp:${r.responseSchema}`,
      r.responseSignature && `resp:jws:${r.responseSignature}`,
    ]
      .filter(Boolean)
      .join(' ') || '-',
    r.consumers.join(',') || '(closed)',
  ]);
  const header = ['METHODS', 'PATH', 'UPSTREAM', 'CREDENTIALS', 'MAPPINGS', 'SCHEMAS', 'CONSUMERS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows])
    out.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** Which consumer's values each code list reads how (issue 16.1): its declared form, or the route default. */
function printCodeForms(routes: ReturnType<typeof describeRoute>[], out: NodeJS.WritableStream): void {
  const lines = routes.flatMap(codeFormLines);
  if (lines.length === 0) return;
  out.write(`\nCODE LISTS (route field [catalogue -> column] consumer: columns read)\n`);
  for (const line of lines) out.write(`${line}\n`);
}

const isMain = process.argv[1] && /(cli[\\/]main\.(ts|js)|lgsp-gateway(\.js)?)$/.test(process.argv[1]);
if (isMain) {
  let code: number;
  try {
    code = await runCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`lgsp-gateway: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    code = 1;
  }
  // Every command but a started gateway ends here, now: a handle left open on an error path (a Redis
  // client of a runtime that failed to build) must not keep a misconfigured container "running".
  if (code !== 0 || process.argv[2] !== 'start') process.exit(code);
}
