import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { answer, postToGateway, type SandboxContext } from './context.ts';
import { vnTimestamp } from './hotich.ts';
import { matchesDateFormat } from './molisa.ts';
import { bodyParsers, requireBearer } from './platform.ts';
import { describeTokenProblem } from './tokens.ts';

/**
 * Simulated PM DVCLT, the national linked-public-services software of Decree 63/2024 (seed 003, "Mô hình
 * kết nối dữ liệu trong thực hiện dịch vụ công liên thông", connection No. 1 through VDXP):
 *
 *   B1  PM DVCLT syncs birth (LTKS) and death (LTKT) registration dossiers down to the province's one-stop
 *       system: here a control call (`POST /__sandbox/dvclt/dossiers`) makes the simulated software send
 *       one to the province's address through the gateway, as the national side would;
 *   API "Cập nhật trạng thái hồ sơ DVCLT": the province reports status and result back. Mounted under
 *       `/vdxp/dvclt`: reached through VDXP, so only a VDXP token opens it.
 *
 * The seeds name the flow, not its fields (the contract is C06's "Tài liệu hướng dẫn kết nối DVCLT MCĐT -
 * HỘ TỊCH", not among them): the field names, the path and the states past the two the seed's test script
 * shows (1 "Hệ thống MCĐT đã nhận hồ sơ", 3 "Hồ sơ đủ điều kiện giải quyết") are assumptions, listed in
 * docs/domain-decisions.md. What the software enforces is what any such software must: it takes a status
 * only for a dossier it sent, and only in the order of its process.
 */

/** Answers in the platforms' shape (VDXP, like NDXP: `{responseCode, responseMessage}`). */
type Reply = { responseCode: string; responseMessage: string; data?: unknown };

/** The process states: seed 003 shows 1 and 3; the others are the assumption of docs/domain-decisions.md. */
export const DVCLT_STATES: Readonly<Record<number, string>> = {
  1: 'Hệ thống MCĐT đã nhận hồ sơ',
  2: 'Yêu cầu bổ sung hồ sơ',
  3: 'Hồ sơ đủ điều kiện giải quyết',
  4: 'Đã có kết quả giải quyết',
  5: 'Từ chối giải quyết',
};

/**
 * Which state may follow which: a dossier just sent can only be received (1); a supplement request (2)
 * goes back to received or on; a result (4) or a refusal (5) ends the process. A repeated state is
 * accepted unchanged (a retried call), anything else is out of sequence.
 */
export const DVCLT_NEXT: Readonly<Record<number, readonly number[]>> = {
  0: [1],
  1: [2, 3, 5],
  2: [1, 3, 5],
  3: [4, 5],
  4: [],
  5: [],
};

/** The two groups of linked procedures of connection No. 1, with the e-declaration form each uses (seed 003). */
export const DVCLT_MODULES: Readonly<Record<string, { maToKhai: string; ten: string }>> = {
  LTKS: { maToKhai: '01', ten: 'Nhóm TTLT về đăng ký khai sinh' },
  LTKT: { maToKhai: '02', ten: 'Nhóm TTLT về đăng ký khai tử' },
};

/** A dossier the simulated software sent down, with every status the province reported. */
export interface DvcltDossier {
  maHoSo: string;
  module: string;
  maDonVi: string;
  /** 0 until the province reports; then the last accepted state. */
  trangThai: number;
  history: { trangThai: number; thoiGian: string; noiDungXuLy: string }[];
  ketQua: unknown;
}

/** Where B1 sends dossiers: the province's inbound address (through the gateway) and the key it gave us. */
export interface DvcltProvince {
  url: string;
  apiKey: string;
}

export interface DvcltOptions {
  /**
   * The province's B1 address, read at send time (the embedded sandbox learns the gateway's port after it
   * starts). Fixed by whoever starts the sandbox, never by a control call: the sandbox posts nowhere else.
   */
  province?: () => DvcltProvince | undefined;
}

const ok = (responseMessage: string, data?: unknown): Reply => ({
  responseCode: '200',
  responseMessage,
  ...(data === undefined ? {} : { data }),
});
const refused = (code: string, responseMessage: string): Reply => ({ responseCode: code, responseMessage });

/** The PM DVCLT router (mounted at `/vdxp/dvclt`) and its control router (`/__sandbox/dvclt`). */
export function createDvclt(ctx: SandboxContext, options: DvcltOptions = {}) {
  const system = 'dvclt';
  const dossiers = new Map<string, DvcltDossier>();
  let counter = 0;
  const router: Router = express.Router();
  router.use(bodyParsers());
  router.use(
    requireBearer(ctx, system, ['vdxp'], (problem) =>
      refused('401', `Xác thực VDXP không thành công: ${describeTokenProblem(problem)}`),
    ),
  );

  // ASSUMPTION (docs/domain-decisions.md): the path and fields of "Cập nhật trạng thái hồ sơ DVCLT".
  router.post('/capNhatTrangThaiHoSo', (req: Request, res: Response) => {
    const client = (res.locals.client as string) ?? null;
    const reply = (status: number, r: Reply) =>
      answer(ctx, system, 'capNhatTrangThaiHoSo', req, res, status, r, client);
    const b = req.body as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || Array.isArray(b))
      return reply(400, refused('400', 'Dữ liệu phải là một đối tượng JSON'));
    for (const field of ['maHoSo', 'trangThai', 'thoiGian', 'noiDungXuLy']) {
      if (b[field] === undefined || b[field] === null || b[field] === '')
        return reply(400, refused('400', `Thiếu trường bắt buộc: ${field}`));
    }
    const dossier = typeof b.maHoSo === 'string' ? dossiers.get(b.maHoSo) : undefined;
    if (!dossier) return reply(404, refused('404', `Hồ sơ ${String(b.maHoSo)} không do PM DVCLT đồng bộ về tỉnh`));
    const state = b.trangThai;
    if (typeof state !== 'number' || !Number.isInteger(state) || DVCLT_STATES[state] === undefined) {
      return reply(400, refused('400', `trangThai phải là một trong ${Object.keys(DVCLT_STATES).join(', ')}`));
    }
    if (typeof b.thoiGian !== 'string' || !matchesDateFormat(b.thoiGian, 'dd/MM/yyyy HH:mm:ss')) {
      return reply(400, refused('400', 'thoiGian phải có dạng dd/MM/yyyy HH:mm:ss'));
    }
    if (b.maDonVi !== undefined && b.maDonVi !== dossier.maDonVi) {
      return reply(
        400,
        refused('400', `maDonVi "${String(b.maDonVi)}" không phải đơn vị của hồ sơ (${dossier.maDonVi})`),
      );
    }
    if (state === dossier.trangThai)
      return reply(200, ok('Trạng thái không đổi', { maHoSo: dossier.maHoSo, trangThai: state }));
    if (!DVCLT_NEXT[dossier.trangThai].includes(state)) {
      const next = DVCLT_NEXT[dossier.trangThai];
      return reply(
        409,
        refused(
          '409',
          `Trạng thái ${state} không tiếp theo được trạng thái ${dossier.trangThai} của hồ sơ ${dossier.maHoSo}` +
            (next.length ? ` (chỉ: ${next.join(', ')})` : ' (hồ sơ đã kết thúc)'),
        ),
      );
    }
    // A result (4) carries the result of the civil-status software (B5: birth certificate number or death extract).
    const result = b.ketQua as Record<string, unknown> | undefined;
    if (
      state === 4 &&
      (typeof result !== 'object' || result === null || typeof result.soGiayTo !== 'string' || result.soGiayTo === '')
    ) {
      return reply(400, refused('400', 'Trạng thái 4 cần ketQua.soGiayTo (số giấy khai sinh / trích lục khai tử)'));
    }
    dossier.trangThai = state;
    dossier.history.push({ trangThai: state, thoiGian: b.thoiGian, noiDungXuLy: String(b.noiDungXuLy) });
    if (state === 4) dossier.ketQua = result;
    reply(200, ok('Cập nhật trạng thái thành công', { maHoSo: dossier.maHoSo, trangThai: state }));
  });

  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    answer(
      ctx,
      system,
      'capNhatTrangThaiHoSo',
      req,
      res,
      400,
      refused('400', 'Dữ liệu gửi lên không phải JSON hợp lệ'),
    );
  });

  /** Sandbox control: play PM DVCLT and send a dossier down (B1), or read what the province reported. */
  const control: Router = express.Router();
  control.use(express.json());
  control.get('/dossiers', (_req, res) => {
    res.json([...dossiers.values()]);
  });
  control.post('/dossiers', async (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const module = typeof b.module === 'string' ? b.module : 'LTKS';
    const kind = DVCLT_MODULES[module];
    if (!kind)
      return void res.status(400).json({ error: `module phải là ${Object.keys(DVCLT_MODULES).join(' hoặc ')}` });
    const province = options.province?.();
    if (!province)
      return void res.status(409).json({ error: 'sandbox started without the province address (dvclt.province)' });
    counter += 1;
    const maHoSo =
      typeof b.maHoSo === 'string'
        ? b.maHoSo
        : `000.00.00.H99-${String(ctx.clock.now()).slice(-6)}-${String(counter).padStart(4, '0')}`;
    const maDonVi = typeof b.maDonVi === 'string' ? b.maDonVi : '07219';
    const dossier = {
      maHoSo,
      module,
      maToKhai: kind.maToKhai,
      maDonVi,
      maTinh: typeof b.maTinh === 'string' ? b.maTinh : '24',
      ngayNopHoSo: vnTimestamp(ctx.clock.now()),
      data: (typeof b.data === 'object' && b.data !== null ? b.data : { hoTen: 'Trần Thị Mai' }) as unknown,
      fileDinhKem: [],
    };
    let status = 0;
    let body: unknown = null;
    try {
      ({ status, body } = await postToGateway(province.url, province.apiKey, dossier, 10_000));
    } catch (err) {
      body = String(err);
    }
    // Sent means the province took it: only then does PM DVCLT wait for its statuses.
    const delivered = status >= 200 && status < 300;
    if (delivered) dossiers.set(maHoSo, { maHoSo, module, maDonVi, trangThai: 0, history: [], ketQua: null });
    ctx.received.record(system, {
      method: 'POST',
      path: '/__sandbox/dvclt/dossiers',
      operation: 'B1-dongBoHoSo',
      client: null,
      body: dossier,
      response: { status, body },
    });
    res.status(delivered ? 201 : 502).json({ dossier, delivered, province: { status, body } });
  });
  control.delete('/dossiers', (_req, res) => {
    const n = dossiers.size;
    dossiers.clear();
    res.json({ cleared: n });
  });

  return { router, control, dossiers: (): readonly DvcltDossier[] => [...dossiers.values()] };
}
