import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { expect } from 'chai';
import { createGateway, type Gateway } from '../../../src/app/gateway.ts';
import { runCli } from '../../../src/cli/main.ts';
import { ConfigError } from '../../../src/config/config-error.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { DEMO_IDS } from '../../../src/sandbox/population-data.ts';
import { request } from '../../helpers/http.ts';
import { SHIPPED_CONFIG_DIR, shippedConfigEnv } from '../../helpers/shipped-config.ts';
import { startShippedStack, type ShippedStack, type StartedSandbox } from '../../helpers/shipped-stack.ts';

/**
 * Issue 16.1: code lists read per sender. The shipped config copied, with two more provincial systems on
 * MOLISA's DongBoDVC route: one that writes MOLISA's own ids (its sender profile says so) and one that writes
 * names; the shipped one-stop system (mcdt) writes GSO codes. The sandbox's MOLISA checks each record of a
 * citizen it knows against that citizen's population record, so a changed ethnicity is refused there.
 */
const KEYS = {
  mcdt: 'lgsp-demo-mcdt-key-2026',
  ids: 'test-btxh-molisa-ids-key-2026',
  names: 'test-btxh-names-key-2026',
} as const;

const EXTRA_CONSUMERS = `
  btxh-ids:
    name: Phần mềm BTXH của tỉnh (ghi mã Id của Bộ)
    apiKeys:
      - { env: TEST_BTXH_IDS_KEY, sandboxDefault: ${KEYS.ids} }
    codeForms:
      ethnicity: id
      gender: id
      id-card-issuers: id
  btxh-names:
    name: Phần mềm BTXH của tỉnh (ghi tên)
    apiKeys:
      - { env: TEST_BTXH_NAMES_KEY, sandboxDefault: ${KEYS.names} }
    codeForms:
      ethnicity: [name, aliases]
      gender: [name, aliases]
      id-card-issuers: [name, aliases]
`;

/** A copy of the shipped config with `consumers` appended and `routeConsumers` on the DongBoDVC route. */
function configDir(consumers: string, routeConsumers: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lgsp-codes-'));
  cpSync(SHIPPED_CONFIG_DIR, dir, { recursive: true });
  const consumersFile = path.join(dir, 'consumers.yaml');
  writeFileSync(consumersFile, readFileSync(consumersFile, 'utf8').trimEnd() + '\n' + consumers);
  const routesFile = path.join(dir, 'routes', 'molisa.yaml');
  const routes = readFileSync(routesFile, 'utf8');
  const dongBo = /(path: \/molisa\/api\/v1\/Service\/DongBoDVC\n\s+upstream: molisa\n\s+consumers: )\[mcdt\]/;
  expect(routes).to.match(dongBo);
  writeFileSync(routesFile, routes.replace(dongBo, `$1${routeConsumers}`));
  return dir;
}

/** A DongBoDVC record in the tables' names and layouts; the codes are what each test is about. */
// Each push its own dossier: the MOLISA routes queue per MaHoSo, and the same push twice is a duplicate (issue 17).
let dossierSeq = 0;
const dossier = (over: Record<string, unknown>) => ({
  MaHoSo: `000.00.18.G12-191106-${String(++dossierSeq).padStart(4, '0')}`,
  MaTTHC: '1.001753',
  TenTTHC: 'Quyết định trợ cấp xã hội hàng tháng',
  HoVaTen: 'Nguyễn Văn Minh',
  NgayThangNamSinh: '14/03/1975',
  CMND: DEMO_IDS.nguyenVanMinh, // Kinh, male, in the sandbox's population
  MaTinh: '01',
  MaHuyen: '',
  MaXa: '00019',
  StatusId: 1,
  SubmittedDate: '12/12/2021 12:22:34',
  ...over,
});

type Answer = { error_code: number; message: string; code?: string; errors?: { pointer: string; message: string }[] };

describe('code lists per consumer, end to end (issue 16.1)', () => {
  let stack: ShippedStack | undefined;
  let sandbox: StartedSandbox;
  let gateway: Gateway;
  let gw: string;
  let dir: string;

  before(async () => {
    dir = configDir(EXTRA_CONSUMERS, '[mcdt, btxh-ids, btxh-names]');
    stack = await startShippedStack({ auditPrefix: 'lgsp-codes-audit-', gateway: { configDir: dir } });
    ({ sandbox, gateway, url: gw } = stack);
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = async (who: keyof typeof KEYS, records: unknown[]) => {
    const res = await request(`${gw}/molisa/api/v1/Service/DongBoDVC`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS[who], 'content-type': 'application/json' },
      body: JSON.stringify(records),
    });
    return { status: res.status, body: res.json<Answer>() };
  };
  const received = () => sandbox.sandbox.received('molisa') as { body: unknown; response: { body: Answer } }[];
  const lastRecords = () => received().at(-1)!.body as Record<string, unknown>[];

  it("a MOLISA-id sender's \"29\" arrives as Kinh's id 29, and MOLISA accepts it against the citizen's record", async () => {
    const res = await send('ids', [dossier({ DanTocId: '29', GioiTinhId: '1034', CMND_NoiCap: '1195' })]);
    expect(res.body).to.include({ error_code: 0 });
    expect(lastRecords()[0]).to.include({ DanTocId: '29', GioiTinhId: '1034', CMND_NoiCap: '1195' });
  });

  it('the same "29" from the GSO sender is Khơ-mú (57): MOLISA refuses it for a Kinh citizen, so a changed ethnicity shows', async () => {
    const res = await send('mcdt', [dossier({ DanTocId: '29' })]);
    expect(lastRecords()[0]).to.include({ DanTocId: '57' });
    expect(res.body.error_code).to.not.equal(0);
    expect(res.body.message).to.include('DanTocId').and.include('Kinh');
    // and the GSO sender's Kinh ("01") is accepted as 29
    expect((await send('mcdt', [dossier({ DanTocId: '01', GioiTinhId: '1' })])).body).to.include({ error_code: 0 });
    expect(lastRecords()[0]).to.include({ DanTocId: '29', GioiTinhId: '1034' });
  });

  it("a value outside a sender's declared form is refused 400 in MOLISA's dialect naming the field and the catalogue; nothing reaches MOLISA", async () => {
    const before = received().length;
    for (const [who, field, value, catalogue] of [
      ['ids', 'DanTocId', '01', 'ethnicity'], // a GSO code is not a MOLISA id
      ['ids', 'DanTocId', 'Kinh', 'ethnicity'], // nor is a name
      ['ids', 'DanTocId', '83', 'ethnicity'],
      ['ids', 'GioiTinhId', '1', 'gender'], // the population database's digit, not a MOLISA id
      ['names', 'DanTocId', '29', 'ethnicity'], // a names sender's number is not guessed
      ['names', 'DanTocId', 'Lu', 'ethnicity'], // diacritics are never stripped
      ['mcdt', 'DanTocId', '55', 'ethnicity'], // no GSO code 55 (it is only a MOLISA id)
      ['mcdt', 'GioiTinhId', '0', 'gender'],
      ['mcdt', 'MaTTHC', '1.234567', 'molisa-procedures'],
    ] as const) {
      const res = await send(who, [dossier({ [field]: value })]);
      const what = `${who} ${field}=${value}`;
      expect(res.status, what).to.equal(400);
      expect(res.body, what).to.include({ error_code: 400, code: 'GW_VALIDATION_FAILED' });
      expect(res.body.errors![0].pointer, what).to.equal(`/0/${field}`);
      expect(res.body.errors![0].message, what).to.include(`"${catalogue}"`);
    }
    expect(received().length).to.equal(before);
  });

  it('names and the standard spellings: unhyphenated, Lự/Pà Thẻn/Cống/Bố Y/Ơ Đu, Đắk Lắk, NFD input', async () => {
    const records = [
      ['Xơ Đăng', '42'],
      ['Lự', '70'],
      ['Pà Thẻn', '74'],
      ['Cống', '76'],
      ['Bố Y', '77'],
      ['Ơ Đu', '81'],
      ['bru vân kiều', '51'],
      ['Khơ-mú'.normalize('NFD'), '57'],
    ].map(([name], i) =>
      dossier({
        MaHoSo: `000.00.18.G12-1911-${i}`,
        CMND: `12223456789${i}`,
        DanTocId: name,
        GioiTinhId: 'Nữ',
        CMND_NoiCap: 'Đắk Lắk',
      }),
    );
    const res = await send('names', records);
    expect(res.body).to.include({ error_code: 0 });
    expect(lastRecords().map((r) => r.DanTocId)).to.deep.equal(['42', '70', '74', '76', '77', '81', '51', '57']);
    expect(lastRecords().map((r) => [r.GioiTinhId, r.CMND_NoiCap])[0]).to.deep.equal(['1035', '1234']);
    // the GSO sender reads names too (its form is [gso, name, aliases]), and issuers with a dash
    expect(
      (await send('mcdt', [dossier({ CMND: '122234567899', DanTocId: 'Xơ-Đăng', CMND_NoiCap: 'Bà Rịa - Vũng Tàu' })]))
        .body,
    ).to.include({
      error_code: 0,
    });
    expect(lastRecords()[0]).to.include({ DanTocId: '42', CMND_NoiCap: '1238' });
  });

  it('a decomposed name written as JSON escapes (no combining byte in the body) leaves composed (NFC)', async () => {
    // The mapping's NFC trim skips its scan when the body's bytes hold no combining mark (adapt.ts,
    // text.ts mayHoldCombiningMarks): an escaped one must still count. "Nguyễn" decomposed: e + U+0302 + U+0303.
    const body = JSON.stringify([dossier({ CMND: '122234567890' })]).replace(
      '"Nguyễn Văn Minh"',
      '"Nguye\\u0302\\u0303n Va\\u0306n Minh"',
    );
    expect(body)
      .to.include('\\u0303')
      .and.not.match(/[\u0300-\u036f]/);
    const res = await request(`${gw}/molisa/api/v1/Service/DongBoDVC`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.names, 'content-type': 'application/json' },
      body,
    });
    expect(res.json<Answer>()).to.include({ error_code: 0 });
    expect(lastRecords()[0].HoVaTen).to.equal('Nguyễn Văn Minh'.normalize('NFC'));
  });

  it("MaTTHC: the seed's misprint 2.0000286 reaches MOLISA as the national code 2.000286; MOLISA itself refuses the misprint", async () => {
    const res = await send('mcdt', [dossier({ MaTTHC: '2.0000286' })]);
    expect(res.body).to.include({ error_code: 0 });
    expect(lastRecords()[0]).to.include({ MaTTHC: '2.000286' });
    // straight to the sandbox, bypassing the gateway: the simulated MOLISA knows only the eleven codes
    const token = await request(`${sandbox.url}/molisa/api/v1/Service/GetToken`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sandbox.sandbox.credentials.molisa),
    });
    const direct = await request(`${sandbox.url}/molisa/api/v1/Service/DongBoDVC`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accesskey: token.json<{ token: string }>().token },
      body: JSON.stringify([dossier({ MaTTHC: '2.0000286', DanTocId: '29', GioiTinhId: '1034' })]),
    });
    expect(direct.json<Answer>().error_code).to.not.equal(0);
    expect(direct.json<Answer>().message).to.include('MaTTHC');
  });

  it('a reload applies a changed sender profile', async () => {
    const consumersFile = path.join(dir, 'consumers.yaml');
    const original = readFileSync(consumersFile, 'utf8');
    writeFileSync(
      consumersFile,
      original.replace(
        '      ethnicity: id\n      gender: id\n',
        '      ethnicity: [gso, name, aliases]\n      gender: id\n',
      ),
    );
    try {
      expect((await gateway.reloader.reload('test')).result).to.equal('success');
      await send('ids', [dossier({ CMND: '122234567898', DanTocId: '29', GioiTinhId: '1034' })]);
      expect(lastRecords()[0]).to.include({ DanTocId: '57' });
    } finally {
      writeFileSync(consumersFile, original);
      expect((await gateway.reloader.reload('test')).result).to.equal('success');
    }
    await send('ids', [dossier({ DanTocId: '29', GioiTinhId: '1034' })]);
    expect(lastRecords()[0]).to.include({ DanTocId: '29' });
  });
});

describe('a consumer without a sender profile on a route whose code spaces overlap (issue 16.1)', () => {
  const undeclared = `
  btxh-undeclared:
    name: Phần mềm BTXH chưa khai báo dạng mã
    apiKeys:
      - { env: TEST_BTXH_UNDECLARED_KEY, sandboxDefault: test-btxh-undeclared-key-2026 }
`;
  let dir: string;
  before(() => {
    dir = configDir(undeclared, '[mcdt, btxh-undeclared]');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is a config error naming the consumer and the catalogue: its "29" is never read as a GSO code', async () => {
    const err = await createGateway({
      configDir: dir,
      env: shippedConfigEnv('http://127.0.0.1:9', dir),
      watch: false,
      logger: createLogger({ stream: new PassThrough() }),
    }).then(
      () => expect.fail('the gateway started'),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConfigError);
    const issue = (err as ConfigError).issues.find((i) => i.code === 'CFG_CODE_FORM');
    expect(issue, String(err)).to.not.equal(undefined);
    expect(issue!.path).to.equal('consumers.btxh-undeclared.codeForms');
    expect(issue!.message).to.include('"ethnicity"').and.include('gso 29').and.include('Kinh');
  });

  it('`validate` exits 1 saying so; with a profile, `validate` and `routes` list which consumer is read how', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: new Writable({ write: (c, _e, cb) => (out.push(String(c)), cb()) }),
      stderr: new Writable({ write: (c, _e, cb) => (err.push(String(c)), cb()) }),
    } as never;
    expect(await runCli(['validate', dir], io)).to.equal(1);
    expect(err.join('')).to.include('consumers.btxh-undeclared.codeForms').and.include('CFG_CODE_FORM');

    const consumersFile = path.join(dir, 'consumers.yaml');
    writeFileSync(consumersFile, readFileSync(consumersFile, 'utf8') + '    codeForms: { ethnicity: id }\n');
    out.length = 0;
    expect(await runCli(['validate', dir], io)).to.equal(0);
    const validated = out.join('');
    expect(validated).to.include('molisa-dong-bo-dvc DanTocId [ethnicity -> id]');
    expect(validated).to.include('mcdt: gso+name+aliases (declared)').and.include('btxh-undeclared: id (declared)');
    expect(validated).to.match(/GioiTinhId \[gender -> id\] mcdt: id\+code\+name\+aliases \(route default\)/);
    out.length = 0;
    expect(await runCli(['routes', dir], io)).to.equal(0);
    expect(out.join('')).to.include('btxh-undeclared: id (declared)');
  });
});
