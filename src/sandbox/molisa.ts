import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { answer, type SandboxContext } from './context.ts';
import { bodyParsers, redactToken } from './platform.ts';
import { describeTokenProblem } from './tokens.ts';

/**
 * Simulated MOLISA social-protection system (seed 004, Appendix 1): `POST /molisa/api/v1/Service/<op>`,
 * JSON, answers `{ error_code, message }` with 0 meaning success. `GetToken` trades the account's
 * username and password for a token; the three sync calls carry it in the `AccessKey` header and send a
 * JSON array of records checked against the field tables of §IV.3 / Appendix 1 (names, types, max
 * lengths, required flags) and the catalogues of §VI.
 */

/** Business error codes the sandbox answers with (the seed only says "0 success, others are errors"). */
export const MOLISA_ERROR = {
  ok: 0,
  badCredentials: 1,
  badToken: 2,
  badBody: 3,
  invalidRecords: 4,
} as const;

export type MolisaFieldKind = 'string' | 'date' | 'datetime' | 'int';

export interface MolisaFieldRule {
  readonly name: string;
  readonly kind: MolisaFieldKind;
  /** Max length in characters (the "Độ dài tối đa" column). */
  readonly max?: number;
  readonly required: boolean;
  /** Required but may be empty: MaHuyen, since July 2025 Vietnam has no district level. */
  readonly emptyAllowed?: boolean;
  /** Allowed values (catalogues of §V and §VI). */
  readonly oneOf?: readonly string[];
}

const s = (name: string, max: number, required = false): MolisaFieldRule => ({ name, kind: 'string', max, required });
const d = (name: string, kind: 'date' | 'datetime', required = false): MolisaFieldRule => ({ name, kind, required });
const n = (name: string, required = false): MolisaFieldRule => ({ name, kind: 'int', required });

// §VI.3 gender ids; §VI.2 ethnicity ids 29 (Kinh, GSO 1) to 82 (Rơ măm, GSO 54), in the seed's order. The
// sandbox keeps its own copy of MOLISA's catalogues: it must not read the gateway's, or it would only ever
// agree with the gateway's reading (issue 16).
const GENDER_IDS = ['1034', '1035'];
// prettier-ignore
const ETHNICITY_NAMES = [
  'Kinh', 'Tày', 'Thái', 'Hoa', 'Khơ-me', 'Mường', 'Nùng', 'HMông', 'Dao', 'Gia-rai', 'Ngái', 'Ê-đê', 'Ba na',
  'Xơ-Đăng', 'Sán Chay', 'Cơ-ho', 'Chăm', 'Sán Dìu', 'Hrê', 'Mnông', 'Ra-glai', 'Xtiêng', 'Bru-Vân Kiều', 'Thổ',
  'Giáy', 'Cơ-tu', 'Gié Triêng', 'Mạ', 'Khơ-mú', 'Co', 'Tà-ôi', 'Chơ-ro', 'Kháng', 'Xinh-mun', 'Hà Nhì', 'Chu ru',
  'Lào', 'La Chí', 'La Ha', 'Phù Lá', 'La Hủ', 'Lụ', 'Lô Lô', 'Chứt', 'Mảng', 'Pà Thèn', 'Co Lao', 'Cồng', 'Bô Y',
  'Si La', 'Pu Péo', 'Brâu', 'Ó Đu', 'Rơ măm',
];
const ETHNICITY_IDS = ETHNICITY_NAMES.map((_, i) => String(29 + i));
/** §V: the eleven procedures, by their national procedure database codes (the seed's misprints are not codes). */
export const MOLISA_PROCEDURE_CODES: readonly string[] = [
  '2.000286',
  '2.000282',
  '2.000477',
  '1.001776',
  '1.001758',
  '1.001753',
  '1.001731',
  '2.000777',
  '1.001739',
  '2.000744',
  '2.000751',
];

/** MOLISA's ethnicity id of an ethnic group's name as the population database writes it (`Kinh` -> 29). */
export function molisaEthnicityId(name: string): string | undefined {
  const i = ETHNICITY_NAMES.indexOf(name);
  return i === -1 ? undefined : String(29 + i);
}

/**
 * The record tables, field for field. Names are the tables' (HKTT_..., DonViXuLy, UseridCreated), not the
 * examples' drift (HKTTC_..., PhongBanXuLy, " UserIdCreated"): turning the drift into these is the
 * gateway's job, and the sandbox is where a province sees whether it did.
 */
export const MOLISA_RECORD_RULES: Readonly<
  Record<'DongBoDVC' | 'XuLyHoSo' | 'FileQuyetDinh', readonly MolisaFieldRule[]>
> = {
  // §IV.3.1 / Appendix 1 §2a: 27 fields.
  DongBoDVC: [
    s('MaHoSo', 25, true),
    { ...s('MaTTHC', 50, true), oneOf: MOLISA_PROCEDURE_CODES },
    s('TenTTHC', 500, true),
    s('HoVaTen', 250, true),
    d('NgayThangNamSinh', 'date', true),
    { ...s('GioiTinhId', 25), oneOf: GENDER_IDS },
    { ...s('DanTocId', 25), oneOf: ETHNICITY_IDS },
    s('CMND', 25, true),
    d('CMND_NgayCap', 'date'),
    s('CMND_NoiCap', 250),
    s('MaTinh', 10, true),
    // Required by the table, but there is no district level since July 2025: present and empty is accepted.
    { ...s('MaHuyen', 10, true), emptyAllowed: true },
    s('MaXa', 10, true),
    s('HKTT_MaTinh', 10),
    s('HKTT_MaHuyen', 10),
    s('HKTT_MaXa', 10),
    s('HKTT_MaThon', 250),
    s('HKTT_ChiTiet', 250),
    s('NOHT_MaTinh', 10),
    s('NOHT_MaHuyen', 10),
    s('NOHT_MaXa', 10),
    // The table says 10 here (250 for HKTT_MaThon): kept as printed, the seed wins.
    // The table prints 10, but the field holds a hamlet name like HKTT_MaThon (250) and the seed's own
    // example sends 20 characters: 250, as schemas/molisa/DongBoDVC.json (docs/transform.md).
    s('NOHT_MaThon', 250),
    s('NOHT_ChiTiet', 250),
    s('SoDienThoai', 50),
    s('Email', 200),
    n('StatusId', true),
    d('SubmittedDate', 'date', true),
  ],
  // §IV.3.2 / Appendix 1 §2b: 14 fields; MaHoSo is 50 here, not 25.
  XuLyHoSo: [
    s('MaHoSo', 50, true),
    s('TaiKhoanXuLy', 250, true),
    s('NguoiXuLy', 250, true),
    s('ChucDanh', 250, true),
    d('ThoiDiemXuLy', 'datetime', true),
    s('DonViXuLy', 250),
    s('NoiDungXuLy', 4000, true),
    n('StatusId', true),
    d('NgayBatDau', 'datetime', true),
    d('NgayKetThucTheoQuyDinh', 'datetime', true),
    s('UseridCreated', 250),
    s('UseridEdited', 250),
    d('DateCreated', 'datetime'),
    d('DateEdited', 'datetime'),
  ],
  // §IV.3.3 / Appendix 1 §2c.
  FileQuyetDinh: [s('MaHoSo', 50, true), s('HoVaTen', 250, true), s('CMND', 50, true), s('Url', 500, true)],
};

/**
 * Accepted date layouts. `Date` fields: `dd/MM/yyyy` as in the DongBoDVC example, or with a time as its
 * SubmittedDate shows (`12/12/2021 12:22:34`). `DateTime` fields: `yyyyMMddHHmmss`, written next to
 * NgayBatDau in the XuLyHoSo example. These are what the gateway's normalisation must produce.
 */
export const DEFAULT_MOLISA_DATE_FORMATS: Readonly<Record<'date' | 'datetime', readonly string[]>> = {
  date: ['dd/MM/yyyy', 'dd/MM/yyyy HH:mm:ss'],
  datetime: ['yyyyMMddHHmmss'],
};

export interface MolisaOptions {
  /**
   * HTTP status for a missing, unknown or expired AccessKey. Default 200 with a non-zero error_code, as
   * this API family reports every outcome in `error_code`; 401 for a stricter upstream.
   */
  authFailureStatus?: 200 | 401;
  /** Fields not in the seed's tables: `reject` (default, so untranslated dialect drift shows) or `ignore`. */
  unknownFields?: 'reject' | 'ignore';
  dateFormats?: Partial<Record<'date' | 'datetime', readonly string[]>>;
}

/** Checks a value against a `dd/MM/yyyy HH:mm:ss`-style layout and the calendar. */
export function matchesDateFormat(value: string, format: string): boolean {
  const tokens = /(yyyy|MM|dd|HH|mm|ss)/g;
  const order: string[] = [];
  const pattern = format.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(tokens, (t) => {
    order.push(t);
    return t === 'yyyy' ? '(\\d{4})' : '(\\d{2})';
  });
  const m = new RegExp(`^${pattern}$`).exec(value);
  if (!m) return false;
  const part = (t: string): number | undefined => {
    const i = order.indexOf(t);
    return i === -1 ? undefined : Number(m[i + 1]);
  };
  const year = part('yyyy') ?? 2000;
  const month = part('MM') ?? 1;
  const day = part('dd') ?? 1;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  return (part('HH') ?? 0) < 24 && (part('mm') ?? 0) < 60 && (part('ss') ?? 0) < 60;
}

/** Every problem of one batch, as `[index].Field: reason` strings; empty when the batch is valid. */
export function checkMolisaRecords(
  records: readonly unknown[],
  rules: readonly MolisaFieldRule[],
  options: { unknownFields: 'reject' | 'ignore'; dateFormats: Record<'date' | 'datetime', readonly string[]> },
): string[] {
  const problems: string[] = [];
  const known = new Set(rules.map((r) => r.name));
  records.forEach((record, i) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      problems.push(`[${i}]: phải là một đối tượng JSON`);
      return;
    }
    const r = record as Record<string, unknown>;
    if (options.unknownFields === 'reject') {
      for (const key of Object.keys(r)) {
        if (!known.has(key)) problems.push(`[${i}].${JSON.stringify(key).slice(1, -1)}: trường không có trong đặc tả`);
      }
    }
    for (const rule of rules) {
      const v = r[rule.name];
      const where = `[${i}].${rule.name}`;
      if (v === undefined || v === null || v === '') {
        if (rule.required && !(rule.emptyAllowed && v === '')) problems.push(`${where}: bắt buộc`);
        continue;
      }
      if (rule.kind === 'int') {
        if (typeof v !== 'number' || !Number.isInteger(v)) problems.push(`${where}: phải là số nguyên`);
        continue;
      }
      if (typeof v !== 'string') {
        problems.push(`${where}: phải là chuỗi`);
        continue;
      }
      if (rule.max !== undefined && [...v].length > rule.max) problems.push(`${where}: dài quá ${rule.max} ký tự`);
      if (rule.oneOf && !rule.oneOf.includes(v)) problems.push(`${where}: giá trị "${v}" không có trong danh mục`);
      if (rule.kind === 'date' || rule.kind === 'datetime') {
        const formats = options.dateFormats[rule.kind];
        if (!formats.some((f) => matchesDateFormat(v, f))) {
          problems.push(`${where}: sai định dạng ngày (${formats.join(' hoặc ')})`);
        }
      }
    }
  });
  return problems;
}

/** What the sandbox knows of a citizen, to see a record's codes changed in transit (population-data.ts). */
export type KnownCitizen = (card: string) => { readonly gioiTinh: '1' | '2'; readonly danToc: string } | undefined;

/**
 * Records of citizens the sandbox knows (its synthetic population) must carry that citizen's gender and
 * ethnicity ids: MOLISA's database holds its beneficiaries, and a record whose ethnicity changed on the way
 * (a sender's MOLISA id 29, Kinh, read as GSO code 29, Khơ-mú: id 57) is refused here instead of stored, so a
 * test through the gateway can tell a faithful translation from a plausible one (issue 16.1).
 */
export function checkAgainstPopulation(records: readonly unknown[], known: KnownCitizen): string[] {
  const problems: string[] = [];
  records.forEach((record, i) => {
    const r = record as Record<string, unknown>;
    if (typeof r.CMND !== 'string') return;
    const citizen = known(r.CMND);
    if (citizen === undefined) return;
    const ethnicity = molisaEthnicityId(citizen.danToc);
    if (r.DanTocId !== undefined && ethnicity !== undefined && r.DanTocId !== ethnicity) {
      problems.push(
        `[${i}].DanTocId: "${String(r.DanTocId)}" khác dân tộc của công dân (${citizen.danToc}, Id ${ethnicity})`,
      );
    }
    const gender = citizen.gioiTinh === '1' ? '1034' : '1035';
    if (r.GioiTinhId !== undefined && r.GioiTinhId !== gender) {
      problems.push(`[${i}].GioiTinhId: "${String(r.GioiTinhId)}" khác giới tính của công dân (Id ${gender})`);
    }
  });
  return problems;
}

/** The MOLISA router, mounted at `/molisa`; `known` looks up the sandbox's citizens by ID card number. */
export function molisaRouter(ctx: SandboxContext, options: MolisaOptions = {}, known?: KnownCitizen): Router {
  const router = express.Router();
  const system = 'molisa';
  const authFailureStatus = options.authFailureStatus ?? 200;
  const unknownFields = options.unknownFields ?? 'reject';
  const dateFormats = { ...DEFAULT_MOLISA_DATE_FORMATS, ...options.dateFormats } as Record<
    'date' | 'datetime',
    readonly string[]
  >;
  router.use(bodyParsers());

  router.post('/api/v1/Service/GetToken', (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const logged = { ...body, ...(body.password !== undefined ? { password: '[REDACTED]' } : {}) };
    const expected = ctx.credentials.molisa;
    const send = (payload: unknown, client: string | null): void => {
      ctx.received.record(system, {
        method: req.method,
        path: req.originalUrl,
        operation: 'GetToken',
        client,
        body: logged,
        response: { status: 200, body: redactToken(payload) },
      });
      res.status(200).json(payload);
    };
    if (body.username !== expected.username || body.password !== expected.password) {
      return send(
        { error_code: MOLISA_ERROR.badCredentials, message: 'Tài khoản hoặc mật khẩu không đúng', token: null },
        null,
      );
    }
    const issued = ctx.tokens.issue(system, expected.username, ctx.tokenLifetimeSeconds);
    send({ error_code: MOLISA_ERROR.ok, message: 'Thành công', token: issued.token }, expected.username);
  });

  for (const operation of ['DongBoDVC', 'XuLyHoSo', 'FileQuyetDinh'] as const) {
    router.post(`/api/v1/Service/${operation}`, (req: Request, res: Response) => {
      const reply = (status: number, error_code: number, message: string, client?: string) =>
        answer(ctx, system, operation, req, res, status, { error_code, message }, client);
      const check = ctx.tokens.check(req.get('accesskey') ?? undefined, [system]);
      if (!check.ok) {
        return reply(authFailureStatus, MOLISA_ERROR.badToken, `AccessKey: ${describeTokenProblem(check.problem)}`);
      }
      const client = check.token.subject;
      const body: unknown = req.body;
      if (!Array.isArray(body) || body.length === 0) {
        return reply(200, MOLISA_ERROR.badBody, 'Dữ liệu gửi lên phải là một mảng JSON các hồ sơ, không rỗng', client);
      }
      const problems = checkMolisaRecords(body, MOLISA_RECORD_RULES[operation], { unknownFields, dateFormats });
      if (problems.length === 0 && operation === 'DongBoDVC' && known)
        problems.push(...checkAgainstPopulation(body, known));
      if (problems.length > 0) {
        // The whole batch is refused: a partial import would leave the two systems out of step.
        return reply(200, MOLISA_ERROR.invalidRecords, `Dữ liệu không hợp lệ: ${problems.join('; ')}`, client);
      }
      reply(200, MOLISA_ERROR.ok, `Đồng bộ thành công ${body.length} hồ sơ`, client);
    });
  }

  // Unparseable JSON gets the API's own shape, not Express's HTML error page.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    answer(ctx, system, req.path.split('/').pop() ?? '', req, res, 400, {
      error_code: MOLISA_ERROR.badBody,
      message: 'Dữ liệu gửi lên không phải JSON hợp lệ',
    });
  });
  return router;
}
