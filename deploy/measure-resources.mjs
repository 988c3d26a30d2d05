// Sizing measurement behind deploy/k8s resources (docs/deploy.md, "Sizing"). Linux only (/proc).
//   node deploy/measure-resources.mjs [requests per second, default 500]
// The gateway (`node src/cli/main.ts start`, its own process) with one pass-through route (API-key auth, access
// log, audit to a file, no rate limit) in front of a loopback upstream answering ~300 bytes of JSON;
// autocannon warms up 3 s, then sends POSTs at a fixed rate for 10 s; CPU (utime+stime) and RSS of the
// gateway process are read from /proc/<pid>/stat and /proc/<pid>/status.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-measure-'));

const rate = Number(process.argv[2] ?? 500);
const body = JSON.stringify({ responseCode: '200', responseMessage: 'ok', data: { hoVaTen: 'x'.repeat(200) } });
const up = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
});
await new Promise((r) => up.listen(0, '127.0.0.1', r));
const key = 'bench-consumer-key-0123456789abcdefgh';
const sha = (await import('node:crypto')).createHash('sha256').update(key).digest('hex');
writeFileSync(
  path.join(dir, 'gateway.yaml'),
  `version: 1
reload: { watch: false }
logging: { level: info }
audit: { output: file, dir: ${dir}/audit, hmacKey: "bench-audit-hmac-key-0123456789abcdef0123" }
upstreams:
  ndxp: { url: "http://127.0.0.1:${up.address().port}" }
consumers:
  mcdt: { apiKeys: [{ sha256: ${sha} }] }
routes:
  - { id: pass, methods: [GET, POST], path: /ndxp/*, upstream: ndxp, consumers: [mcdt] }
`,
);
const child = spawn(process.execPath, [path.join(root, 'src/cli/main.ts'), 'start'], {
  env: {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LGSP_CONFIG_DIR: dir,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve) =>
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      const j = JSON.parse(l);
      if (j.message === 'lgsp-gateway listening') resolve(j.url);
    } catch {
      // not a JSON line
    }
  }),
);
const tick = 100; // USER_HZ
const cpu = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / tick;
};
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
// warm-up 3 s
await autocannon({
  url: `${url}/ndxp/dancu/1.0/x`,
  headers: { 'x-api-key': key },
  connections: 20,
  duration: 3,
  overallRate: rate,
});
const idle = rss();
const c0 = cpu();
const t0 = Date.now();
const r = await autocannon({
  url: `${url}/ndxp/dancu/1.0/x`,
  method: 'POST',
  headers: { 'x-api-key': key, 'content-type': 'application/json' },
  body: JSON.stringify({ soDinhDanh: '001099012345', maYeuCau: 'abc' }),
  connections: 50,
  duration: 10,
  overallRate: rate,
});
const secs = (Date.now() - t0) / 1000;
const c1 = cpu();
console.log(
  JSON.stringify({
    rate,
    reqPerSec: r.requests.average,
    non2xx: r.non2xx,
    errors: r.errors,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuCores: +((c1 - c0) / secs).toFixed(3),
    rssAfterWarmupMiB: +idle.toFixed(1),
    rssEndMiB: +rss().toFixed(1),
    rssPeakMiB: +hwm().toFixed(1),
  }),
);
child.kill('SIGTERM');
child.once('exit', () => {
  up.close();
  up.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
});
