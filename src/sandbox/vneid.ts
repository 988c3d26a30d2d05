import { generateKeyPairSync, randomBytes } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { compactVerify } from 'jose/jws/compact/verify';
import { decodeJwt } from 'jose/jwt/decode';
import { SignJWT } from 'jose/jwt/sign';
import { answer, postToGateway, type SandboxContext } from './context.ts';
import { bodyParsers, operationOf, requireBearer } from './platform.ts';
import { DEMO_IDS, type Citizen, type PopulationIndex } from './population-data.ts';
import { bearerToken, describeTokenProblem } from './tokens.ts';

/**
 * Simulated VNeID identification system (seed 001).
 *
 * Part C, QR look-up for one-stop counters (reached through NDXP, so an NDXP Bearer token):
 *   POST /vneid/dinhdanh/1.0/traCuuThongTinCongDan  {qrID}
 *     -> {responseCode, responseMessage, data: {soDinhDanh, hoVaTen, gioiTinh, ngayThangNamSinh, noiThuongTru},
 *         signedData: <compact JWS, ES256, of the same data>}
 *   A QR code lives one minute (§V.1); the citizen must approve sharing in the app (steps B8–B10).
 *   The signing keys: GET /vneid/.well-known/jwks.json.
 *
 * Part A, OIDC SSO for officials (§6.1): /vneid/auth, the token endpoint
 * /vneid/api/idp/auth/realms/citizen/protocol/openid-connect/token (client_id and client_secret in the
 * form body), userinfo /vneid/api/idp/third-party/userinfo (loAS as a JSON string), logout
 * /vneid/api/idp/sso/logout.
 */

/** How long a QR code stays valid (seed 001 part C §V.1: "01 phút"). */
export const QR_LIFETIME_MS = 60_000;
/** How long an SSO authorization code stays valid. */
export const AUTH_CODE_LIFETIME_MS = 60_000;

export type ConsentState = 'pending' | 'approved' | 'refused';

export interface QrCode {
  qrID: string;
  soDinhDanh: string;
  state: ConsentState;
  createdAt: number;
  /** Fixed demo codes never expire (except DEMO-QR-EXPIRED, always expired) so README examples keep working. */
  fixed?: 'never-expires' | 'always-expired';
}

/** Well-known QR ids for the README curl examples. */
export const DEMO_QR = {
  approved: { qrID: 'DEMO-QR-APPROVED', soDinhDanh: DEMO_IDS.nguyenVanMinh, state: 'approved' },
  pending: { qrID: 'DEMO-QR-PENDING', soDinhDanh: DEMO_IDS.leThiMai, state: 'pending' },
  refused: { qrID: 'DEMO-QR-REFUSED', soDinhDanh: DEMO_IDS.buiThiThao, state: 'refused' },
  expired: { qrID: 'DEMO-QR-EXPIRED', soDinhDanh: DEMO_IDS.tranThiHuong, state: 'approved' },
} as const;

const ISSUER_PATH = '/vneid';
/** ASSUMPTION: the shipped inbound route of part B §III (config/routes/vneid.yaml); the seed gives no path. */
const DOCUMENT_REQUEST_PATH = '/csdlcn/vneid/traCuuGiayTo';
const TOKEN_PATH = '/api/idp/auth/realms/citizen/protocol/openid-connect/token';
const USERINFO_PATH = '/api/idp/third-party/userinfo';
const LOGOUT_PATH = '/api/idp/sso/logout';

/** The QR answer's `data` (seed 001 part C §5.3), field lengths as the table gives them. */
export function qrData(c: Citizen): Record<string, string> {
  return {
    soDinhDanh: c.soDinhDanh,
    hoVaTen: c.hoVaTen.slice(0, 100),
    gioiTinh: c.gioiTinh,
    ngayThangNamSinh: c.ngayThangNamSinh,
    noiThuongTru: c.noiThuongTru.slice(0, 100),
  };
}

/** Whether a citizen can show a VNeID QR code or log in: alive, with a level 1 or 2 account. */
function hasVneidAccount(c: Citizen | undefined): c is Citizen {
  return c !== undefined && c.tinhTrang === 'CON_SONG' && c.mucDinhDanh > 0;
}

/**
 * Where the sandbox's identification system reaches the province for part B (seed 001 §III): the
 * gateway's inbound route, called with the key of the national side's consumer.
 */
export interface VneidPartBOptions {
  /** The gateway's base URL (known once it listens); undefined = the part B caller is not available. */
  gatewayUrl?: () => string | undefined;
  /** ASSUMPTION: the route path of the shipped config (config/routes/vneid.yaml); the seed gives none. */
  documentRequestPath?: string;
  /** The API key of consumer `vneid-ndxp` (the sandbox default of config/consumers.yaml). */
  apiKey?: string;
}

/** The sandbox key of the national side calling in (config/consumers.yaml, `vneid-ndxp`). Sandbox only. */
export const DEMO_VNEID_INBOUND_KEY = 'lgsp-demo-vneid-inbound-2026';

/** A document the identification system integrated from a sector database (part B, B5), by citizen. */
type IntegratedDocuments = Map<string, Record<string, unknown>[]>;

/** The VNeID router (mounted at `/vneid`), its sandbox control router, and its signing key's JWKS. */
export function createVneid(ctx: SandboxContext, people: PopulationIndex, partB: VneidPartBOptions = {}) {
  const system = 'vneid';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const kid = `vneid-sandbox-${randomBytes(4).toString('hex')}`;
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] };

  const qrCodes = new Map<string, QrCode>();
  for (const demo of Object.values(DEMO_QR)) {
    qrCodes.set(demo.qrID, {
      ...demo,
      createdAt: ctx.clock.now(),
      fixed: demo.qrID === DEMO_QR.expired.qrID ? 'always-expired' : 'never-expires',
    });
  }
  const codes = new Map<
    string,
    { clientId: string; redirectUri: string; soDinhDanh: string; nonce?: string; expiresAt: number }
  >();

  const expired = (qr: QrCode): boolean =>
    qr.fixed === 'always-expired' || (qr.fixed === undefined && ctx.clock.now() - qr.createdAt >= QR_LIFETIME_MS);

  const issuerUrl = (req: Request): string => `${req.protocol}://${req.get('host')}${req.baseUrl || ISSUER_PATH}`;

  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' });

  const router: Router = express.Router();
  router.use(bodyParsers());

  router.get('/.well-known/jwks.json', (_req, res) => {
    res.json(jwks);
  });
  router.get('/.well-known/openid-configuration', (req, res) => {
    const base = issuerUrl(req);
    res.json({
      issuer: base,
      authorization_endpoint: `${base}/auth`,
      token_endpoint: `${base}${TOKEN_PATH}`,
      userinfo_endpoint: `${base}${USERINFO_PATH}`,
      end_session_endpoint: `${base}${LOGOUT_PATH}`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['client_secret_post'],
    });
  });

  // ---- Part C: QR look-up -------------------------------------------------------------------------
  const qrReject = (problem: Parameters<typeof describeTokenProblem>[0]) => ({
    responseCode: '401',
    responseMessage: describeTokenProblem(problem),
    data: null,
  });
  router.post(
    '/dinhdanh/1.0/traCuuThongTinCongDan',
    requireBearer(ctx, system, ['ndxp'], qrReject),
    async (req: Request, res: Response) => {
      const client = (res.locals.client as string) ?? null;
      const reply = (status: number, body: unknown) =>
        answer(ctx, system, 'traCuuThongTinCongDan', req, res, status, body, client);
      const qrID = (req.body as Record<string, unknown> | undefined)?.qrID;
      if (typeof qrID !== 'string' || qrID.trim() === '') {
        return reply(400, { responseCode: '400', responseMessage: 'Thiếu qrID', data: null });
      }
      const qr = qrCodes.get(qrID);
      const citizen = qr ? people.byId(qr.soDinhDanh) : undefined;
      // B4.1: an unknown QR is "not correct"; the officer falls back to the ID card (B5–B7).
      if (!qr || !citizen)
        return reply(200, { responseCode: '404', responseMessage: 'Mã QR không chính xác', data: null });
      if (expired(qr)) {
        return reply(200, {
          responseCode: '410',
          responseMessage: 'Mã QR đã hết hạn, công dân cần tạo mã mới',
          data: null,
        });
      }
      if (qr.state === 'pending') {
        return reply(200, {
          responseCode: '202',
          responseMessage: 'Đang chờ công dân xác nhận đồng ý chia sẻ thông tin trên ứng dụng VNeID',
          data: null,
        });
      }
      if (qr.state === 'refused') {
        return reply(200, {
          responseCode: '403',
          responseMessage: 'Công dân không đồng ý chia sẻ thông tin',
          data: null,
        });
      }
      // B10: the identification system signs the data it returns (JWS, §V.2).
      const data = qrData(citizen);
      const signedData = await sign({ ...data, jti: qr.qrID })
        .setIssuer(issuerUrl(req))
        .setIssuedAt(Math.floor(ctx.clock.now() / 1000))
        .sign(privateKey);
      reply(200, { responseCode: '200', responseMessage: 'Thành công', data, signedData });
    },
  );

  // ---- Part B: documents from provincial sector databases ----------------------------------------------
  // B5 of §III: what the sector databases returned, kept per citizen; §IV B2–B3: an update is checked
  // against it (a document never integrated cannot be "changed") and applied.
  const integrated: IntegratedDocuments = new Map();
  router.post(
    '/dinhdanh/1.0/capNhatThongTinGiayTo',
    requireBearer(ctx, system, ['ndxp'], qrReject),
    (req: Request, res: Response) => {
      const reply = (status: number, body: unknown) =>
        answer(ctx, system, 'capNhatThongTinGiayTo', req, res, status, body, (res.locals.client as string) ?? null);
      const b = (req.body ?? {}) as Record<string, unknown>;
      const doc = b.giayTo as Record<string, unknown> | undefined;
      if (typeof b.soDinhDanh !== 'string' || !/^[0-9]{12}$/.test(b.soDinhDanh)) {
        return reply(400, { responseCode: '400', responseMessage: 'soDinhDanh phải gồm đúng 12 chữ số' });
      }
      if (
        doc === null ||
        typeof doc !== 'object' ||
        typeof doc.loaiGiayTo !== 'string' ||
        typeof doc.soGiayTo !== 'string' ||
        doc.soGiayTo.trim() === ''
      ) {
        return reply(400, { responseCode: '400', responseMessage: 'Thiếu giayTo.loaiGiayTo hoặc giayTo.soGiayTo' });
      }
      if (!hasVneidAccount(people.byId(b.soDinhDanh))) {
        return reply(200, { responseCode: '404', responseMessage: 'Công dân không có tài khoản định danh điện tử' });
      }
      const held = integrated.get(b.soDinhDanh) ?? [];
      const at = held.findIndex((d) => d.loaiGiayTo === doc.loaiGiayTo);
      if (at === -1) {
        return reply(200, {
          responseCode: '404',
          responseMessage: 'Giấy tờ này chưa được tích hợp vào tài khoản định danh: không có gì để cập nhật',
        });
      }
      held[at] = { ...held[at], ...doc };
      reply(200, { responseCode: '200', responseMessage: 'Đã cập nhật thông tin giấy tờ' });
    },
  );

  // ---- Part A: OIDC SSO ---------------------------------------------------------------------------
  const oidcError = (req: Request, res: Response, status: number, error: string, description: string): void =>
    answer(ctx, system, operationOf(req), req, res, status, { error, error_description: description });

  router.get('/auth', (req: Request, res: Response) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.client_id !== ctx.credentials.vneid.clientId)
      return oidcError(req, res, 400, 'unauthorized_client', 'client_id không đúng');
    if (q.response_type !== 'code')
      return oidcError(req, res, 400, 'unsupported_response_type', 'response_type phải là code');
    if (!q.redirect_uri || !/^https?:\/\//.test(q.redirect_uri))
      return oidcError(req, res, 400, 'invalid_request', 'Thiếu redirect_uri');
    // No login form in the sandbox: `login_hint` names the demo citizen who "logs in".
    const citizen = people.byId(q.login_hint ?? DEMO_IDS.nguyenVanMinh);
    if (!hasVneidAccount(citizen))
      return oidcError(req, res, 400, 'access_denied', 'Công dân không có tài khoản định danh điện tử');
    const code = randomBytes(18).toString('base64url');
    codes.set(code, {
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      soDinhDanh: citizen.soDinhDanh,
      nonce: q.nonce,
      expiresAt: ctx.clock.now() + AUTH_CODE_LIFETIME_MS,
    });
    const target = new URL(q.redirect_uri);
    target.searchParams.set('code', code);
    if (q.state !== undefined) target.searchParams.set('state', q.state);
    ctx.received.record(system, {
      method: req.method,
      path: req.path,
      operation: 'auth',
      client: q.client_id,
      body: null,
      response: { status: 302, body: { redirect: q.redirect_uri } },
    });
    res.redirect(302, target.toString());
  });

  router.post(TOKEN_PATH, async (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    res.set('Cache-Control', 'no-store');
    const { clientId, clientSecret } = ctx.credentials.vneid;
    const record = (status: number, body: unknown, client: string | null) => {
      ctx.received.record(system, {
        method: req.method,
        path: req.originalUrl,
        operation: 'token',
        client,
        body: {
          ...b,
          ...(b.client_secret ? { client_secret: '[REDACTED]' } : {}),
          ...(b.code ? { code: '[REDACTED]' } : {}),
        },
        response: { status, body: status === 200 ? { token_type: 'Bearer' } : body },
      });
      res.status(status).json(body);
    };
    // Seed 001 §6.1: the client id and secret C06 issues; this endpoint wants them in the form body.
    if (b.client_id !== clientId || b.client_secret !== clientSecret) {
      return record(
        401,
        { error: 'invalid_client', error_description: 'client_id/client_secret không đúng (gửi trong form body)' },
        null,
      );
    }
    if (b.grant_type !== 'authorization_code') return record(400, { error: 'unsupported_grant_type' }, clientId);
    const grant = b.code ? codes.get(b.code) : undefined;
    if (b.code) codes.delete(b.code); // single use
    if (
      !grant ||
      grant.expiresAt <= ctx.clock.now() ||
      grant.clientId !== clientId ||
      grant.redirectUri !== b.redirect_uri
    ) {
      return record(
        400,
        { error: 'invalid_grant', error_description: 'Mã code không hợp lệ, đã dùng, hết hạn hoặc sai redirect_uri' },
        clientId,
      );
    }
    const issued = ctx.tokens.issue(system, grant.soDinhDanh, ctx.tokenLifetimeSeconds);
    const now = Math.floor(ctx.clock.now() / 1000);
    const idToken = await sign({ ...(grant.nonce ? { nonce: grant.nonce } : {}) })
      .setIssuer(issuerUrl(req))
      .setSubject(grant.soDinhDanh)
      .setAudience(clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + ctx.tokenLifetimeSeconds)
      .sign(privateKey);
    record(
      200,
      {
        access_token: issued.token,
        token_type: 'Bearer',
        expires_in: ctx.tokenLifetimeSeconds,
        id_token: idToken,
        scope: 'openid',
      },
      clientId,
    );
  });

  const userinfo = (req: Request, res: Response): void => {
    const subject = res.locals.client as string;
    const c = people.byId(subject);
    if (!c) return oidcError(req, res, 401, 'invalid_token', 'Tài khoản không còn tồn tại');
    const claims: Record<string, string> = {
      SoDinhDanh: c.soDinhDanh,
      HoVaTen: c.hoVaTen,
      NgayThangNamSinh: c.ngayThangNamSinh,
      LoaiTaiKhoan: '1',
    };
    const body: Record<string, string> = { ...claims };
    // Seed 001 part A §7: loAS is a JSON *string*; level 2 = account level 1, level 3 = account level 2;
    // only for level-1/level-2 accounts.
    if (c.mucDinhDanh > 0) {
      const level = c.mucDinhDanh + 1;
      body.loAS = JSON.stringify(
        Object.entries(claims).map(([name, value]) => ({
          level,
          claim: { [name]: value, src: 'Bca', validDate: null, expiredDate: null },
        })),
      );
    }
    answer(ctx, system, 'userinfo', req, res, 200, body, subject);
  };
  const userinfoAuth = requireBearer(ctx, system, [system]);
  router.get(USERINFO_PATH, userinfoAuth, userinfo);
  router.post(USERINFO_PATH, userinfoAuth, userinfo);

  const logout = async (req: Request, res: Response): Promise<void> => {
    const p = {
      ...(req.query as Record<string, string | undefined>),
      ...((req.body ?? {}) as Record<string, string | undefined>),
    };
    let subject: string | undefined;
    if (p.id_token_hint) {
      try {
        // The signature must be ours; an expired id_token is still a valid hint (OIDC RP-initiated logout).
        await compactVerify(p.id_token_hint, publicKey);
        subject = decodeJwt(p.id_token_hint).sub;
      } catch {
        return oidcError(req, res, 400, 'invalid_request', 'id_token_hint không hợp lệ');
      }
    } else {
      const check = ctx.tokens.check(bearerToken(req.get('authorization')), [system]);
      if (check.ok) subject = check.token.subject;
    }
    if (!subject) return oidcError(req, res, 400, 'invalid_request', 'Cần id_token_hint hoặc access token');
    const revoked = ctx.tokens.revokeSubject(system, subject);
    if (p.post_logout_redirect_uri && /^https?:\/\//.test(p.post_logout_redirect_uri)) {
      const target = new URL(p.post_logout_redirect_uri);
      if (p.state !== undefined) target.searchParams.set('state', p.state);
      ctx.received.record(system, {
        method: req.method,
        path: req.path,
        operation: 'logout',
        client: subject,
        body: null,
        response: { status: 302, body: { redirect: p.post_logout_redirect_uri } },
      });
      return res.redirect(302, target.toString());
    }
    answer(ctx, system, 'logout', req, res, 200, { message: 'Đăng xuất thành công', revokedTokens: revoked }, subject);
  };
  router.get(LOGOUT_PATH, logout);
  router.post(LOGOUT_PATH, logout);

  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    answer(ctx, system, operationOf(req), req, res, 400, {
      responseCode: '400',
      responseMessage: 'Dữ liệu gửi lên không phải JSON hợp lệ',
      data: null,
    });
  });

  // ---- Sandbox control: make QR codes in any consent state, answer consent as the citizen -----------
  const control: Router = express.Router();
  control.use(express.json());
  control.get('/qr', (_req, res) => {
    res.json([...qrCodes.values()].map((qr) => ({ ...qr, expired: expired(qr) })));
  });
  control.post('/qr', (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const state = (b.state ?? 'approved') as ConsentState;
    if (!['pending', 'approved', 'refused'].includes(state)) {
      return void res.status(400).json({ error: 'state phải là pending, approved hoặc refused' });
    }
    const id = typeof b.soDinhDanh === 'string' ? b.soDinhDanh : DEMO_IDS.nguyenVanMinh;
    const citizen = people.byId(id);
    if (!hasVneidAccount(citizen)) {
      return void res
        .status(400)
        .json({ error: 'Công dân không tồn tại, đã chết/mất tích hoặc chưa có tài khoản VNeID' });
    }
    const qr: QrCode = {
      qrID: `QR-${randomBytes(8).toString('hex').toUpperCase()}`,
      soDinhDanh: citizen.soDinhDanh,
      state,
      createdAt: ctx.clock.now(),
    };
    qrCodes.set(qr.qrID, qr);
    res.status(201).json({ ...qr, expiresAt: new Date(qr.createdAt + QR_LIFETIME_MS).toISOString() });
  });
  control.post('/qr/:qrID/consent', (req: Request, res: Response) => {
    const qr = qrCodes.get(String(req.params.qrID));
    const state = (req.body ?? {}).state;
    if (!qr) return void res.status(404).json({ error: 'Không có mã QR này' });
    if (qr.fixed) return void res.status(409).json({ error: 'Mã QR mẫu cố định, không đổi được trạng thái' });
    if (state !== 'approved' && state !== 'refused') {
      return void res.status(400).json({ error: 'state phải là approved hoặc refused' });
    }
    qr.state = state;
    res.json({ ...qr, expired: expired(qr) });
  });

  // Part B §III, played by the sandbox: "the identification system asks a sector database" through the
  // gateway's inbound route, as NDXP would deliver it, and keeps what comes back (B5).
  control.post('/yeuCauGiayTo', async (req: Request, res: Response) => {
    const base = partB.gatewayUrl?.();
    if (!base) return void res.status(503).json({ error: 'Sandbox không biết địa chỉ của cổng (gatewayUrl)' });
    const b = (req.body ?? {}) as Record<string, unknown>;
    const soDinhDanh = typeof b.soDinhDanh === 'string' ? b.soDinhDanh : DEMO_IDS.nguyenVanMinh;
    if (!hasVneidAccount(people.byId(soDinhDanh))) {
      return void res.status(400).json({ error: 'Công dân không có tài khoản định danh điện tử' });
    }
    const body = { soDinhDanh, ...pick(b, ['loaiGiayTo', 'soGiayTo']) };
    let sent: { status: number; body: unknown };
    try {
      const url = `${base}${partB.documentRequestPath ?? DOCUMENT_REQUEST_PATH}`;
      sent = await postToGateway(url, partB.apiKey ?? DEMO_VNEID_INBOUND_KEY, body, 30_000);
    } catch (err) {
      return void res.status(502).json({ error: `Không gọi được cổng: ${(err as Error).message}` });
    }
    const status = sent.status;
    const answered = typeof sent.body === 'string' ? sent.body.slice(0, 2000) : sent.body;
    const result = answered as { responseCode?: unknown; data?: { giayTo?: unknown } } | null;
    if (status === 200 && result?.responseCode === '200' && Array.isArray(result.data?.giayTo)) {
      const docs = result.data.giayTo.filter((d): d is Record<string, unknown> => d !== null && typeof d === 'object');
      const held = integrated.get(soDinhDanh) ?? [];
      for (const doc of docs) {
        const at = held.findIndex((d) => d.loaiGiayTo === doc.loaiGiayTo);
        if (at === -1) held.push({ ...doc });
        else held[at] = { ...doc };
      }
      integrated.set(soDinhDanh, held);
    }
    res.json({ status, body: answered });
  });
  control.get('/giayTo', (_req, res) => {
    res.json(Object.fromEntries(integrated));
  });

  return { router, control, jwks };
}

function pick(from: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (typeof from[key] === 'string') out[key] = from[key];
  return out;
}
