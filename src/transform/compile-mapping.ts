import { ConfigPathError } from '../config/config-error.ts';
import type { FieldError } from '../errors/gateway-error.ts';
import type { CatalogSet } from './catalogs.ts';
import { NO_CODE_FORMS, type CodeForms } from './code-forms.ts';
import { compactRemoved, type BodyFacts, type CompiledOp, type MapCtx, type Step } from './ops/common.ts';
import { planSteps } from './fused-walk.ts';
import { buildPlugin } from '../config/plugin-options.ts';
import { mappingOps } from './ops/registry.ts';
import { admitShapes, ShapeCache, type PendingShapes, type ShapeBuilder } from './shape.ts';

/**
 * What compileMapping needs: the catalogues of the load, the consumers' code forms, and (request stages) the
 * consumers whose bodies the mapping reads (OpDeps).
 */
export interface MappingDeps {
  readonly catalogs: CatalogSet;
  readonly codeForms?: CodeForms;
  readonly senders?: readonly string[];
}

/**
 * A compiled mapping: body in, mapped body and FieldErrors out. `post`, when present, holds the ops that
 * run after schema validation (`phase: post`, `embeddedJson` with `reserialize`); compileBodyStage calls it.
 */
export type MappingFn = ((
  body: unknown,
  deferShapes?: PendingShapes,
  consumer?: string,
  facts?: BodyFacts,
) => MappingResult) & {
  readonly post?: (body: unknown, deferShapes?: PendingShapes, consumer?: string) => MappingResult;
};

/**
 * `rawNumbers`: an op put numbers carried as source text in the body (exact-numbers.ts). Shapes the call
 * met are cached at its end when it found no errors, or, given `deferShapes`, left in that list for the
 * caller to admit once the schema has accepted the body too (body-stage.ts).
 */
export interface MappingResult {
  body: unknown;
  errors: FieldError[];
  rawNumbers?: boolean;
}

/** Deps for one config load: the catalogues and code forms (op options are checked by the plug-in loader). */
export function createMappingDeps(catalogs: CatalogSet, codeForms: CodeForms = NO_CODE_FORMS): MappingDeps {
  return { catalogs, codeForms };
}

/**
 * Compiles the YAML list `[{op: rename, ...}, ...]` into plain closures. Every option is checked here
 * (schema of the op, catalogue references, date formats, paths) and reported as ConfigPathError at
 * `[...path, index, key]`. `type:` is accepted as a synonym of `op:` (PluginRef in config/types.ts).
 * `{ fuse: false, generate: false }` is the reference the property tests compare with: one walk per op
 * pass (no fused walks) and generic per-field loops (no visitors generated at load, ops/common.ts).
 */
export function compileMapping(
  ops: readonly Record<string, unknown>[],
  deps: MappingDeps,
  path: readonly (string | number)[],
  options: { readonly fuse?: boolean; readonly generate?: boolean } = {},
): MappingFn {
  if (!Array.isArray(ops)) throw new ConfigPathError(path, 'type', 'mapping must be a list of mapping ops');
  const pre: CompiledOp[] = [];
  const post: CompiledOp[] = [];
  // Ops that only trim, rename or remove leave every string as the body sent it (CompiledOp.keepsStrings,
  // OpDeps.bodyStringsOnly).
  let bodyStringsOnly = true;
  ops.forEach((raw, i) => {
    const at = [...path, i];
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigPathError(at, 'type', 'each mapping op must be an object {op: ..., ...}');
    }
    const name = raw.op ?? raw.type;
    const opOptions = { ...raw, op: name } as Record<string, unknown>;
    delete opOptions.type;
    const namePath = [...at, raw.op === undefined && raw.type !== undefined ? 'type' : 'op'];
    const inPre = opOptions.phase !== 'post';
    const built = buildPlugin(
      mappingOps,
      'mapping op',
      name,
      opOptions,
      {
        catalogs: deps.catalogs,
        path: at,
        codeForms: deps.codeForms,
        senders: deps.senders,
        generate: options.generate,
        bodyStringsOnly: inPre && bodyStringsOnly,
      },
      at,
      namePath,
    );
    if (inPre && built.keepsStrings !== true) bodyStringsOnly = false;
    (opOptions.phase === 'post' ? post : pre).push(built);
    if (built.post) post.push({ run: built.post });
  });
  // Unfused (`fuse: false`): one walk per op pass, as before issue 19; the property test's reference.
  const plan = options.fuse === false ? (list: CompiledOp[]) => list.map((op) => op.run) : planSteps;
  const fn = runner(plan(pre)) as MappingFn;
  if (post.length > 0) Object.defineProperty(fn, 'post', { value: runner(plan(post)), enumerable: true });
  return Object.freeze(fn);
}

function runner(
  steps: readonly Step[],
): (body: unknown, deferShapes?: PendingShapes, consumer?: string, facts?: BodyFacts) => MappingResult {
  // Compacted record builders per key list (common.ts compactRemoved), one cache per compiled list.
  const shapes = new ShapeCache<ShapeBuilder | null>();
  return (body, deferShapes, consumer, facts) => {
    const ctx: MapCtx = {
      errors: [],
      trail: [],
      removed: [],
      removedAt: [],
      shapes: deferShapes ?? [],
      consumer,
      noCombiningMarks: facts?.noCombiningMarks === true,
    };
    let b = body;
    for (const step of steps) {
      ctx.trail.length = 0;
      b = step(b, ctx);
    }
    if (ctx.removed.length > 0) b = compactRemoved(ctx, b, shapes);
    if (deferShapes === undefined && ctx.shapes!.length > 0 && ctx.errors.length === 0) admitShapes(ctx.shapes!);
    return ctx.rawNumbers ? { body: b, errors: ctx.errors, rawNumbers: true } : { body: b, errors: ctx.errors };
  };
}
