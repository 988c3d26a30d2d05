import { closeSync, createReadStream, createWriteStream, mkdirSync, openSync } from 'node:fs';
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/**
 * Where audit lines go, and whether they get there. The writer never throws and never emits an unhandled
 * 'error': a full disk (ENOSPC), a read-only remount (EROFS), a removed directory or a closed stdout make it
 * `failing`, keep the lines not yet written in a bounded buffer, and retry every `retryMs` with those same
 * lines (no probe bytes: the retry is the next real write). The first write that succeeds ends the outage.
 * Lines that would overflow the buffer are dropped and counted (`lostLines`); the buffer is never unbounded.
 *
 * Written instead of winston-daily-rotate-file (issue 14.2): that transport turned ENOSPC into an
 * unhandled 'error' (the process exited, and on a still-full disk exited again at the first write after
 * each restart), lost its last batch, and kept a side file (`.audit-rotation.json`) of hex hashes whose
 * 12-digit runs tripped ID scanners (issue 14.7). This writer leaves only the daily files.
 */
export interface AuditSink {
  /** Appends lines (each ends with `\n`). Returns false when the buffer was full and they were dropped. */
  write(lines: string): boolean;
  readonly health: AuditHealth;
  /** Resolves when everything accepted so far is written, or the writer is failing. */
  flush(): Promise<void>;
  /** Writes what it can (one attempt), then closes the file. Lines still unwritten are counted as lost. */
  close(): Promise<{ lostLines: number }>;
}

export interface AuditHealth {
  readonly state: 'ok' | 'failing';
  /** Epoch ms of the first failed write of the current outage. */
  readonly since?: number;
  /** Error code of the last failed write (`ENOSPC`, `EACCES`, …): never a path or a line. */
  readonly error?: string;
  /** Bytes waiting in memory to be written. */
  readonly pendingBytes: number;
  /** Lines dropped since start because the buffer was full (or unwritten at close). */
  readonly lostLines: number;
}

export interface AuditSinkEvents {
  /** A write failed and the writer went from ok to failing. */
  onFailure?(error: string): void;
  /** A write succeeded after an outage. */
  onRecovery?(outageMs: number, lostLines: number): void;
  /** `count` lines were dropped (buffer full). */
  onLost?(count: number): void;
  /** A housekeeping step (compression, retention) failed; writing goes on. */
  onHousekeepingError?(what: string, error: string): void;
}

export interface FileSinkOptions {
  readonly dir: string;
  /** File name with `%DATE%` (UTC `YYYY-MM-DD`). */
  readonly filename: string;
  readonly retentionDays: number;
  readonly compress: boolean;
  readonly bufferBytes: number;
  readonly retryMs: number;
  /** Time source (ms since epoch): the file of the day is chosen by it. */
  readonly now: () => number;
}

/** UTC `YYYY-MM-DD` of an epoch time. */
function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The code of a failed file system call (`ENOSPC`), or the error's name: never its message (it holds paths). */
export function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.name : 'error';
}

/**
 * Checks at load that the audit directory can be written: creates it when missing and opens today's file
 * for appending (the check a `chmod`/read-only mount/unwritable volume fails). Throws with the error code.
 */
export function assertWritableAuditDir(options: Pick<FileSinkOptions, 'dir' | 'filename' | 'now'>): void {
  mkdirSync(options.dir, { recursive: true });
  closeSync(openSync(path.join(options.dir, options.filename.replace('%DATE%', utcDate(options.now()))), 'a'));
}

/**
 * A sink shared by the file and stream writers: the queue, the failure state, the retry timer. `release`
 * runs on close, after the last write attempt (the file writer closes its file there).
 */
function createQueue(
  writeOut: (chunk: Buffer, midLine: boolean) => Promise<number>,
  options: { bufferBytes: number; retryMs: number; now: () => number },
  events: AuditSinkEvents,
  release: () => Promise<void> = async () => undefined,
): AuditSink {
  let queue: Buffer[] = [];
  let pendingBytes = 0;
  let lostLines = 0;
  let failing: { since: number; error: string } | undefined;
  let draining: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  // The front of the queue is the rest of a line cut short by a failed write: it must follow its start in
  // the same file, even when the day changed while the disk was full.
  let midLine = false;

  const fail = (err: unknown) => {
    const error = errorCode(err);
    if (!failing) {
      failing = { since: options.now(), error };
      events.onFailure?.(error);
    } else failing = { ...failing, error };
    if (!closed) {
      retry = setTimeout(() => {
        retry = undefined;
        kick();
      }, options.retryMs);
      retry.unref();
    }
  };

  /** Writes the queue out, one joined chunk at a time; a failure puts the unwritten rest back in front. */
  const drain = async () => {
    while (queue.length > 0) {
      const chunk = queue.length === 1 ? queue[0]! : Buffer.concat(queue);
      queue = [];
      let written = 0;
      try {
        while (written < chunk.length) {
          // Mid-line: only up to the end of that line goes with it (to its file); the lines after may not.
          const cut = written === 0 ? midLine : chunk[written - 1] !== 0x0a;
          const newline = cut ? chunk.indexOf(0x0a, written) : -1;
          const end = newline === -1 ? chunk.length : newline + 1;
          written += await writeOut(written === 0 && end === chunk.length ? chunk : chunk.subarray(written, end), cut);
        }
        midLine = false;
      } catch (err) {
        if (written > 0) midLine = chunk[written - 1] !== 0x0a;
        queue.unshift(chunk.subarray(written));
        pendingBytes -= written;
        fail(err);
        return;
      }
      pendingBytes -= chunk.length;
      if (failing) {
        const outage = options.now() - failing.since;
        failing = undefined;
        events.onRecovery?.(outage, lostLines);
      }
    }
  };

  const kick = () => {
    if (draining || retry) return;
    draining = drain().finally(() => (draining = undefined));
  };

  return {
    write(lines: string) {
      if (closed) return false;
      const buf = Buffer.from(lines, 'utf8');
      if (pendingBytes + buf.length > options.bufferBytes) {
        let count = 0;
        for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) count++;
        lostLines += count;
        events.onLost?.(count);
        return false;
      }
      queue.push(buf);
      pendingBytes += buf.length;
      kick();
      return true;
    },
    get health(): AuditHealth {
      return failing
        ? { state: 'failing', since: failing.since, error: failing.error, pendingBytes, lostLines }
        : { state: 'ok', pendingBytes, lostLines };
    },
    async flush() {
      while (draining) await draining;
    },
    /** One last attempt at what is pending (even while failing), then stop. */
    async close() {
      closed = true;
      if (retry) {
        clearTimeout(retry);
        retry = undefined;
      }
      while (draining) await draining;
      if (queue.length > 0) await drain();
      if (queue.length > 0) {
        let count = 0;
        for (const b of queue) for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) count++;
        lostLines += count;
        if (count > 0) events.onLost?.(count);
        queue = [];
        pendingBytes = 0;
      }
      await release();
      return { lostLines };
    },
  };
}

/**
 * Daily files `dir/<filename with %DATE%>` (UTC), appended with one write per batch. Past days' files are
 * gzipped when `compress` is set, and files older than `retentionDays` are deleted, at start and at each
 * change of day; a failure of either is reported and writing goes on.
 */
export function createFileSink(options: FileSinkOptions, events: AuditSinkEvents = {}): AuditSink {
  let handle: FileHandle | undefined;
  let handleDate = '';
  let housekeepingRun = Promise.resolve();
  const [before, after] = options.filename.split('%DATE%') as [string, string];
  const ownFile = new RegExp(`^${escapeRegExp(before)}(\\d{4}-\\d{2}-\\d{2})${escapeRegExp(after)}(\\.gz)?$`);

  const housekeeping = async (today: string) => {
    let names: string[];
    try {
      names = await readdir(options.dir);
    } catch (err) {
      events.onHousekeepingError?.('list', errorCode(err));
      return;
    }
    const oldest = utcDate(options.now() - options.retentionDays * 86_400_000);
    for (const name of names) {
      const m = ownFile.exec(name);
      if (!m || m[1]! >= today) continue;
      const file = path.join(options.dir, name);
      try {
        if (m[1]! < oldest) await unlink(file);
        else if (options.compress && !m[2]) {
          // Written under a temporary name and renamed: a `.gz` is never a half-written one (a full disk
          // fails the compression, and the plain file stays).
          const partial = path.join(options.dir, `.${name}.gz.partial`);
          try {
            await pipeline(createReadStream(file), createGzip(), createWriteStream(partial));
            await rename(partial, `${file}.gz`);
          } catch (err) {
            await unlink(partial).catch(() => undefined);
            throw err;
          }
          await unlink(file);
        }
      } catch (err) {
        events.onHousekeepingError?.(m[1]! < oldest ? 'retention' : 'compress', errorCode(err));
      }
    }
  };

  const writeOut = async (chunk: Buffer, midLine: boolean): Promise<number> => {
    const today = utcDate(options.now());
    // The rest of a line cut short stays in the file its start went to (a line never spans two days).
    if (!handle || (handleDate !== today && !midLine)) {
      const old = handle;
      handle = undefined;
      await old?.close().catch(() => undefined);
      await mkdir(options.dir, { recursive: true });
      handle = await open(path.join(options.dir, options.filename.replace('%DATE%', today)), 'a');
      handleDate = today;
      // One pass at a time (start and a change of day may meet); close() waits for the last one.
      housekeepingRun = housekeepingRun.then(() => housekeeping(today));
    }
    const { bytesWritten } = await handle.write(chunk);
    // A write that stores nothing would be retried at once forever: treat it as the failure it is.
    if (bytesWritten === 0) throw Object.assign(new Error('nothing written'), { code: 'EIO' });
    return bytesWritten;
  };

  return createQueue(writeOut, options, events, async () => {
    await housekeepingRun;
    await handle?.close().catch(() => undefined);
    handle = undefined;
  });
}

/** Audit lines on a stream (stdout for containers). An 'error' on it (EPIPE) makes the writer failing. */
export function createStreamSink(
  stream: NodeJS.WritableStream,
  options: { bufferBytes: number; retryMs: number; now: () => number },
  events: AuditSinkEvents = {},
): AuditSink {
  let broken: Error | undefined;
  // Without a listener an EPIPE on stdout would end the process; here it only marks the sink failing.
  stream.on('error', (err: Error) => (broken = err));
  const writeOut = (chunk: Buffer) =>
    new Promise<number>((resolve, reject) => {
      if (broken || (stream as { destroyed?: boolean }).destroyed) {
        reject(broken ?? Object.assign(new Error('stream closed'), { code: 'ERR_STREAM_DESTROYED' }));
        return;
      }
      stream.write(chunk, (err) => (err ? reject(err) : resolve(chunk.length)));
    });
  return createQueue(writeOut, options, events);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
