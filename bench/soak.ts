/**
 * Soak test (issue 8): `npm run soak` (= `node bench/soak.ts`). Not part of `npm test`.
 *
 * Sends SOAK_REQUESTS (default 1 000 000) requests through a real gateway on loopback, over keep-alive
 * agents, across three kinds of route:
 *   - pass-through GET (managed client, no body), upstream with OAuth2 client-credentials tokens;
 *   - streamed POST (http-proxy-middleware), same upstream;
 *   - buffered JSON POST with a body-injected credential (login-token, `inject.jsonField`), which makes the
 *     gateway parse, guard and re-serialise every body (the mapped MOLISA route takes this place once the
 *     transform module is on main).
 * Meanwhile the config directory is rewritten every second (a real reload each time: routes change, and
 * every fifth reload changes an upstream so its agent and forwarder are retired), and the token servers
 * issue tokens that live 60 s (so tokens are renewed all along the run). The upstream refuses expired or
 * unknown tokens with 401, so a stale token would show as a failure.
 *
 * Pass criteria (exit code 1 otherwise): zero failed requests; every accepted request reached the upstream
 * exactly once; RSS growth after warm-up under 10%; upstream socket count flat (bounded by the pool).
 *
 * Env: SOAK_REQUESTS, SOAK_CONCURRENCY (default 32), SOAK_RELOAD_MS (default 1000), SOAK_TOKEN_SECONDS
 * (default 60), SOAK_WARMUP (fraction, default 0.1).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { AddressInfo } from 'node:net';
import { createGateway } from '../src/app/gateway.ts';
import { createLogger } from '../src/logging/logger.ts';

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 1_000_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 32);
const RELOAD_MS = Number(process.env.SOAK_RELOAD_MS ?? 1000);
const TOKEN_SECONDS = Number(process.env.SOAK_TOKEN_SECONDS ?? 60);
const WARMUP = Number(process.env.SOAK_WARMUP ?? 0.1);
const API_KEY = 'soak-consumer-key-0123456789abcdef';

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

async function main() {
  const keyHash = createHash('sha256').update(API_KEY).digest('hex');

  // Token servers: OAuth2 (NDXP-style) and JSON login (MOLISA-style), tokens living TOKEN_SECONDS.
  const validTokens = new Map<string, number>(); // token -> expiry (ms)
  let tokensIssued = 0;
  const tokenServer = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      tokensIssued++;
      const token = `t${tokensIssued}-${Math.random().toString(36).slice(2)}`;
      validTokens.set(token, Date.now() + TOKEN_SECONDS * 1000);
      res.setHeader('content-type', 'application/json');
      res.end(
        req.url === '/token'
          ? JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: TOKEN_SECONDS })
          : JSON.stringify({ error_code: 0, message: 'ok', token }),
      );
    });
  });
  const tokenUrl = await listen(tokenServer);

  // The upstream: checks the token, counts what it accepts.
  const received = { pass: 0, stream: 0, json: 0, refused: 0 };
  const upstreamSockets = new Set<object>();
  let maxUpstreamSockets = 0;
  const upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let token: string | undefined;
      if (req.url?.startsWith('/molisa')) {
        try {
          // inject.jsonField sets the key in every record of a JSON array (MOLISA bodies are arrays).
          const records = JSON.parse(body.toString()) as { AcceptKey?: string }[];
          token = records.every((r) => r.AcceptKey === records[0]?.AcceptKey) ? records[0]?.AcceptKey : undefined;
        } catch {
          token = undefined;
        }
      } else token = req.headers.authorization?.replace(/^Bearer /, '');
      const expiry = token === undefined ? undefined : validTokens.get(token);
      if (expiry === undefined || expiry < Date.now()) {
        received.refused++;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"error":"invalid_token"}');
        return;
      }
      if (req.url?.startsWith('/molisa')) received.json++;
      else if (req.method === 'POST') received.stream++;
      else received.pass++;
      res.setHeader('content-type', 'application/json');
      res.end(`{"error_code":0,"length":${body.length}}`);
    });
  });
  upstream.on('connection', (s) => {
    upstreamSockets.add(s);
    maxUpstreamSockets = Math.max(maxUpstreamSockets, upstreamSockets.size);
    s.once('close', () => upstreamSockets.delete(s));
  });
  const upstreamUrl = await listen(upstream);

  // Config directory.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lgsp-soak-'));
  const upstreamsYaml = (maxSockets: number) => `upstreams:
  ndxp:
    url: "${upstreamUrl}/ndxp"
    maxSockets: ${maxSockets}
    # The soak has one consumer: its share of the streamed connections (default a quarter) would only
    # refuse its own calls, not protect another consumer.
    consumerShare: 1
    credentials:
      - { type: oauth2-client-credentials, tokenUrl: "${tokenUrl}/token", consumerKey: soak-ck, consumerSecret: soak-cs-secret }
  molisa:
    url: "${upstreamUrl}/molisa"
    errorDialect: molisa
    credentials:
      - type: login-token
        tokenUrl: "${tokenUrl}/api/v1/Service/GetToken"
        secrets: { username: soak-user, password: soak-password }
        success: { path: error_code, in: [0, "0"] }
        lifetimeSeconds: ${TOKEN_SECONDS}
        inject: { jsonField: AcceptKey }
consumers:
  soak: { apiKeys: [{ sha256: ${keyHash} }] }
`;
  const routesYaml = (generation: number) => `# generation ${generation}
routes:
  - { id: pass, methods: [GET], path: /ndxp/pass, upstream: ndxp, consumers: [soak] }
  - { id: stream, methods: [POST], path: /ndxp/stream, upstream: ndxp, consumers: [soak] }
  - { id: json, methods: [POST], path: /molisa/api/v1/Service/DongBoDVC, upstream: molisa, consumers: [soak] }
  - { id: gen-${generation % 2}, methods: [GET], path: /ndxp/gen${generation % 2}, upstream: ndxp, consumers: [soak] }
`;
  writeFileSync(path.join(dir, 'gateway.yaml'), 'version: 1\nlogging: { level: warn }\naudit: { enabled: false }\n');
  writeFileSync(path.join(dir, 'upstreams.yaml'), upstreamsYaml(64));
  writeFileSync(path.join(dir, 'routes.yaml'), routesYaml(0));

  const errorsLogged: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString();
      if (text.includes('"level":"error"') && errorsLogged.length < 20) errorsLogged.push(text.slice(0, 500));
      cb();
    },
  });
  const gateway = await createGateway({
    configDir: dir,
    env: {},
    logger: createLogger({ stream: sink, level: 'warn' }),
    watch: false,
  });
  const { url } = await gateway.listen(0, '127.0.0.1');

  // Reloads: every RELOAD_MS a new routes file; every 5th also changes an upstream (agent retired).
  let generation = 0;
  const reloads = { success: 0, failure: 0, unchanged: 0 };
  const reloadTimer = setInterval(() => {
    generation++;
    writeFileSync(path.join(dir, 'routes.yaml'), routesYaml(generation));
    if (generation % 5 === 0) writeFileSync(path.join(dir, 'upstreams.yaml'), upstreamsYaml(generation % 10 ? 63 : 64));
    void gateway.reloader.reload('soak').then((r) => reloads[r.result]++);
  }, RELOAD_MS);

  // Load.
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const payload = JSON.stringify([
    { MaHoSo: 'H52.39-250701-0001', MaTTHC: '2.000286', HoVaTen: 'Nguyễn Văn A', CMND: '001099000001', StatusId: 1 },
  ]);
  const octets = Buffer.alloc(2048, 7);
  let sent = 0;
  let ok = 0;
  const failures = new Map<string, number>();
  const okByKind = { pass: 0, stream: 0, json: 0 };
  const fail = (what: string) => failures.set(what, (failures.get(what) ?? 0) + 1);
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const kind = (['pass', 'stream', 'json'] as const)[i % 3];
      const options =
        kind === 'pass'
          ? { path: '/ndxp/pass', method: 'GET', headers: { 'x-api-key': API_KEY } }
          : kind === 'stream'
            ? {
                path: '/ndxp/stream',
                method: 'POST',
                headers: { 'x-api-key': API_KEY, 'content-type': 'application/octet-stream' },
              }
            : {
                path: '/molisa/api/v1/Service/DongBoDVC',
                method: 'POST',
                headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
              };
      const req = http.request(url + options.path, { ...options, agent });
      req.on('error', (err) => {
        fail(`${kind}: ${err.message}`);
        resolve();
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) {
            ok++;
            okByKind[kind]++;
          } else fail(`${kind}: HTTP ${res.statusCode}`);
          resolve();
        });
        res.on('error', (err) => {
          fail(`${kind}: ${err.message}`);
          resolve();
        });
      });
      req.end(kind === 'pass' ? undefined : kind === 'stream' ? octets : payload);
    });

  const samples: {
    at: number;
    sent: number;
    rss: number;
    heap: number;
    external: number;
    sockets: number;
    agentSockets: number;
  }[] = [];
  // Measure retained memory, not garbage waiting for the next major GC: collect before each sample.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const sample = () => {
    gc();
    const m = process.memoryUsage();
    const agents = [...gateway.reloader.current.upstreams.values()].reduce(
      (n, u) =>
        n +
        Object.values(u.agent.sockets).reduce((a, l) => a + (l?.length ?? 0), 0) +
        Object.values(u.agent.freeSockets).reduce((a, l) => a + (l?.length ?? 0), 0),
      0,
    );
    samples.push({
      at: Date.now(),
      sent,
      rss: m.rss,
      heap: m.heapUsed,
      external: m.external,
      sockets: upstreamSockets.size,
      agentSockets: agents,
    });
  };
  const started = Date.now();
  const sampler = setInterval(sample, 5000);
  let lastReport = 0;
  const worker = async () => {
    while (sent < TOTAL) {
      const i = sent++;
      await one(i);
      if (ok - lastReport >= 50_000) {
        lastReport = ok;
        const m = process.memoryUsage();
        console.log(
          `${new Date().toISOString()} ok=${ok} failed=${[...failures.values()].reduce((a, b) => a + b, 0)} ` +
            `rss=${(m.rss / 1048576).toFixed(1)}MB upstreamSockets=${upstreamSockets.size} reloads=${JSON.stringify(reloads)} tokens=${tokensIssued}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (Date.now() - started) / 1000;
  sample();
  clearInterval(sampler);
  clearInterval(reloadTimer);

  const warm = samples.filter((s) => s.sent >= TOTAL * WARMUP);
  const base = warm[0] ?? samples[0];
  const tail = warm.slice(-Math.max(1, Math.ceil(warm.length / 10)));
  const endRss = tail.reduce((a, s) => a + s.rss, 0) / tail.length;
  const rssGrowth = (endRss - base.rss) / base.rss;
  const maxSocketsAfterWarmup = Math.max(...warm.map((s) => s.sockets));
  const maxAgentSocketsAfterWarmup = Math.max(...warm.map((s) => s.agentSockets));
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  const reachedUpstream = received.pass + received.stream + received.json;

  await gateway.close(1000);
  agent.destroy();
  upstream.closeAllConnections();
  tokenServer.closeAllConnections();
  upstream.close();
  tokenServer.close();
  rmSync(dir, { recursive: true, force: true });

  const summary = {
    date: new Date().toISOString(),
    node: process.version,
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.platform()} ${os.release()}`,
    requests: TOTAL,
    concurrency: CONCURRENCY,
    seconds: Math.round(elapsed),
    requestsPerSecond: Math.round(TOTAL / elapsed),
    ok,
    okByKind,
    failed,
    failures: Object.fromEntries(failures),
    upstreamReceived: received,
    lost: ok - reachedUpstream,
    reloads,
    tokensIssued,
    rssMB: { afterWarmup: +(base.rss / 1048576).toFixed(1), end: +(endRss / 1048576).toFixed(1) },
    rssGrowthPercent: +(rssGrowth * 100).toFixed(2),
    heapMB: { afterWarmup: +(base.heap / 1048576).toFixed(1), end: +(warm.at(-1)!.heap / 1048576).toFixed(1) },
    upstreamSockets: { maxOverall: maxUpstreamSockets, maxAfterWarmup: maxSocketsAfterWarmup },
    agentSocketsMaxAfterWarmup: maxAgentSocketsAfterWarmup,
    errorLogs: errorsLogged,
    // After a full GC, every 5 s: [requests sent, RSS MB, heap MB, external MB, upstream sockets].
    samples: samples.map((x) => [
      x.sent,
      +(x.rss / 1048576).toFixed(0),
      +(x.heap / 1048576).toFixed(1),
      +(x.external / 1048576).toFixed(1),
      x.sockets,
    ]),
  };
  console.log(JSON.stringify(summary, null, 2));
  const pass =
    failed === 0 &&
    ok === TOTAL &&
    reachedUpstream === ok &&
    received.refused === 0 &&
    rssGrowth < 0.1 &&
    maxSocketsAfterWarmup <= CONCURRENCY * 2 + 2;
  if (!pass) {
    const why = [
      failed !== 0 && `${failed} failed requests`,
      ok !== TOTAL && `${ok} of ${TOTAL} answered`,
      reachedUpstream !== ok && `${ok - reachedUpstream} accepted but not received upstream`,
      received.refused !== 0 && `${received.refused} refused upstream`,
      rssGrowth >= 0.1 && `RSS grew ${(rssGrowth * 100).toFixed(1)}% (limit 10%)`,
      maxSocketsAfterWarmup > CONCURRENCY * 2 + 2 &&
        `${maxSocketsAfterWarmup} upstream sockets after warm-up (limit ${CONCURRENCY * 2 + 2})`,
    ].filter(Boolean);
    console.log(`failed criteria: ${why.join('; ')}`);
  }
  console.log(pass ? 'SOAK PASSED' : 'SOAK FAILED');
  process.exitCode = pass ? 0 : 1;
}

await main();
