import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect } from 'chai';
import { CONSUMER_KEY, CONSUMER_KEY_SHA256 } from '../../helpers/keys.ts';
import { startGateway, type TestGateway } from '../../helpers/gateway.ts';
import { request, startServer, type TestServer } from '../../helpers/http.ts';
import { suspendNockDuring } from '../../helpers/reliability.ts';

/**
 * Issue 14.1: record shapes as a weapon. The rename op cached a copy of every key list it met (64 per op,
 * no bound on a list's size) before validation ran, so rejected bodies of one 600,000-key record each pinned
 * ~60 MB until the heap ran out. Now a record over `limits.objectKeys` is refused by the byte guard before
 * it is parsed, and the shape caches are bounded in key-name bytes as well as in entries.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after full collections (several, so weak and finalised objects are gone too). */
function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('reliability: hostile record shapes (issue 14.1)', function () {
  this.timeout(60_000);
  suspendNockDuring(this);
  let up: TestServer;
  let gw: TestGateway;
  const headers = { 'x-api-key': CONSUMER_KEY, 'content-type': 'application/json' };

  before(async () => {
    up = await startServer();
    gw = await startGateway({
      'gateway.yaml':
        'version: 1\nlimits: { objectKeys: 1000 }\npaths: { schemas: schemas }\nlogging: { level: warn }\n',
      'schemas/dongbo.json': JSON.stringify({
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          properties: { MaHoSo: { type: 'string' }, HoVaTen: { type: 'string' }, HKTT_MaTinh: { type: 'string' } },
        },
      }),
      'upstreams.yaml': `upstreams:\n  molisa: { url: "${up.url}" }\nconsumers:\n  tinh: { apiKeys: [{ sha256: ${CONSUMER_KEY_SHA256} }] }\n`,
      // The shipped DongBoDVC mapping's shape: rename (prefix rule, tolerant), drop, then the schema.
      'routes.yaml': `routes:
  - id: dongbo
    methods: [POST]
    path: /DongBoDVC
    upstream: molisa
    consumers: [tinh]
    request:
      mapping:
        - { op: rename, at: "[]", tolerant: true, fields: { "HKTTC_*": "HKTT_*", PhongBanXuLy: DonViXuLy } }
        - { op: drop, at: "[]", fields: [Ghi_Chu] }
      schema: dongbo.json
`,
    });
  });
  after(async () => {
    await gw?.close();
    await up?.close();
  });

  const post = (body: string) => request(`${gw.url}/DongBoDVC`, { method: 'POST', headers, body });
  /** One record with `n` distinct keys of `width` characters, all different from any earlier call's. */
  let serial = 0;
  const record = (n: number, width: number) => {
    const tag = (serial++).toString(36);
    const keys = Array.from({ length: n }, (_, i) => `${tag}_${i.toString(36)}_`.padEnd(width, 'k'));
    return `[{${keys.map((k) => `"${k}":"v"`).join(',')}}]`;
  };

  it('a record over limits.objectKeys is refused before parsing (400 naming the limit); nothing forwarded', async () => {
    const seen = up.requests.length;
    const huge = record(600_000, 9); // ~9 MB, the issue's reproduction
    expect(Buffer.byteLength(huge)).to.be.above(9_000_000);
    for (let i = 0; i < 10; i++) {
      const res = await post(i === 0 ? huge : record(600_000, 9));
      expect(res.status).to.equal(400);
      expect(res.json()).to.include({ code: 'GW_BAD_REQUEST' });
      expect(res.json<{ detail: string }>().detail).to.contain('limits.objectKeys');
    }
    expect(up.requests.length).to.equal(seen);
    const atLimit = await post(`[{${Array.from({ length: 1000 }, (_, i) => `"k${i}":1`).join(',')}}]`);
    expect(atLimit.status, 'a record at the limit reaches the schema').to.equal(400);
    expect(atLimit.json()).to.include({ code: 'GW_VALIDATION_FAILED' });
  });

  it('rejected bodies of ever new wide shapes leave the heap flat (caches bounded in bytes)', async () => {
    // Each body: one record of 999 keys of 400 characters (~400 KB), refused by the schema. Before the
    // fix every such shape's key list stayed in the rename cache: 64 x 999 x 400 B = ~25 MB held for good.
    const warmUp = 20;
    const rounds = 100;
    for (let i = 0; i < warmUp; i++) expect((await post(record(999, 400))).status).to.equal(400);
    const before = heapAfterGc();
    for (let i = 0; i < rounds; i++) {
      const res = await post(record(999, 400));
      expect(res.status).to.equal(400);
      expect(res.json()).to.include({ code: 'GW_VALIDATION_FAILED' });
    }
    const grown = heapAfterGc() - before;
    expect(grown, `heap grew ${(grown / 1e6).toFixed(1)} MB over ${rounds} hostile bodies`).to.be.below(8_000_000);
    // The route still works, and its shapes still get cached (a legitimate record is renamed as before).
    const ok = await post('[{"MaHoSo":"H1","HoVaTen":"A","HKTTC_MaTinh":"01","Ghi_Chu":"x"}]');
    expect(ok.status).to.equal(200);
    expect(JSON.parse(up.requests.at(-1)!.body.toString())).to.deep.equal([
      { MaHoSo: 'H1', HoVaTen: 'A', HKTT_MaTinh: '01' },
    ]);
  });
});
