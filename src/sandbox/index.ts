import type { AddressInfo } from 'node:net';
import { provincialRouter, sectorDatabaseRouter, type SectorDocument } from './provincial.ts';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { systemClock, type Clock } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { SandboxContext, SandboxCredentials } from './context.ts';
import { createDvclt, type DvcltOptions } from './dvclt.ts';
import { createFaults } from './faults.ts';
import { createHotich, type HotichOptions } from './hotich.ts';
import { molisaRouter, type MolisaOptions } from './molisa.ts';
import { bodyParsers, requireBearer, tokenEndpoint } from './platform.ts';
import { POPULATION_SERVICES, populationRouter } from './population.ts';
import { DEMO_IDS, PopulationIndex, buildPopulation } from './population-data.ts';
import { ReceivedLog } from './received-log.ts';
import { TokenStore } from './tokens.ts';
import { DEMO_QR, createVneid, type VneidPartBOptions } from './vneid.ts';

export type { SandboxCredentials } from './context.ts';

/**
 * The sandbox: simulated national systems (NDXP and VDXP platforms with the C06 population services,
 * VNeID, the MOJ civil-status software, MOLISA) on one Express app, each under its own prefix, so a
 * province can run the gateway end to end before C06 issues it a single key (issue 6 §2).
 * It must never run in production: createSandbox throws there.
 */

export interface SandboxOptions {
  /** Time source for every expiry (tokens, QR codes, SSO codes). Default: the system clock. */
  clock?: Clock;
  /** The gateway config's `environment`; `production` refuses to build a sandbox. */
  environment?: string;
  /** Overrides of the demo credentials (DEFAULT_CREDENTIALS), per system. */
  credentials?: Partial<SandboxCredentials>;
  /** Lifetime of every token the sandbox issues. Default 3600 s (the usual API-manager value, domain.md §4). */
  tokenLifetimeSeconds?: number;
  logger?: Logger;
  /** MOLISA behaviour: HTTP status of an AccessKey failure, unknown-field policy, date layouts. */
  molisa?: MolisaOptions;
  /** Civil-status behaviour: the registering units the demo account belongs to. */
  hotich?: HotichOptions;
  /** PM DVCLT (linked services, seed 003 connection No. 1): where it sends dossiers down (B1). */
  dvclt?: DvcltOptions;
  /** Generated households added to the demo ones (default 8). */
  extraHouseholds?: number;
  /**
   * VNeID part B (seed 001): where the simulated identification system and sector database reach the
   * gateway (its URL once it listens), and the consumer keys they call with (sandbox defaults otherwise).
   */
  partB?: VneidPartBOptions & { sectorDatabaseApiKey?: string };
}

export interface Sandbox {
  app: Express;
  /** What one simulated system (`ndxp`, `vdxp`, `molisa`, `hotich`, `vneid`) received, oldest first. */
  received(system: string): unknown[];
  credentials: SandboxCredentials;
}

/** The demo credentials (docs/sandbox.md). Sandbox-only values, never valid anywhere real. */
export const DEFAULT_CREDENTIALS: Readonly<SandboxCredentials> = Object.freeze({
  ndxp: { consumerKey: 'sandbox-ndxp-key', consumerSecret: 'sandbox-ndxp-secret' },
  vdxp: { consumerKey: 'sandbox-vdxp-key', consumerSecret: 'sandbox-vdxp-secret' },
  hotich: { consumerKey: 'sandbox-hotich-key', consumerSecret: 'sandbox-hotich-secret' },
  molisa: { username: 'sandbox-molisa', password: 'sandbox-molisa-password' },
  vneid: { clientId: 'sandbox-vneid-client', clientSecret: 'sandbox-vneid-secret' },
});

/** The simulated systems and the prefix each lives under. */
export const SANDBOX_SYSTEMS = ['ndxp', 'vdxp', 'molisa', 'hotich', 'vneid', 'dvclt', 'mcdt', 'dvc', 'csdlcn'] as const;

/** The sandbox key of the provincial sector database as a consumer of the gateway (config/consumers.yaml). */
export const DEMO_SECTOR_DB_KEY = 'lgsp-demo-csdlcn-key-2026';

/** ASSUMPTION: the shipped outbound route of part B §IV (config/routes/vneid.yaml); the seed gives no path. */
const DOCUMENT_UPDATE_PATH = '/vneid/dinhdanh/1.0/capNhatThongTinGiayTo';

/** The sandbox sector database's documents (synthetic): one citizen with each kind, the others with none. */
function demoSectorDocuments(): Map<string, SectorDocument[]> {
  return new Map([
    [
      DEMO_IDS.nguyenVanMinh,
      [
        {
          loaiGiayTo: 'GCN_QSDD',
          soGiayTo: 'CS 01234',
          ngayCap: '20190315',
          noiCap: 'Sở Tài nguyên và Môi trường',
          ngayHetHan: null,
        },
      ],
    ],
    [
      DEMO_IDS.tranThiHuong,
      [
        {
          loaiGiayTo: 'CCHN_Y',
          soGiayTo: '000123/CCHN',
          ngayCap: '20200601',
          noiCap: 'Sở Y tế',
          ngayHetHan: '20250601',
        },
      ],
    ],
  ]);
}

/** Thrown when something asks for a sandbox in production. */
export class SandboxInProductionError extends Error {
  constructor(reason: string) {
    super(`The sandbox of simulated national systems must never run in production (${reason})`);
    this.name = 'SandboxInProductionError';
  }
}

const isProduction = (value: string | undefined): boolean => value?.trim().toLowerCase() === 'production';

/** Builds the sandbox app. Throws SandboxInProductionError when NODE_ENV or `environment` is production. */
export function createSandbox(options: SandboxOptions = {}): Sandbox {
  if (isProduction(process.env.NODE_ENV)) throw new SandboxInProductionError('NODE_ENV=production');
  if (isProduction(options.environment)) throw new SandboxInProductionError('config environment is production');
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  if (!Number.isFinite(lifetime) || lifetime <= 0)
    throw new RangeError('tokenLifetimeSeconds must be a positive number');

  const clock = options.clock ?? systemClock;
  const credentials: SandboxCredentials = {
    ndxp: { ...DEFAULT_CREDENTIALS.ndxp, ...options.credentials?.ndxp },
    vdxp: { ...DEFAULT_CREDENTIALS.vdxp, ...options.credentials?.vdxp },
    hotich: { ...DEFAULT_CREDENTIALS.hotich, ...options.credentials?.hotich },
    molisa: { ...DEFAULT_CREDENTIALS.molisa, ...options.credentials?.molisa },
    vneid: { ...DEFAULT_CREDENTIALS.vneid, ...options.credentials?.vneid },
  };
  const ctx: SandboxContext = {
    clock,
    tokens: new TokenStore(clock),
    received: new ReceivedLog(clock),
    credentials,
    tokenLifetimeSeconds: lifetime,
    logger: options.logger,
  };
  const people = new PopulationIndex(buildPopulation(options.extraHouseholds ?? 8));
  const hotich = createHotich(ctx, options.hotich);
  const vneid = createVneid(ctx, people, options.partB);
  const sectorDocuments = demoSectorDocuments();
  const dvclt = createDvclt(ctx, options.dvclt);
  const molisa = molisaRouter(ctx, options.molisa, (card) => people.byCard(card));

  // Fault switches (PUT /__sandbox/<system>/fault): the system fails, hangs or is down until recovered.
  const faults = createFaults(ctx);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

  // Reached through VDXP (mounted before the platform's own router): PM DVCLT (seed 003 connection No. 1)
  // and MOLISA (seed 004: "qua nền tảng VDXP"); VDXP lets through only a call with its own token.
  app.use('/vdxp/dvclt', dvclt.router);
  app.use('/vdxp/molisa', faults.gate('molisa'), requireBearer(ctx, 'vdxp', ['vdxp']), molisa);
  for (const platform of ['ndxp', 'vdxp'] as const) {
    const router = express.Router();
    router.use(bodyParsers());
    router.post(
      '/token',
      tokenEndpoint(ctx, platform, () => credentials[platform]),
    );
    router.use(populationRouter(ctx, platform, people));
    router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
      if (res.headersSent) return next(err);
      const status = (err as { status?: number }).status ?? 400;
      res.status(status).json({
        maYeuCau: null,
        responseCode: String(status),
        responseMessage: 'Dữ liệu gửi lên không phải JSON hợp lệ',
        data: null,
      });
    });
    app.use(`/${platform}`, router);
  }
  app.use('/molisa', faults.gate('molisa'), molisa);
  app.use('/hotich', faults.gate('hotich'), hotich.router);
  app.use('/vneid', vneid.router);
  app.use('/tinh/mcdt', provincialRouter(ctx, 'mcdt'));
  app.use('/tinh/dvc', provincialRouter(ctx, 'dvc'));
  app.use('/tinh/csdlcn', sectorDatabaseRouter(ctx, sectorDocuments));

  // ---- /__sandbox: index, received logs, controls ------------------------------------------------
  app.get('/__sandbox', (req: Request, res: Response) => {
    res.json(describe(`${req.protocol}://${req.get('host')}`, credentials, people, hotich.units, lifetime));
  });
  app.use('/__sandbox', faults.control);
  app.use('/__sandbox/hotich', hotich.control);
  app.use('/__sandbox/vneid', vneid.control);
  app.use('/__sandbox/dvclt', dvclt.control);
  // Part B §IV, played by the sandbox: a document changes in the sector database, which sends the change
  // to the identification system through the gateway (the sector database is a consumer of the gateway).
  app.post('/__sandbox/csdlcn/giayTo', express.json(), async (req: Request, res: Response) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const held = typeof b.soDinhDanh === 'string' ? sectorDocuments.get(b.soDinhDanh) : undefined;
    const doc = held?.find((d) => d.loaiGiayTo === b.loaiGiayTo);
    if (!doc) return void res.status(404).json({ error: 'CSDL chuyên ngành không có giấy tờ này của công dân' });
    for (const key of ['soGiayTo', 'ngayCap', 'noiCap', 'ngayHetHan'] as const) {
      const value = (b.thayDoi as Record<string, unknown> | undefined)?.[key];
      if (typeof value === 'string' || (key === 'ngayHetHan' && value === null)) doc[key] = value as string;
    }
    const base = options.partB?.gatewayUrl?.();
    if (!base) return void res.json({ giayTo: doc, sent: false });
    try {
      const sent = await fetch(`${base}${DOCUMENT_UPDATE_PATH}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': options.partB?.sectorDatabaseApiKey ?? DEMO_SECTOR_DB_KEY,
        },
        body: JSON.stringify({ soDinhDanh: b.soDinhDanh, giayTo: doc }),
        signal: AbortSignal.timeout(30_000),
      });
      res.json({ giayTo: doc, sent: true, status: sent.status, body: (await sent.json()) as unknown });
    } catch (err) {
      res.status(502).json({ giayTo: doc, sent: false, error: `Không gọi được cổng: ${(err as Error).message}` });
    }
  });
  app.get('/__sandbox/population', (_req, res) => {
    res.json(people.population);
  });
  app.get('/__sandbox/:system/received', (req: Request, res: Response) => {
    const system = String(req.params.system);
    if (!isSystem(system))
      return void res.status(404).json({ error: `unknown system ${system}`, systems: SANDBOX_SYSTEMS });
    res.json(ctx.received.list(system));
  });
  app.delete('/__sandbox/:system/received', (req: Request, res: Response) => {
    const system = String(req.params.system);
    if (!isSystem(system))
      return void res.status(404).json({ error: `unknown system ${system}`, systems: SANDBOX_SYSTEMS });
    res.json({ cleared: ctx.received.clear(system) });
  });

  app.use((req: Request, res: Response) => {
    res
      .status(404)
      .json({ error: 'not_found', message: `No simulated endpoint ${req.method} ${req.path}; see GET /__sandbox` });
  });

  return {
    app,
    received: (system: string) => ctx.received.list(system),
    credentials,
  };
}

function isSystem(s: string): s is (typeof SANDBOX_SYSTEMS)[number] {
  return (SANDBOX_SYSTEMS as readonly string[]).includes(s);
}

/** The `GET /__sandbox` index: what runs where, with which demo credentials and data. */
function describe(
  base: string,
  credentials: SandboxCredentials,
  people: PopulationIndex,
  units: HotichOptions['units'],
  lifetime: number,
) {
  const populationPaths = (platform: 'ndxp' | 'vdxp') =>
    POPULATION_SERVICES.filter((s) => s.platform === platform).map((s) => ({
      service: s.number,
      placement: s.placement,
      title: s.title,
      path: `/${platform}/dancu/1.0/${s.operation}`,
    }));
  return {
    description: 'Simulated national systems for lgsp-gateway. Synthetic data only. Never in production.',
    docs: 'docs/sandbox.md',
    tokenLifetimeSeconds: lifetime,
    systems: {
      ndxp: {
        url: `${base}/ndxp`,
        token: 'POST /ndxp/token (OAuth2 client_credentials, HTTP Basic or client_id/client_secret in body)',
        credentials: credentials.ndxp,
        services: populationPaths('ndxp'),
      },
      vdxp: {
        url: `${base}/vdxp`,
        token: 'POST /vdxp/token',
        credentials: credentials.vdxp,
        services: populationPaths('vdxp'),
      },
      molisa: {
        url: `${base}/molisa`,
        credentials: credentials.molisa,
        operations: ['GetToken', 'DongBoDVC', 'XuLyHoSo', 'FileQuyetDinh'].map((op) => `/molisa/api/v1/Service/${op}`),
        throughVdxp: `${base}/vdxp/molisa (VDXP Bearer token, then AccessKey)`,
      },
      hotich: {
        url: `${base}/hotich`,
        token: 'POST /hotich/token (or an NDXP token)',
        credentials: credentials.hotich,
        units,
        operations: ['dangKyHoTich', 'traTrangThaiHoSo', 'danhMuc'].map((op) => `/hotich/{1.0|2.0|3.0}/${op}`),
        control: ['GET /__sandbox/hotich/dossiers', 'POST /__sandbox/hotich/dossiers/{maHoSo}/trangThai'],
      },
      dvclt: {
        url: `${base}/vdxp/dvclt`,
        statusUpdate: 'POST /vdxp/dvclt/capNhatTrangThaiHoSo (VDXP Bearer token)',
        control: ['POST /__sandbox/dvclt/dossiers (send a dossier down: B1)', 'GET /__sandbox/dvclt/dossiers'],
      },
      vneid: {
        url: `${base}/vneid`,
        qrLookup: 'POST /vneid/dinhdanh/1.0/traCuuThongTinCongDan (NDXP Bearer token)',
        jwks: '/vneid/.well-known/jwks.json',
        sso: {
          authorization: '/vneid/auth',
          token: '/vneid/api/idp/auth/realms/citizen/protocol/openid-connect/token',
          userinfo: '/vneid/api/idp/third-party/userinfo',
          logout: '/vneid/api/idp/sso/logout',
        },
        credentials: credentials.vneid,
        demoQrIds: DEMO_QR,
        control: [
          'POST /__sandbox/vneid/qr',
          'POST /__sandbox/vneid/qr/{qrID}/consent',
          'GET /__sandbox/vneid/qr',
          'POST /__sandbox/vneid/yeuCauGiayTo {soDinhDanh, loaiGiayTo?} (part B: asks the sector database through the gateway)',
          'GET /__sandbox/vneid/giayTo (documents integrated from sector databases)',
        ],
        documentUpdate: 'POST /vneid/dinhdanh/1.0/capNhatThongTinGiayTo (NDXP Bearer token; part B §IV)',
      },
    },
    // Stand-ins for provincial systems the national side reaches through the gateway.
    provincial: {
      csdlcn: {
        url: `${base}/tinh/csdlcn`,
        documentRequest: 'POST /tinh/csdlcn/api/vneid/traCuuGiayTo (part B §III, reached through the gateway)',
        control: ['POST /__sandbox/csdlcn/giayTo {soDinhDanh, loaiGiayTo, thayDoi} (a change, pushed to VNeID)'],
      },
    },
    demoCitizens: Object.entries(DEMO_IDS).map(([, id]) => {
      const c = people.byId(id)!;
      return { soDinhDanh: c.soDinhDanh, hoVaTen: c.hoVaTen, tinhTrang: c.tinhTrang, maHoGiaDinh: c.maHoGiaDinh };
    }),
    received: SANDBOX_SYSTEMS.map((s) => `/__sandbox/${s}/received`),
  };
}

/** Builds the sandbox and listens; `close()` stops it. Port 0 picks a free port. */
export async function startSandbox(
  options: SandboxOptions & { port: number; host?: string },
): Promise<{ url: string; sandbox: Sandbox; close(): Promise<void> }> {
  const sandbox = createSandbox(options);
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = sandbox.app.listen(options.port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  options.logger?.warn('sandbox of simulated national systems listening: NOT for production', { url });
  return {
    url,
    sandbox,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
