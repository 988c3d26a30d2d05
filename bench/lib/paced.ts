import http from 'node:http';

export interface PacedTarget {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

export interface PacedOptions extends PacedTarget {
  /** Requests per second, sent on a fixed schedule whatever the answers (open loop). */
  readonly rate: number;
  readonly durationMs: number;
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
  const [result] = await pacedInterleaved([options], options.rate, options.durationMs, options.during);
  return result;
}

/**
 * Several targets at `rate` requests per second each, interleaved on one schedule (request k goes to
 * target k mod n). The harness measures one target at a time: three at once from one client measured the
 * client. Percentiles leave out the first 10% of each target's requests (its pool opening connections).
 */
export async function pacedInterleaved(
  targets: readonly PacedTarget[],
  rate: number,
  durationMs: number,
  during?: { everyMs: number; run(): Promise<void> },
): Promise<PacedResult[]> {
  const n = targets.length;
  const perTarget = Math.round((rate * durationMs) / 1000);
  const total = perTarget * n;
  const state = targets.map((t) => {
    const url = new URL(t.url);
    const headers: Record<string, string> = { ...t.headers };
    if (t.body) headers['content-length'] = String(t.body.length);
    return {
      options: {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: t.method ?? 'GET',
        headers,
        agent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
      },
      body: t.body,
      latencies: new Float64Array(perTarget),
      failures: [] as string[],
      ok: 0,
      failed: 0,
      sent: 0,
    };
  });
  let done = 0;
  let resolveDone: () => void;
  const allDone = new Promise<void>((r) => (resolveDone = r));
  const finish = () => {
    if (++done === total) resolveDone();
  };

  const fire = (k: number) => {
    const s = state[k % n];
    const index = Math.floor(k / n);
    s.sent++;
    const fail = (why: string) => {
      s.failed++;
      if (s.failures.length < 10) s.failures.push(why);
    };
    const started = process.hrtime.bigint();
    const req = http.request(s.options, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        s.latencies[index] = Number(process.hrtime.bigint() - started) / 1000;
        if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) s.ok++;
        else fail(`HTTP ${res.statusCode}`);
        finish();
      });
    });
    req.on('error', (err) => {
      fail(err.message);
      s.latencies[index] = NaN;
      finish();
    });
    req.end(s.body);
  };

  const start = performance.now();
  let stopDuring = false;
  const duringLoop = (async () => {
    if (!during) return;
    while (!stopDuring) {
      await new Promise((r) => setTimeout(r, during.everyMs));
      if (!stopDuring) await during.run();
    }
  })();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate * n) / 1000));
      while (sent < due) fire(sent++);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await allDone;
  stopDuring = true;
  await duringLoop;
  return state.map((s) => {
    s.options.agent.destroy();
    // The first 10% of each target's requests open its keep-alive pool: timed, checked, not counted.
    const sorted = Array.from(s.latencies.subarray(Math.floor(perTarget / 10)))
      .filter((v) => !Number.isNaN(v))
      .sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
    return {
      sent: s.sent,
      ok: s.ok,
      failed: s.failed,
      failures: s.failures,
      p50: pct(50),
      p99: pct(99),
      max: sorted.at(-1) ?? NaN,
    };
  });
}
