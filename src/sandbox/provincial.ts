import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { answer, type SandboxContext } from './context.ts';

/**
 * Stand-ins for the provincial systems that national systems call back into through the gateway:
 * the one-stop system (`/tinh/mcdt`: civil-status results, seed 003; linked-services dossiers from PM
 * DVCLT, B1 of connection No. 1) and the provincial portal (`/tinh/dvc`, MOLISA case A2, seed 004). They
 * record what they receive (`GET /__sandbox/mcdt/received`); the portal also checks that a MOLISA record
 * arrives in its own field names and codes, as the province's system would read them.
 */
export function provincialRouter(ctx: SandboxContext, system: 'mcdt' | 'dvc'): Router {
  const router = express.Router();
  router.use(express.json({ limit: '10mb' }));
  router.post('/*rest', (req, res) => {
    const operation = req.path.split('/').filter(Boolean).at(-1) ?? '';
    if (system === 'dvc' && operation === 'DongBoHoSo') {
      const problem = provincialRecordProblem(req.body);
      if (problem) return answer(ctx, system, operation, req, res, 400, { error_code: 3, message: problem });
      return answer(ctx, system, operation, req, res, 200, { error_code: 0, message: 'Đã nhận' });
    }
    if (system === 'mcdt' && req.path.startsWith('/api/dvclt/')) {
      return answer(ctx, system, operation, req, res, 200, { responseCode: '200', responseMessage: 'Đã tiếp nhận' });
    }
    const body =
      system === 'dvc' ? { error_code: 0, message: 'Đã nhận' } : { status: '1', statusDescription: 'Đã nhận' };
    answer(ctx, system, operation, req, res, 200, body);
  });
  return router;
}

/**
 * The provincial portal's own record: the field names its system writes when it syncs a dossier to MOLISA,
 * those of seed 004's example (`HKTTC_…`), not MOLISA's table (`HKTT_…`); ethnicity as a GSO code (the
 * example's "01"), never MOLISA's id. Known to the sandbox itself, not read from the gateway's config.
 */
const PROVINCIAL_FIELDS = new Set([
  'MaHoSo',
  'MaTTHC',
  'TenTTHC',
  'HoVaTen',
  'NgayThangNamSinh',
  'GioiTinhId',
  'DanTocId',
  'CMND',
  'CMND_NgayCap',
  'CMND_NoiCap',
  'MaTinh',
  'MaHuyen',
  'MaXa',
  'HKTTC_MaTinh',
  'HKTTC_MaHuyen',
  'HKTTC_MaXa',
  'HKTTC_MaThon',
  'HKTTC_ChiTiet',
  'NOHT_MaTinh',
  'NOHT_MaHuyen',
  'NOHT_MaXa',
  'NOHT_MaThon',
  'NOHT_ChiTiet',
  'SoDienThoai',
  'Email',
  'StatusId',
  'SubmittedDate',
]);

/** What the portal cannot read in a MOLISA sync (A2), or undefined. */
function provincialRecordProblem(body: unknown): string | undefined {
  if (!Array.isArray(body)) return 'Dữ liệu phải là mảng hồ sơ';
  for (const [i, record] of body.entries()) {
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      return `Hồ sơ ${i} không phải đối tượng`;
    const r = record as Record<string, unknown>;
    if (typeof r.MaHoSo !== 'string' || r.MaHoSo === '') return `Hồ sơ ${i}: thiếu MaHoSo`;
    const foreign = Object.keys(r).filter((k) => !PROVINCIAL_FIELDS.has(k));
    if (foreign.length > 0) return `Hồ sơ ${i}: trường không thuộc hệ thống của tỉnh: ${foreign.join(', ')}`;
    if (r.DanTocId !== undefined) {
      const gso = typeof r.DanTocId === 'string' && /^\d{1,2}$/.test(r.DanTocId) ? Number(r.DanTocId) : NaN;
      if (!(gso >= 1 && gso <= 54))
        return `Hồ sơ ${i}: DanTocId "${String(r.DanTocId)}" không phải mã dân tộc GSO (1-54)`;
    }
  }
  return undefined;
}

/** A citizen's document held by a provincial sector database (seed 001 part B). Sandbox data only. */
export interface SectorDocument {
  /** ASSUMPTION: the seed gives no field list for part B; these names follow the QR answer's style. */
  loaiGiayTo: string;
  soGiayTo: string;
  ngayCap: string;
  noiCap: string;
  ngayHetHan: string | null;
}

/** The sandbox sector database's documents: two kinds a provincial department keeps (sandbox-only codes). */
export const SECTOR_DOCUMENT_TYPES = {
  GCN_QSDD: 'Giấy chứng nhận quyền sử dụng đất (Sở Tài nguyên và Môi trường)',
  CCHN_Y: 'Chứng chỉ hành nghề khám bệnh, chữa bệnh (Sở Y tế)',
} as const;

const PERSONAL_ID = /^[0-9]{12}$/;

/**
 * A provincial sector database (CSDL chuyên ngành, seed 001 part B §III) under `/tinh/csdlcn`: the
 * identification system, through NDXP and the gateway, asks it for a citizen's documents (B2–B4).
 *   POST /tinh/csdlcn/api/vneid/traCuuGiayTo  {soDinhDanh, loaiGiayTo?, soGiayTo?}
 *     -> {responseCode: '200', responseMessage, data: {soDinhDanh, giayTo: [...]}}, or, when the
 *        information is not correct, {responseCode: '404' | '409', responseMessage: <the reason>, data: null} (B4).
 * It refuses what a real database would: a body that is not JSON, an ID that is not 12 digits, a document
 * type it does not keep. `documents` is shared with the sandbox control, which changes a document so the
 * change can be pushed to the identification system (§IV).
 */
export function sectorDatabaseRouter(ctx: SandboxContext, documents: Map<string, SectorDocument[]>): Router {
  const system = 'csdlcn';
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  router.post('/api/vneid/traCuuGiayTo', (req, res) => {
    const reply = (status: number, body: unknown) => {
      ctx.received.record(system, {
        method: req.method,
        path: req.originalUrl,
        operation: 'traCuuGiayTo',
        client: null,
        body: req.body ?? null,
        response: { status, body },
      });
      res.status(status).json(body);
    };
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.soDinhDanh !== 'string' || !PERSONAL_ID.test(b.soDinhDanh)) {
      return reply(400, { responseCode: '400', responseMessage: 'soDinhDanh phải gồm đúng 12 chữ số', data: null });
    }
    if (b.loaiGiayTo !== undefined && !Object.hasOwn(SECTOR_DOCUMENT_TYPES, String(b.loaiGiayTo))) {
      return reply(400, {
        responseCode: '400',
        responseMessage: `CSDL không quản lý loại giấy tờ này; chỉ: ${Object.keys(SECTOR_DOCUMENT_TYPES).join(', ')}`,
        data: null,
      });
    }
    const held = (documents.get(b.soDinhDanh) ?? []).filter(
      (d) => b.loaiGiayTo === undefined || d.loaiGiayTo === b.loaiGiayTo,
    );
    // B4: "information not correct": the reason is given back, so the citizen can see why in the app.
    if (held.length === 0) {
      return reply(200, {
        responseCode: '404',
        responseMessage: 'Không có giấy tờ của công dân này trong CSDL chuyên ngành',
        data: null,
      });
    }
    if (typeof b.soGiayTo === 'string' && !held.some((d) => d.soGiayTo === b.soGiayTo)) {
      return reply(200, {
        responseCode: '409',
        responseMessage: 'Số giấy tờ công dân nhập không khớp với CSDL chuyên ngành',
        data: null,
      });
    }
    const found = typeof b.soGiayTo === 'string' ? held.filter((d) => d.soGiayTo === b.soGiayTo) : held;
    reply(200, {
      responseCode: '200',
      responseMessage: 'Thành công',
      data: { soDinhDanh: b.soDinhDanh, giayTo: found },
    });
  });
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    res
      .status(400)
      .json({ responseCode: '400', responseMessage: 'Dữ liệu gửi lên không phải JSON hợp lệ', data: null });
  });
  return router;
}
