import winston from 'winston';
import { createLineBatcher, type LineBatcher } from './line-batcher.ts';
import { maskText, maskValue } from './mask.ts';

export type Logger = winston.Logger;

/** Winston format that passes every field of every line through the masking function. */
const maskFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (key === 'level' || key === 'timestamp') continue;
    info[key] = typeof value === 'string' ? maskText(value) : maskValue(value);
  }
  return info;
});

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
  /**
   * How long access lines may wait to be written together. Default: 20 ms on stdout, whose writes are
   * synchronous system calls (files and pipes on Linux): under load that was one call per request. A
   * stream given by the caller gets its lines at the end of each event-loop turn.
   */
  flushMs?: number;
}

/** Longest wait of an access line on stdout before it is written with the others of that window. */
const STDOUT_FLUSH_MS = 20;

/** Where each logger made by createLogger writes (batched), for the access-line fast path. */
const destinations = new WeakMap<Logger, LineBatcher>();

/** Builds the gateway's JSON logger (one JSON object per line, masked). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  const logger = winston.createLogger({
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    silent: options.silent ?? false,
    format: winston.format.combine(maskFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
  const stream = options.stream ?? process.stdout;
  survivesWriteErrors(stream);
  // A transport's error is re-emitted by the logger: without a listener it would end the process.
  logger.on('error', () => undefined);
  destinations.set(
    logger,
    createLineBatcher((chunk) => stream.write(chunk), options.flushMs ?? (options.stream ? 0 : STDOUT_FLUSH_MS)),
  );
  return logger;
}

const guarded = new WeakSet<NodeJS.WritableStream>();

/**
 * A failed log write never ends the process (issue 14.2): stdout closed by the log collector (EPIPE),
 * a full disk under a redirected stdout (ENOSPC). The line is lost — there is nowhere to say so but the
 * log itself — and the gateway goes on serving. (The audit trail, which must not lose lines silently,
 * has its own writer: src/observability/audit-writer.ts.)
 */
function survivesWriteErrors(stream: NodeJS.WritableStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', () => undefined);
}

/**
 * Writes one `info` line per request with the same fields, masking and JSON shape as `logger.info(message,
 * fields)`, but straight to the logger's destination: winston's per-call stream pipeline (format chain,
 * readable-stream transforms, transport) was about 12% of the gateway's CPU per proxied request
 * (docs/benchmarks.md). Loggers not made by createLogger (or with other transports) go through winston.
 */
export function createLineWriter(logger: Logger, message: string): (fields: Record<string, unknown>) => void {
  const destination = destinations.get(logger);
  const direct = destination !== undefined && logger.transports.length === 1;
  return (fields) => {
    if (!direct) {
      logger.info(message, fields);
      return;
    }
    if (logger.silent || !logger.isLevelEnabled('info')) return;
    // One object serialised once: JSON.stringify of each field joined by hand was slower (2.5 against
    // 1.4 µs for the access line's ten fields).
    const line: Record<string, unknown> = { level: 'info', message };
    for (const key in fields) {
      const value = fields[key];
      if (value !== undefined) line[key] = typeof value === 'string' ? maskText(value) : maskValue(value);
    }
    line.timestamp = isoTimestamp(Date.now());
    destination.push(`${JSON.stringify(line)}\n`);
  };
}

/** The fields of the access line, in the order they are written (after `level` and `message`). */
export interface AccessLineFields {
  requestId: string;
  route: string | undefined;
  consumer: string | undefined;
  upstream: string | undefined;
  method: string;
  path: string;
  status: number | string | undefined;
  errorCode: string | undefined;
  bytes: number;
  durationMs: number;
  upstreamMs: number | undefined;
}

/**
 * createLineWriter(logger, 'access') for the access line's own fields, with the same bytes: the fields
 * object is the writer's (the caller makes a fresh one per line), so it is masked in place and serialised
 * as it is, between the line's head and its timestamp, instead of being copied key by key into a line
 * object that grows one transition per field (~0.7 µs of ~3.5 per line, bench/answer.bench.ts). Its
 * names are fixed by the type: none is `level`, `message` or `timestamp`, none an array index (which
 * would be ordered first on a line object), so the order of the keys is the line object's.
 */
export function createAccessLineWriter(logger: Logger): (fields: AccessLineFields) => void {
  const destination = destinations.get(logger);
  if (destination === undefined || logger.transports.length !== 1) {
    const slow = createLineWriter(logger, 'access');
    return (fields) => slow(fields as unknown as Record<string, unknown>);
  }
  const head = `{"level":"info","message":${JSON.stringify('access')}`;
  return (fields) => {
    if (logger.silent || !logger.isLevelEnabled('info')) return;
    const masked = fields as unknown as Record<string, unknown>;
    for (const key in masked) {
      const value = masked[key];
      if (value !== undefined) masked[key] = typeof value === 'string' ? maskText(value) : maskValue(value);
    }
    const json = JSON.stringify(masked);
    const rest = json.length > 2 ? `,${json.slice(1, -1)}` : '';
    destination.push(`${head}${rest},"timestamp":"${isoTimestamp(Date.now())}"}\n`);
  };
}

/**
 * `new Date(now).toISOString()` (~0.7 µs, a fifth of an access line), with the part down to the second
 * made once per second: only the milliseconds are written per line.
 */
export function isoTimestamp(now: number): string {
  const ms = now - Math.floor(now / 1000) * 1000;
  const second = now - ms;
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second).toISOString().slice(0, -4); // `…T16:00:00.` without `000Z`
  }
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}
let isoSecond = NaN;
let isoPrefix = '';

/** Writes out the access lines a logger still holds (before shutdown). */
export function flushLines(logger: Logger): void {
  destinations.get(logger)?.flush();
}
