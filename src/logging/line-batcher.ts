/**
 * Joins the lines written during one turn of the event loop into a single write. Under load many
 * requests finish per turn, and one write per turn instead of one per request (access log, audit
 * trail) removes most of the logging syscalls from the hot path. Lines wait at most until the end of
 * the current turn (setImmediate); `flush()` writes them at once (shutdown, tests).
 */
export interface LineBatcher {
  push(line: string): void;
  flush(): void;
}

/**
 * `maxDelayMs` (0: end of the current turn) lets lines wait up to that long so that writes whose cost is
 * a thread-pool round trip (fs.WriteStream: the audit file) carry many requests each.
 */
export function createLineBatcher(write: (chunk: string) => void, maxDelayMs = 0): LineBatcher {
  let pending = '';
  let scheduled = false;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    scheduled = false;
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    write(chunk);
  };
  return {
    push(line) {
      pending += line;
      // A large backlog is written at once rather than growing one string without bound.
      if (pending.length > 64 * 1024) flush();
      else if (!scheduled) {
        scheduled = true;
        if (maxDelayMs > 0) {
          timer = setTimeout(flush, maxDelayMs);
          timer.unref();
        } else setImmediate(flush);
      }
    },
    flush,
  };
}
