import type { AddressInfo } from 'node:net';
import { provincialRouter } from './provincial.ts';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { systemClock, type Clock } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { SandboxContext, SandboxCredentials } from './context.ts';
import { createFaults } from './faults.ts';
import { createHotich, type HotichOptions } from './hotich.ts';
import { molisaRouter, type MolisaOptions } from './molisa.ts';
import { bodyParsers, tokenEndpoint } from './platform.ts';
import { POPULATION_SERVICES, populationRouter } from './population.ts';
import { DEMO_IDS, PopulationIndex, buildPopulation } from './population-data.ts';
import { ReceivedLog } from './received-log.ts';
import { TokenStore } from './tokens.ts';
import { DEMO_QR, createVneid } from './vneid.ts';

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
  /** Generated households added to the demo ones (default 8). */
  extraHouseholds?: number;
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
export const SANDBOX_SYSTEMS = ['ndxp', 'vdxp', 'molisa', 'hotich', 'vneid', 'mcdt', 'dvc'] as const;

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
  const vneid = createVneid(ctx, people);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);

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
  // Fault switches (PUT /__sandbox/<system>/fault): the system fails, hangs or is down until recovered.
  const faults = createFaults(ctx);
  app.use('/molisa', faults.gate('molisa'), molisaRouter(ctx, options.molisa));
  app.use('/hotich', faults.gate('hotich'), hotich.router);
  app.use('/vneid', vneid.router);
  app.use('/tinh/mcdt', provincialRouter(ctx, 'mcdt'));
  app.use('/tinh/dvc', provincialRouter(ctx, 'dvc'));

  // ---- /__sandbox: index, received logs, controls ------------------------------------------------
  app.get('/__sandbox', (req: Request, res: Response) => {
    res.json(describe(`${req.protocol}://${req.get('host')}`, credentials, people, hotich.units, lifetime));
  });
  app.use('/__sandbox', faults.control);
  app.use('/__sandbox/hotich', hotich.control);
  app.use('/__sandbox/vneid', vneid.control);
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
    POPULATION_SERVICES.filter((s) => s.platforms.includes(platform)).map((s) => ({
      service: s.number,
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
      },
      hotich: {
        url: `${base}/hotich`,
        token: 'POST /hotich/token (or an NDXP token)',
        credentials: credentials.hotich,
        units,
        operations: ['dangKyHoTich', 'traTrangThaiHoSo', 'danhMuc'].map((op) => `/hotich/{1.0|2.0|3.0}/${op}`),
        control: ['GET /__sandbox/hotich/dossiers', 'POST /__sandbox/hotich/dossiers/{maHoSo}/trangThai'],
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
        control: ['POST /__sandbox/vneid/qr', 'POST /__sandbox/vneid/qr/{qrID}/consent', 'GET /__sandbox/vneid/qr'],
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
