import express from 'express';
import type { Request, Response, Router } from 'express';
import { answer, type SandboxContext } from './context.ts';
import { bodyParsers, requireBearer } from './platform.ts';
import { MARITAL_STATUS, type Citizen, type PopulationIndex } from './population-data.ts';
import {
  SOAP_REQUEST_FIELDS,
  readSoapCall,
  soapAnswer,
  soapContentType,
  soapFault,
  wsdlOf,
  type SoapVersion,
} from './soap.ts';

/**
 * Simulated C06 population data services (seed 000 §1: eleven services; seed 002: which platform carries
 * which), reached through the simulated platforms at `/<platform>/dancu/1.0/<operation>` with a Bearer
 * token from that platform's `/<platform>/token` (seed 000 §2: Bearer, every transaction authenticated).
 *
 * Request: JSON `{ maYeuCau?, maDVC?, maCanBo?, soDinhDanh, ... }` (the JSON variant some provinces call,
 * domain.md §4). Answer: `{ maYeuCau, responseCode, responseMessage, data }`, HTTP 200 for every business
 * outcome (responseCode "200" found, "404" not found or not applicable), HTTP 400 responseCode "400" for a
 * malformed request, HTTP 401 for a missing, unknown, expired or other-platform token.
 */

type Platform = 'ndxp' | 'vdxp';
type Body = Record<string, unknown>;

interface Outcome {
  responseCode: '200' | '400' | '404';
  responseMessage: string;
  data: unknown;
}

interface PopulationService {
  /** Service number in seed 000 §1. */
  readonly number: number;
  readonly operation: string;
  readonly title: string;
  /**
   * Seed 002 §1 puts (1) confirm ID/old card, (2) household, (3) citizen look-up on VDXP and (4) verify
   * citizen information on NDXP. Each service lives on one platform only, so a call the gateway sends
   * through the other one is refused (404, as a platform that does not carry the service answers).
   */
  readonly platform: Platform;
  /**
   * `seed`: seed 002 names the service (or seed 000's service is plainly one of 002's four); `assumed`: seed
   * 000's service read as 002's "(3) tra cứu thông tin công dân", since it provides information by ID
   * number; the seeds do not say so (docs/domain-decisions.md, "Population services").
   */
  readonly placement: 'seed' | 'assumed';
  /**
   * The service also speaks SOAP (soap.ts): the fields of its answer's `data`, PascalCase, with their XML
   * Schema type. `GET …/<operation>?wsdl` describes it; a POST in text/xml or application/soap+xml calls it.
   */
  readonly soap?: readonly (readonly [string, 'string' | 'boolean'])[];
  handle(body: Body, people: PopulationIndex): Outcome;
}

const ok = (data: unknown): Outcome => ({ responseCode: '200', responseMessage: 'Thành công', data });
const notFound = (message = 'Không tìm thấy thông tin công dân'): Outcome => ({
  responseCode: '404',
  responseMessage: message,
  data: null,
});
const badRequest = (message: string): Outcome => ({ responseCode: '400', responseMessage: message, data: null });

/** The ID-number rule every population service keeps (domain.md §2.2): exactly 12 digits. */
function idOf(body: Body, field = 'soDinhDanh'): string | Outcome {
  const v = body[field];
  if (typeof v !== 'string' || !/^\d{12}$/.test(v)) return badRequest(`${field} phải gồm đúng 12 chữ số`);
  return v;
}

/**
 * Seed 002 §2.2 (4): every C06 account belongs to one officer who signed a security commitment; a call
 * made with a platform's account must name the officer who asked (`maCanBo`), else it is refused.
 */
function withOfficer(service: PopulationService, body: Body, people: PopulationIndex): Outcome {
  if (typeof body.maCanBo !== 'string' || body.maCanBo.trim() === '') {
    return badRequest('Thiếu maCanBo: mỗi yêu cầu phải nêu cán bộ thực hiện tra cứu');
  }
  return service.handle(body, people);
}

/** Looks up the citizen named by `soDinhDanh`, or the outcome to answer instead. */
function citizenOf(body: Body, people: PopulationIndex): Citizen | Outcome {
  const id = idOf(body);
  if (typeof id !== 'string') return id;
  return people.byId(id) ?? notFound();
}

const isOutcome = (v: unknown): v is Outcome => typeof v === 'object' && v !== null && 'responseCode' in v;

/** The short identity block used for relatives, heads of household and guardians. */
function brief(c: Citizen | undefined): Record<string, unknown> | null {
  if (!c) return null;
  return { soDinhDanh: c.soDinhDanh, hoVaTen: c.hoVaTen, gioiTinh: c.gioiTinh, ngayThangNamSinh: c.ngayThangNamSinh };
}

/** What service 2 (provide citizen information) returns: the record without sandbox-internal fields. */
function publicView(c: Citizen): Record<string, unknown> {
  const { mucDinhDanh: _level, soDinhDanhNguoiGiamHo: _guardian, tinhTrangHonNhan, ...rest } = c;
  return { ...rest, tinhTrangHonNhan: { ma: tinhTrangHonNhan, ten: MARITAL_STATUS[tinhTrangHonNhan] } };
}

function lifeStatus(c: Citizen): Record<string, unknown> {
  switch (c.tinhTrang) {
    case 'DA_CHET':
      return { soDinhDanh: c.soDinhDanh, trangThai: 'DA_CHET', moTa: 'Đã chết', ngayChet: c.ngayChet };
    case 'MAT_TICH':
      return { soDinhDanh: c.soDinhDanh, trangThai: 'MAT_TICH', moTa: 'Mất tích', ngayMatTich: c.ngayMatTich };
    default:
      return { soDinhDanh: c.soDinhDanh, trangThai: 'CON_SONG', moTa: 'Còn sống' };
  }
}

/** Finds a citizen by `soDinhDanh` (12 digits) or `soCMND` (old card, 9 or 12 digits). */
function byIdOrCard(body: Body, people: PopulationIndex): { citizen?: Citizen } | Outcome {
  if (body.soDinhDanh !== undefined) {
    const id = idOf(body);
    return typeof id === 'string' ? { citizen: people.byId(id) } : id;
  }
  const card = body.soCMND;
  if (typeof card !== 'string' || !/^(\d{9}|\d{12})$/.test(card)) {
    return badRequest('Cần soDinhDanh (12 chữ số) hoặc soCMND (9 hoặc 12 chữ số)');
  }
  return { citizen: people.byCard(card) };
}

/**
 * A service about the one citizen its request names by `soDinhDanh`: a malformed ID is answered 400 and an
 * unknown one 404 before `answerFor` sees the citizen.
 */
function aboutCitizen(
  service: Omit<PopulationService, 'handle'>,
  answerFor: (c: Citizen, people: PopulationIndex) => Outcome,
): PopulationService {
  return {
    ...service,
    handle(body, people) {
      const c = citizenOf(body, people);
      return isOutcome(c) ? c : answerFor(c, people);
    },
  };
}

/** The services, one row each. */
export const POPULATION_SERVICES: readonly PopulationService[] = [
  aboutCitizen(
    {
      number: 1,
      operation: 'xacMinhNhanThan',
      title: 'Xác minh nhân thân (cha, mẹ)',
      platform: 'vdxp',
      placement: 'assumed',
    },
    (c, people) => {
      const parent = (id: string | undefined, name: string | undefined) =>
        id ? brief(people.byId(id)) : name ? { soDinhDanh: null, hoVaTen: name } : null;
      return ok({
        soDinhDanh: c.soDinhDanh,
        cha: parent(c.soDinhDanhCha, c.hoVaTenCha),
        me: parent(c.soDinhDanhMe, c.hoVaTenMe),
      });
    },
  ),
  aboutCitizen(
    {
      number: 2,
      operation: 'cungCapThongTinCongDan',
      title: 'Cung cấp thông tin công dân',
      platform: 'vdxp',
      placement: 'seed',
    },
    (c) => ok(publicView(c)),
  ),
  {
    number: 3,
    operation: 'xacThucThongTinCongDan',
    title: 'Xác thực thông tin công dân (seed 002: dịch vụ (4), qua NDXP)',
    platform: 'ndxp',
    placement: 'seed',
    soap: [
      ['TonTai', 'boolean'],
      ['KhopThongTin', 'boolean'],
    ],
    handle(body, people) {
      const found = byIdOrCard(body, people);
      if (isOutcome(found)) return found;
      const c = found.citizen;
      // Optional fields to compare, as the SOAP XacThucThongTinCongDan answers TonTai (domain.md §4).
      const nameGiven = typeof body.hoVaTen === 'string';
      const birthGiven = typeof body.ngayThangNamSinh === 'string';
      const matches =
        c !== undefined &&
        (!nameGiven || c.hoVaTen.normalize('NFC') === String(body.hoVaTen).normalize('NFC').trim()) &&
        (!birthGiven || c.ngayThangNamSinh === body.ngayThangNamSinh);
      return ok({ tonTai: c !== undefined, ...(nameGiven || birthGiven ? { khopThongTin: matches } : {}) });
    },
  },
  {
    number: 3,
    operation: 'xacNhanSoDinhDanhCMND',
    title: 'Xác nhận số định danh cá nhân và CMND (seed 002: dịch vụ (1), qua VDXP)',
    platform: 'vdxp',
    placement: 'seed',
    handle(body, people) {
      const found = byIdOrCard(body, people);
      if (isOutcome(found)) return found;
      const c = found.citizen;
      if (!c) return ok({ tonTai: false });
      return ok({ tonTai: true, soDinhDanh: c.soDinhDanh, soCMND: c.soCMND ?? null, hoVaTen: c.hoVaTen });
    },
  },
  {
    number: 4,
    operation: 'traCuuThongTinCongDan',
    title: 'Tra cứu thông tin công dân theo họ tên, năm sinh, họ tên cha, họ tên mẹ',
    platform: 'vdxp',
    placement: 'seed',
    handle(body, people) {
      const { hoVaTen, namSinh, hoVaTenCha, hoVaTenMe } = body;
      if (typeof hoVaTen !== 'string' || hoVaTen.trim() === '') return badRequest('Thiếu hoVaTen');
      if (typeof namSinh !== 'string' || !/^\d{4}$/.test(namSinh)) return badRequest('namSinh phải gồm 4 chữ số');
      for (const [k, v] of Object.entries({ hoVaTenCha, hoVaTenMe })) {
        if (v !== undefined && typeof v !== 'string') return badRequest(`${k} phải là chuỗi`);
      }
      const found = people.search({
        hoVaTen,
        namSinh,
        hoVaTenCha: hoVaTenCha as string | undefined,
        hoVaTenMe: hoVaTenMe as string | undefined,
      });
      if (found.length === 0) return notFound();
      return ok(found.map(publicView));
    },
  },
  aboutCitizen(
    {
      number: 5,
      operation: 'thongTinNguoiGiamHo',
      title: 'Cung cấp thông tin người giám hộ',
      platform: 'vdxp',
      placement: 'assumed',
    },
    (c, people) => {
      const guardian = c.soDinhDanhNguoiGiamHo ? people.byId(c.soDinhDanhNguoiGiamHo) : undefined;
      return ok({ soDinhDanh: c.soDinhDanh, coNguoiGiamHo: guardian !== undefined, nguoiGiamHo: brief(guardian) });
    },
  ),
  aboutCitizen(
    {
      number: 6,
      operation: 'thongTinChuHo',
      title: 'Cung cấp thông tin chủ hộ',
      platform: 'vdxp',
      placement: 'seed',
    },
    (c, people) => {
      const household = people.household(c.maHoGiaDinh);
      if (!household) return notFound('Công dân không thuộc hộ gia đình nào (đã xóa đăng ký thường trú)');
      return ok({
        soDinhDanh: c.soDinhDanh,
        maHoGiaDinh: household.maHoGiaDinh,
        quanHeVoiChuHo: c.quanHeVoiChuHo,
        chuHo: brief(people.byId(household.soDinhDanhChuHo)),
      });
    },
  ),
  aboutCitizen(
    {
      number: 7,
      operation: 'thongTinNoiOHienTai',
      title: 'Cung cấp thông tin nơi ở hiện tại',
      platform: 'vdxp',
      placement: 'assumed',
    },
    (c) => {
      if (c.tinhTrang === 'DA_CHET') return notFound('Công dân đã chết');
      return ok({ soDinhDanh: c.soDinhDanh, noiOHienTai: c.noiOHienTai, noiThuongTru: c.noiThuongTru });
    },
  ),
  aboutCitizen(
    {
      number: 8,
      operation: 'thongTinHoGiaDinh',
      title: 'Cung cấp thông tin hộ gia đình (theo số định danh của chủ hộ)',
      platform: 'vdxp',
      placement: 'seed',
    },
    (c, people) => {
      const household = people.household(c.maHoGiaDinh);
      if (!household || household.soDinhDanhChuHo !== c.soDinhDanh) {
        return notFound('Số định danh không phải của chủ hộ');
      }
      return ok({
        maHoGiaDinh: household.maHoGiaDinh,
        diaChi: household.diaChi,
        chuHo: brief(c),
        thanhVien: people.members(household.maHoGiaDinh).map((m) => ({
          ...brief(m),
          quanHeVoiChuHo: m.quanHeVoiChuHo,
          trangThai: m.tinhTrang,
        })),
      });
    },
  ),
  aboutCitizen(
    {
      number: 9,
      operation: 'thongTinNhomMau',
      title: 'Cung cấp thông tin nhóm máu',
      platform: 'vdxp',
      placement: 'assumed',
    },
    (c) => ok({ soDinhDanh: c.soDinhDanh, nhomMau: c.nhomMau }),
  ),
  aboutCitizen(
    {
      number: 10,
      operation: 'xacMinhTinhTrangHonNhan',
      title: 'Xác minh tình trạng hôn nhân',
      platform: 'vdxp',
      placement: 'assumed',
    },
    (c, people) => {
      return ok({
        soDinhDanh: c.soDinhDanh,
        tinhTrangHonNhan: { ma: c.tinhTrangHonNhan, ten: MARITAL_STATUS[c.tinhTrangHonNhan] },
        voChong: c.soDinhDanhVoChong ? brief(people.byId(c.soDinhDanhVoChong)) : null,
      });
    },
  ),
  aboutCitizen(
    {
      number: 11,
      operation: 'xacMinhTinhTrangChetMatTich',
      title: 'Xác minh tình trạng chết/mất tích',
      platform: 'vdxp',
      placement: 'assumed',
      soap: [
        ['SoDinhDanh', 'string'],
        ['TrangThai', 'string'],
        ['MoTa', 'string'],
        ['NgayChet', 'string'],
        ['NgayMatTich', 'string'],
      ],
    },
    (c) => ok(lifeStatus(c)),
  ),
];

/** The population services one platform carries, mounted under `/<platform>/dancu/1.0/`. */
export function populationRouter(ctx: SandboxContext, platform: Platform, people: PopulationIndex): Router {
  const router = express.Router();
  const system = platform;
  router.use(bodyParsers());
  router.use(express.text({ type: ['text/xml', 'application/xml', 'application/*+xml'], limit: '1mb' }));
  for (const service of POPULATION_SERVICES.filter((s) => s.platform === platform)) {
    const path = `/dancu/1.0/${service.operation}`;
    if (service.soap) {
      const soap = service.soap;
      router.get(path, (req: Request, res: Response, next) => {
        if (!('wsdl' in req.query)) return next();
        const location = `${req.protocol}://${req.get('host')}${req.baseUrl}${path}`;
        res.type('text/xml; charset=utf-8').send(wsdlOf(soapOperation(service), soap, location));
      });
    }
    router.post(path, requireBearer(ctx, system, [platform]), (req: Request, res: Response) => {
      const body = req.body;
      const client = (res.locals.client as string | undefined) ?? null;
      if (typeof body === 'string') return void answerSoap(ctx, system, service, people, req, res, client);
      const outcome: Outcome =
        typeof body === 'object' && body !== null && !Array.isArray(body)
          ? withOfficer(service, body as Body, people)
          : badRequest('Thân yêu cầu phải là một đối tượng JSON');
      const maYeuCau = typeof body?.maYeuCau === 'string' ? body.maYeuCau : null;
      const status = outcome.responseCode === '400' ? 400 : 200;
      answer(ctx, system, service.operation, req, res, status, { maYeuCau, ...outcome }, client);
    });
  }
  return router;
}

/** `xacThucThongTinCongDan` -> `XacThucThongTinCongDan`, the SOAP operation element. */
function soapOperation(service: PopulationService): string {
  return service.operation[0].toUpperCase() + service.operation.slice(1);
}

const lowerFirst = (name: string) => name[0].toLowerCase() + name.slice(1);

/**
 * A SOAP call to a service: the envelope read strictly (soap.ts), its version matching its Content-Type
 * (SOAP 1.1 text/xml, 1.2 application/soap+xml), its operation this service's, its fields among the ones the
 * services take; then the same handler as the JSON call. A fault is HTTP 500 (SOAP 1.1 §6.2) or 400 (a
 * SOAP 1.2 Sender fault); a service without SOAP answers 415.
 */
function answerSoap(
  ctx: SandboxContext,
  system: string,
  service: PopulationService,
  people: PopulationIndex,
  req: Request,
  res: Response,
  client: string | null,
): void {
  const labelled: SoapVersion = req.is('application/soap+xml') ? '1.2' : '1.1';
  const send = (status: number, xml: string) => {
    ctx.received.record(system, {
      method: req.method,
      path: req.originalUrl,
      operation: service.operation,
      client,
      body: req.body,
      response: { status, body: xml },
    });
    res.status(status).type(soapContentType(labelled)).send(xml);
  };
  const fault = (message: string) => send(labelled === '1.1' ? 500 : 400, soapFault(labelled, message));
  if (!service.soap) return void res.status(415).json({ error: 'this service is offered as JSON only' });
  const call = readSoapCall(req.body as string);
  if ('fault' in call) return fault(call.fault);
  if (call.version !== labelled)
    return fault(`SOAP ${call.version} phải gửi với Content-Type ${soapContentType(call.version)}`);
  const operation = soapOperation(service);
  if (call.operation !== operation) return fault(`thao tác ${call.operation} không có tại ${service.operation}`);
  const body: Body = {};
  for (const [name, value] of Object.entries(call.fields)) {
    if (!(SOAP_REQUEST_FIELDS as readonly string[]).includes(name)) return fault(`trường ${name} không được hỗ trợ`);
    body[lowerFirst(name)] = value;
  }
  const outcome = withOfficer(service, body, people);
  if (outcome.responseCode === '400') return fault(outcome.responseMessage);
  const data = (outcome.data ?? {}) as Record<string, unknown>;
  const fields: Record<string, string | boolean | null | undefined> = {
    MaYeuCau: call.fields.MaYeuCau,
    MaKetQua: outcome.responseCode,
    MoTaKetQua: outcome.responseMessage,
  };
  for (const [name] of service.soap) fields[name] = data[lowerFirst(name)] as string | boolean | undefined;
  send(200, soapAnswer(call.version, operation, fields));
}
