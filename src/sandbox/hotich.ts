import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { answer, type SandboxContext } from './context.ts';
import { matchesDateFormat } from './molisa.ts';
import { bodyParsers, operationOf, requireBearer, tokenEndpoint } from './platform.ts';
import { describeTokenProblem } from './tokens.ts';

/**
 * Simulated MOJ civil-status software (PM ĐKQL hộ tịch điện tử; seed 003, domain.md §2.4 and §4).
 * Its API per the deck: get a token, receive dossiers, give back status and results, catalogues.
 *
 *   POST /hotich/token                          OAuth2 client credentials (consumer key/secret, seed 003
 *                                               figure "consumer-key / consumer-secret"); NDXP tokens are
 *                                               accepted too ("Lấy Token NDXP cho phiên làm việc...").
 *   POST /hotich/<ver>/dangKyHoTich             push a dossier  -> {status, statusDescription, errorCode, errorDescription}
 *   POST /hotich/<ver>/traTrangThaiHoSo         {maDinhDanhHoSo: [...], maTinh, module} -> {..., value: [...]}
 *   POST /hotich/<ver>/danhMuc                  {loaiDanhMuc: 1..5} -> {..., value: [{ma, ten}]}
 *
 * `<ver>` is 1.0, 2.0 or 3.0 (the deck's three API generations), each taking the modules it lists.
 * Business outcomes are HTTP 200 with `status` "1" (done) or "0" (refused); error codes are those of the
 * older generation of the same API (domain.md §4): 100 authentication, 106 wrong unit, 108 wrong
 * province, 200 incomplete record, 302 wrong data type, 500 incorrect data.
 */

export const HOTICH_ERROR = {
  ok: '0',
  authentication: '100',
  wrongUnit: '106',
  wrongProvince: '108',
  incomplete: '200',
  wrongType: '302',
  incorrect: '500',
} as const;

/** A civil-status registering unit: GSO administrative-unit code (seed 003 common error 1). */
export interface HotichUnit {
  maDonVi: string;
  tenDonVi: string;
  maTinh: string;
}

/** The units the demo account is registered for (seed 003: test accounts with maDonVi 07219 and 213; 00019 from error 1). */
export const DEFAULT_HOTICH_UNITS: readonly HotichUnit[] = [
  { maDonVi: '00019', tenDonVi: 'UBND phường Điện Biên, quận Ba Đình, thành phố Hà Nội', maTinh: '01' },
  { maDonVi: '07219', tenDonVi: 'UBND phường Lê Lợi, thành phố Bắc Giang', maTinh: '24' },
  { maDonVi: '213', tenDonVi: 'UBND thành phố Bắc Giang', maTinh: '24' },
];

/**
 * Modules per API version (seed 003 slide "Các API phần mềm ĐKQL hộ tịch điện tử cung cấp"): 1.0 the
 * 2018 set, 2.0 linked marriage + marital-status certificate, 3.0 linked birth/death plus KS, KT, LTKH.
 */
export const HOTICH_MODULES_BY_VERSION: Readonly<Record<string, readonly string[]>> = {
  '1.0': ['KS', 'KT', 'KH', 'HN', 'CMC', 'LH', 'GH', 'TGH'],
  '2.0': ['LTKH'],
  '3.0': ['KS', 'KT', 'LTKS', 'LTKT', 'LTKH'],
};

/** A catalogue from its [code, name] pairs, in order. */
const codeList = (...entries: [ma: string, ten: string][]) => entries.map(([ma, ten]) => ({ ma, ten }));

/** Small catalogues for `danhMuc` (1 nationality, 2 country, 3 ethnicity, 4 places, 5 ID-document type). */
export const HOTICH_CATALOGUES: Readonly<Record<string, readonly { ma: string; ten: string }[]>> = {
  '1': codeList(['VN', 'Việt Nam'], ['LA', 'Lào'], ['KH', 'Campuchia'], ['CN', 'Trung Quốc'], ['KR', 'Hàn Quốc']),
  '2': codeList(['VN', 'Việt Nam'], ['LA', 'Lào'], ['KH', 'Campuchia'], ['JP', 'Nhật Bản'], ['US', 'Hoa Kỳ']),
  '3': codeList(['01', 'Kinh'], ['02', 'Tày'], ['03', 'Thái'], ['04', 'Hoa'], ['05', 'Khơ-me'], ['06', 'Mường']),
  '4': codeList(['01', 'Thành phố Hà Nội'], ['24', 'Tỉnh Bắc Giang'], ['52', 'Tỉnh Bình Định']),
  '5': codeList(['1', 'Chứng minh nhân dân'], ['2', 'Hộ chiếu'], ['3', 'Thẻ căn cước công dân'], ['4', 'Thẻ căn cước']),
};

/** Dossier states of `traTrangThaiHoSo` (domain.md §4): 1 received, 2 needs supplement, 3 eligible, 4 registered, 0 error. */
export const HOTICH_STATES = ['0', '1', '2', '3', '4'] as const;

/** A dossier the simulated software holds. */
export interface HotichDossier {
  module: string;
  version: string;
  maHoSoMCDT: string;
  maHoSoLT: string | null;
  maDonVi: string;
  maTinh: string;
  ngayTiepNhan: string;
  data: unknown;
  soTepDinhKem: number;
  trangThai: number;
  thoiGianThucHien: string;
  ketQuaXuLy: string | null;
  nguoiXuLy: string | null;
  chucDanh: string | null;
  phongBanXuLy: string | null;
  noiDungXuLy: string;
}

export interface HotichOptions {
  units?: readonly HotichUnit[];
}

type Reply = { status: '1' | '0'; statusDescription: string; errorCode: string; errorDescription: string };

const refused = (errorCode: string, errorDescription: string): Reply => ({
  status: '0',
  statusDescription: 'Không thành công',
  errorCode,
  errorDescription,
});
const done = (statusDescription: string): Reply => ({
  status: '1',
  statusDescription,
  errorCode: HOTICH_ERROR.ok,
  errorDescription: '',
});

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** `dd/MM/yyyy HH:mm:ss` from a clock value, in Vietnam time (UTC+7). */
export function vnTimestamp(ms: number): string {
  const d = new Date(ms + 7 * 3_600_000);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** The civil-status router (mounted at `/hotich`) and its dossier store. */
export function createHotich(ctx: SandboxContext, options: HotichOptions = {}) {
  const system = 'hotich';
  const units = options.units ?? DEFAULT_HOTICH_UNITS;
  const unitOf = (code: unknown) => units.find((u) => u.maDonVi === code);
  const dossiers: HotichDossier[] = [];
  const router: Router = express.Router();
  router.use(bodyParsers());
  /** Refuses in the API's own shape, before a handler has named the operation (it is read from the path). */
  const refuse = (req: Request, res: Response, status: number, errorCode: string, description: string) =>
    answer(ctx, system, operationOf(req), req, res, status, refused(errorCode, description));

  router.post(
    '/token',
    tokenEndpoint(ctx, system, () => ctx.credentials.hotich),
  );

  const auth = requireBearer(ctx, system, [system, 'ndxp'], (problem) =>
    refused(HOTICH_ERROR.authentication, `Xác thực không thành công: ${describeTokenProblem(problem)}`),
  );

  const versionOf = (req: Request, res: Response, next: NextFunction): void => {
    if (HOTICH_MODULES_BY_VERSION[String(req.params.version)]) return next();
    refuse(req, res, 404, HOTICH_ERROR.incorrect, 'Phiên bản API không tồn tại');
  };

  router.post('/:version/dangKyHoTich', versionOf, auth, (req: Request, res: Response) => {
    const version = String(req.params.version);
    const client = (res.locals.client as string) ?? null;
    const reply = (r: Reply) => answer(ctx, system, 'dangKyHoTich', req, res, 200, r, client);
    const b = req.body as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) {
      return reply(refused(HOTICH_ERROR.wrongType, 'Hồ sơ phải là một đối tượng JSON'));
    }
    for (const field of ['module', 'maHoSoMCDT', 'maDonVi', 'data', 'ngayTiepNhan']) {
      if (b[field] === undefined || b[field] === null || b[field] === '') {
        return reply(refused(HOTICH_ERROR.incomplete, `Thiếu trường bắt buộc: ${field}`));
      }
    }
    const modules = HOTICH_MODULES_BY_VERSION[version];
    if (typeof b.module !== 'string' || !modules.includes(b.module)) {
      return reply(
        refused(
          HOTICH_ERROR.incorrect,
          `Module "${String(b.module)}" không được hỗ trợ ở phiên bản ${version} (${modules.join(', ')})`,
        ),
      );
    }
    // Seed 003 common error 1: maDonVi must be the registering unit's GSO code the account belongs to.
    const unit = unitOf(b.maDonVi);
    if (!unit) {
      return reply(
        refused(
          HOTICH_ERROR.wrongUnit,
          `Mã đơn vị (maDonVi) "${String(b.maDonVi)}" không khớp đơn vị đăng ký của tài khoản kết nối (${units.map((u) => u.maDonVi).join(', ')})`,
        ),
      );
    }
    if (
      typeof b.maHoSoMCDT !== 'string' ||
      (b.maHoSoLT !== undefined && b.maHoSoLT !== null && typeof b.maHoSoLT !== 'string')
    ) {
      return reply(refused(HOTICH_ERROR.wrongType, 'maHoSoMCDT và maHoSoLT phải là chuỗi'));
    }
    // The dossier itself travels as a JSON document inside a string (domain.md §4).
    let data: unknown;
    try {
      if (typeof b.data !== 'string') throw new Error('not a string');
      data = JSON.parse(b.data);
    } catch {
      return reply(refused(HOTICH_ERROR.wrongType, 'data phải là chuỗi JSON'));
    }
    if (typeof b.ngayTiepNhan !== 'string' || !matchesDateFormat(b.ngayTiepNhan, 'dd/MM/yyyy HH:mm:ss')) {
      return reply(refused(HOTICH_ERROR.wrongType, 'ngayTiepNhan phải có dạng dd/MM/yyyy HH:mm:ss'));
    }
    const files = b.fileDinhKem ?? [];
    if (!Array.isArray(files)) return reply(refused(HOTICH_ERROR.wrongType, 'fileDinhKem phải là một mảng'));
    for (const [i, f] of files.entries()) {
      const file = f as Record<string, unknown>;
      if (typeof file !== 'object' || file === null || typeof file.tenTepDinhKem !== 'string') {
        return reply(refused(HOTICH_ERROR.incomplete, `fileDinhKem[${i}]: thiếu tenTepDinhKem`));
      }
      if (typeof file.duLieuTepDinhKem !== 'string' || !BASE64.test(file.duLieuTepDinhKem)) {
        return reply(refused(HOTICH_ERROR.wrongType, `fileDinhKem[${i}].duLieuTepDinhKem phải là base64`));
      }
    }
    const dossier: HotichDossier = {
      module: b.module,
      version,
      maHoSoMCDT: b.maHoSoMCDT,
      maHoSoLT: typeof b.maHoSoLT === 'string' ? b.maHoSoLT : null,
      maDonVi: unit.maDonVi,
      maTinh: unit.maTinh,
      ngayTiepNhan: b.ngayTiepNhan,
      data,
      soTepDinhKem: files.length,
      trangThai: 1,
      thoiGianThucHien: vnTimestamp(ctx.clock.now()),
      ketQuaXuLy: null,
      nguoiXuLy: null,
      chucDanh: null,
      phongBanXuLy: null,
      noiDungXuLy: 'Tiếp nhận hồ sơ',
    };
    // A re-sync of the same dossier and module replaces it.
    const existing = dossiers.findIndex((d) => d.maHoSoMCDT === dossier.maHoSoMCDT && d.module === dossier.module);
    if (existing === -1) dossiers.push(dossier);
    else dossiers[existing] = dossier;
    reply(done('Tiếp nhận hồ sơ thành công'));
  });

  router.post('/:version/traTrangThaiHoSo', versionOf, auth, (req: Request, res: Response) => {
    const client = (res.locals.client as string) ?? null;
    const reply = (r: Reply & { value?: unknown[] }) =>
      answer(ctx, system, 'traTrangThaiHoSo', req, res, 200, r, client);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const ids = b.maDinhDanhHoSo;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string')) {
      return reply(refused(HOTICH_ERROR.incomplete, 'maDinhDanhHoSo phải là mảng mã hồ sơ, không rỗng'));
    }
    if (typeof b.maTinh !== 'string' || b.maTinh === '') return reply(refused(HOTICH_ERROR.incomplete, 'Thiếu maTinh'));
    if (typeof b.module !== 'string' || b.module === '') return reply(refused(HOTICH_ERROR.incomplete, 'Thiếu module'));
    // Seed 003: each API version serves its own modules; a query under another version finds nothing real.
    const modules = HOTICH_MODULES_BY_VERSION[String(req.params.version)];
    if (!modules.includes(b.module)) {
      return reply(
        refused(
          HOTICH_ERROR.incorrect,
          `Module "${b.module}" không được hỗ trợ ở phiên bản ${String(req.params.version)} (${modules.join(', ')})`,
        ),
      );
    }
    if (!units.some((u) => u.maTinh === b.maTinh)) {
      return reply(refused(HOTICH_ERROR.wrongProvince, `Mã tỉnh (maTinh) "${b.maTinh}" không đúng`));
    }
    if (b.maDonVi !== undefined && !unitOf(b.maDonVi)) {
      return reply(
        refused(HOTICH_ERROR.wrongUnit, `Mã đơn vị (maDonVi) "${String(b.maDonVi)}" không khớp đơn vị đăng ký`),
      );
    }
    // Seed 003 common error 2: a query with another module than the one synced (KT for an LTKT dossier)
    // finds nothing, and says so only by an empty list.
    const value = dossiers
      .filter(
        (d) =>
          (ids.includes(d.maHoSoMCDT) || (d.maHoSoLT !== null && ids.includes(d.maHoSoLT))) &&
          d.module === b.module &&
          d.maTinh === b.maTinh &&
          (b.maDonVi === undefined || d.maDonVi === b.maDonVi),
      )
      .map((d) => ({
        maDonVi: d.maDonVi,
        maTinh: d.maTinh,
        module: d.module,
        maHoSoLT: d.maHoSoLT,
        maHoSoMCDT: d.maHoSoMCDT,
        trangThai: d.trangThai,
        thoiGianThucHien: d.thoiGianThucHien,
        ketQuaXuLy: d.ketQuaXuLy,
        nguoiXuLy: d.nguoiXuLy,
        chucDanh: d.chucDanh,
        phongBanXuLy: d.phongBanXuLy,
        noiDungXuLy: d.noiDungXuLy,
      }));
    reply({ ...done('Thành công'), value });
  });

  const catalogue = (req: Request, res: Response, kind: unknown): void => {
    const client = (res.locals.client as string) ?? null;
    const list = HOTICH_CATALOGUES[String(kind)];
    if (!list) {
      return answer(
        ctx,
        system,
        'danhMuc',
        req,
        res,
        200,
        refused(HOTICH_ERROR.incorrect, 'loaiDanhMuc phải là 1 đến 5'),
        client,
      );
    }
    answer(ctx, system, 'danhMuc', req, res, 200, { ...done('Thành công'), value: list }, client);
  };
  router.post('/:version/danhMuc', versionOf, auth, (req, res) => catalogue(req, res, req.body?.loaiDanhMuc));
  router.get('/:version/danhMuc/:loai', versionOf, auth, (req, res) => catalogue(req, res, req.params.loai));

  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    refuse(req, res, 400, HOTICH_ERROR.wrongType, 'Dữ liệu gửi lên không phải JSON hợp lệ');
  });

  /**
   * Sandbox control: play the civil-status officer and move a dossier on (seed 003 test scripts: the
   * officer receives, signs and issues; the one-stop system then reads the result).
   */
  const control: Router = express.Router();
  control.use(express.json());
  control.get('/dossiers', (_req, res) => {
    res.json(dossiers);
  });
  control.post('/dossiers/:maHoSo/trangThai', (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const d = dossiers.find(
      (x) =>
        (x.maHoSoMCDT === req.params.maHoSo || x.maHoSoLT === req.params.maHoSo) &&
        (b.module === undefined || x.module === b.module),
    );
    if (!d) return void res.status(404).json({ error: 'Không tìm thấy hồ sơ' });
    if (!HOTICH_STATES.includes(String(b.trangThai) as (typeof HOTICH_STATES)[number])) {
      return void res.status(400).json({ error: `trangThai phải là một trong ${HOTICH_STATES.join(', ')}` });
    }
    d.trangThai = Number(b.trangThai);
    d.thoiGianThucHien = vnTimestamp(ctx.clock.now());
    for (const key of ['ketQuaXuLy', 'nguoiXuLy', 'chucDanh', 'phongBanXuLy', 'noiDungXuLy'] as const) {
      if (typeof b[key] === 'string') d[key] = b[key] as string;
    }
    res.json(d);
  });
  control.delete('/dossiers', (_req, res) => {
    const n = dossiers.length;
    dossiers.length = 0;
    res.json({ cleared: n });
  });

  return { router, control, dossiers: (): readonly HotichDossier[] => dossiers, units };
}
