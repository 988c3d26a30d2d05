import type { BenchChild } from './lib/procs.ts';
import type { Check, RequestSpec, ScenarioRow, Target } from './run.ts';

/** What run.ts hands the scenarios defined here (imports from run.ts are type-only: it runs on import). */
export interface ScenarioContext {
  readonly upstream: BenchChild;
  readonly bare: BenchChild;
  readonly gateway: BenchChild;
  readonly configDir: string;
  readonly tmp: string;
  readonly consumerKey: string;
  readonly rows: ScenarioRow[];
  readonly checks: Check[];
  compare(
    label: string,
    targets: { direct: Target; bare: Target; gateway: Target },
    spec: RequestSpec,
    rows: ScenarioRow[],
  ): Promise<{ cpuRatio: number; addedP99Us: number; rpsRatio: number }>;
  readonly T: { readonly rounds: number };
}

export interface ExtraScenario {
  readonly id: string;
  readonly name: string;
  run(ctx: ScenarioContext): Promise<void>;
}

/** Scenarios that need modules merged later (2: the full MOLISA pipeline, once src/transform lands). */
export const extraScenarios: ExtraScenario[] = [];
