import http from 'node:http';

export interface PacedOptions {
  readonly url: string;
  /** Requests per second, sent on a fixed schedule whatever the answers (open loop). */
  readonly rate: number;
  readonly durationMs: number;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  /** Called about every `everyMs` while running (hot reloads). */
  readonly during?: { everyMs: number; run(): Promise<void> };
}

export interface PacedResult {
  readonly sent: number;
  readonly ok: number;
  /** Non-2xx answers and transport errors. */
  readonly failed: number;
  /** The first few failures, for the message. */
  readonly failures: string[];
  /** Latency percentiles in microseconds, request written -> last response byte. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Fixed-rate load with microsecond latencies. autocannon's overallRate fires each connection's quota at
 * the start of every second and records latencies in whole milliseconds, too coarse to check a 1 ms
 * budget; this client spreads requests evenly (one timer tick per millisecond, catching up if late) over
 * a keep-alive pool and times each one with hrtime.
 */
export async function paced(options: PacedOptions): Promise<PacedResult> {
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const total = Math.round((options.rate * options.durationMs) / 1000);
  const latencies = new Float64Array(total);
  const failures: string[] = [];
  let sent = 0;
  let done = 0;
  let ok = 0;
  let failed = 0;
  const fail = (why: string) => {
    failed++;
    if (failures.length < 10) failures.push(why);
  };
  const headers: Record<string, string> = { ...options.headers };
  if (options.body) headers['content-length'] = String(options.body.length);

  const fire = (index: number) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: options.method ?? 'GET',
        headers,
        agent,
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          latencies[index] = Number(process.hrtime.bigint() - started) / 1000;
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) ok++;
          else fail(`HTTP ${res.statusCode}`);
          finish();
        });
      },
    );
    req.on('error', (err) => {
      fail(err.message);
      latencies[index] = NaN;
      finish();
    });
    req.end(options.body);
  };
  let resolveDone: () => void;
  const allDone = new Promise<void>((r) => (resolveDone = r));
  const finish = () => {
    if (++done === total) resolveDone();
  };

  const start = performance.now();
  let stopDuring = false;
  const duringLoop = (async () => {
    if (!options.during) return;
    while (!stopDuring) {
      await new Promise((r) => setTimeout(r, options.during!.everyMs));
      if (!stopDuring) await options.during.run();
    }
  })();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * options.rate) / 1000));
      while (sent < due) fire(sent++);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await allDone;
  stopDuring = true;
  await duringLoop;
  agent.destroy();
  const sorted = Array.from(latencies)
    .filter((v) => !Number.isNaN(v))
    .sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { sent, ok, failed, failures, p50: pct(50), p99: pct(99), max: sorted.at(-1) ?? NaN };
}
