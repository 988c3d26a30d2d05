import winston from 'winston';
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
}

/** Builds the gateway's JSON logger (one JSON object per line, masked). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    silent: options.silent ?? false,
    format: winston.format.combine(maskFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
}
