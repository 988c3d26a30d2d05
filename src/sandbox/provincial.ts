import express, { type Request, type Response, type Router } from 'express';
import type { SandboxContext } from './context.ts';

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
      if (problem) return reply(ctx, system, operation, req, res, 400, { error_code: 3, message: problem });
      return reply(ctx, system, operation, req, res, 200, { error_code: 0, message: 'Đã nhận' });
    }
    if (system === 'mcdt' && req.path.startsWith('/api/dvclt/')) {
      return reply(ctx, system, operation, req, res, 200, { responseCode: '200', responseMessage: 'Đã tiếp nhận' });
    }
    const body =
      system === 'dvc' ? { error_code: 0, message: 'Đã nhận' } : { status: '1', statusDescription: 'Đã nhận' };
    reply(ctx, system, operation, req, res, 200, body);
  });
  return router;
}

function reply(
  ctx: SandboxContext,
  system: string,
  operation: string,
  req: Request,
  res: Response,
  status: number,
  body: unknown,
): void {
  ctx.received.record(system, {
    method: req.method,
    path: req.originalUrl,
    operation,
    client: null,
    body: req.body,
    response: { status, body },
  });
  res.status(status).json(body);
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
