import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchChild } from './lib/procs.ts';
import type { Check, RequestSpec, ScenarioRow, Target } from './run.ts';

/** What run.ts hands the scenarios defined here (imports from run.ts are type-only: it runs on import). */
export interface ScenarioContext {
  readonly upstream: BenchChild;
  readonly bare: BenchChild;
  /** The JSON-touching floor (servers/json-floor-proxy.ts): scenario 2's third target. */
  readonly jsonFloor: BenchChild;
  readonly gateway: BenchChild;
  readonly configDir: string;
  readonly tmp: string;
  readonly consumerKey: string;
  readonly rows: ScenarioRow[];
  readonly checks: Check[];
  compare(
    label: string,
    targets: { direct: Target; bare: Target; gateway: Target; floor?: Target },
    spec: RequestSpec,
    rows: ScenarioRow[],
  ): Promise<{ cpuRatio: number; addedP99Us: number; rpsRatio: number; floorRatio?: number }>;
  readonly T: { readonly rounds: number };
}

export interface ExtraScenario {
  readonly id: string;
  readonly name: string;
  run(ctx: ScenarioContext): Promise<void>;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A DongBoDVC body of about 4 KB: the records of the seed fixture (seed 004 Appendix 1, as printed: HKTTC_*
 * keys, "NA" gender, dd/MM/yyyy dates, so the mapping has real work to do), repeated with distinct MaHoSo.
 */
export function dongBoDvcBody(bytes = 4096): Buffer {
  const seed = JSON.parse(readFileSync(path.join(root, 'test/fixtures/molisa/DongBoDVC.seed.json'), 'utf8')) as Record<
    string,
    unknown
  >[];
  const records: Record<string, unknown>[] = [];
  for (let i = 0; Buffer.byteLength(JSON.stringify(records)) < bytes - 600; i++) {
    const record = { ...seed[i % seed.length] };
    record.MaHoSo = `000.00.18.G12-250701-${String(i + 1).padStart(4, '0')}`;
    records.push(record);
  }
  return Buffer.from(JSON.stringify(records));
}

/** DongBoDVC straight at the upstream, through the bare proxy, and through the gateway's route at `prefix`. */
function dongBoDvcTargets(ctx: ScenarioContext, prefix: string): { direct: Target; bare: Target; gateway: Target } {
  const servicePath = '/api/v1/Service/DongBoDVC';
  return {
    direct: { name: 'direct', child: ctx.upstream, url: `${ctx.upstream.url}/plain${servicePath}`, headers: {} },
    bare: { name: 'bare', child: ctx.bare, url: `${ctx.bare.url}/plain${servicePath}`, headers: {} },
    gateway: {
      name: 'gateway',
      child: ctx.gateway,
      url: `${ctx.gateway.url}${prefix}${servicePath}`,
      headers: { 'x-api-key': ctx.consumerKey },
    },
  };
}

/** Scenarios that need modules merged after the harness: 2, the full MOLISA pipeline (src/transform); 2q, the same push queued (issue 17). */
export const extraScenarios: ExtraScenario[] = [
  {
    id: '2',
    name: 'full pipeline',
    async run(ctx) {
      const body = dongBoDvcBody();
      const servicePath = '/api/v1/Service/DongBoDVC';
      const floor = {
        name: 'json floor',
        child: ctx.jsonFloor,
        url: `${ctx.jsonFloor.url}/plain${servicePath}`,
        headers: {},
      } as const;
      const targets = { ...dongBoDvcTargets(ctx, '/molisa'), floor };
      const label = `2 full pipeline: POST DongBoDVC ${(body.length / 1024).toFixed(1)} KB`;
      const r = await ctx.compare(
        label,
        targets,
        { method: 'POST', body, contentType: 'application/json; charset=utf-8' },
        ctx.rows,
      );
      ctx.checks.push({
        name: 'full pipeline: CPU per request, gateway/bare',
        measured: `${r.cpuRatio.toFixed(2)}x`,
        limit: '≤ 2.0x',
        met: r.cpuRatio <= 2,
      });
      ctx.checks.push({
        name: 'full pipeline: p99 added over direct at 1000 req/s',
        measured: `${(r.addedP99Us / 1000).toFixed(2)} ms`,
        limit: '≤ 1 ms',
        met: r.addedP99Us <= 1000,
      });
    },
  },
  {
    id: '2q',
    name: 'queued push',
    async run(ctx) {
      // The full pipeline's push through a queued route: stored durably (one fsync-ed commit), sent at once,
      // marked delivered (another commit), then the upstream's answer relayed. The direct route beside it is
      // scenario 2; the bare proxy and the upstream are the same.
      const body = dongBoDvcBody();
      const targets = dongBoDvcTargets(ctx, '/molisa-queued');
      await ctx.compare(
        `2q queued push: POST DongBoDVC ${(body.length / 1024).toFixed(1)} KB, stored then sent`,
        targets,
        { method: 'POST', body, contentType: 'application/json; charset=utf-8' },
        ctx.rows,
      );
    },
  },
];
