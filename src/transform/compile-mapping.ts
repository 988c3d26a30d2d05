import { Ajv } from 'ajv';
import { ConfigPathError } from '../config/config-error.ts';
import type { FieldError } from '../errors/gateway-error.ts';
import type { CatalogSet } from './catalogs.ts';
import { compactRemoved, type MapCtx, type Step } from './ops/common.ts';
import { mappingOps } from './ops/registry.ts';
import { admitShapes, ShapeCache, type PendingShapes, type ShapeBuilder } from './shape.ts';

/** What compileMapping needs: catalogues, and optionally an Ajv to check op options (one per load). */
export interface MappingDeps {
  readonly catalogs: CatalogSet;
  /** Reused across every compileMapping call of one load so op-option schemas compile once. */
  readonly optionsAjv?: Ajv;
}

/**
 * A compiled mapping: body in, mapped body and FieldErrors out. `post`, when present, holds the ops that
 * run after schema validation (`phase: post`, `embeddedJson` with `reserialize`); compileBodyStage calls it.
 */
export type MappingFn = ((body: unknown, deferShapes?: PendingShapes) => MappingResult) & {
  readonly post?: (body: unknown, deferShapes?: PendingShapes) => MappingResult;
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

/** An Ajv for the ops' option schemas; keep one across loads: it compiles each op's (static) schema once. */
export function createOptionsAjv(): Ajv {
  return new Ajv({ allErrors: true, strict: true, strictRequired: false });
}

/** Deps for one config load: the catalogues plus a shared Ajv for op options. */
export function createMappingDeps(catalogs: CatalogSet, optionsAjv: Ajv = createOptionsAjv()): MappingDeps {
  return { catalogs, optionsAjv };
}

/**
 * Compiles the YAML list `[{op: rename, ...}, ...]` into plain closures. Every option is checked here
 * (schema of the op, catalogue references, date formats, paths) and reported as ConfigPathError at
 * `[...path, index, key]`. `type:` is accepted as a synonym of `op:` (PluginRef in config/types.ts).
 */
export function compileMapping(
  ops: readonly Record<string, unknown>[],
  deps: MappingDeps,
  path: readonly (string | number)[],
): MappingFn {
  if (!Array.isArray(ops)) throw new ConfigPathError(path, 'type', 'mapping phải là danh sách các phép ánh xạ');
  const ajv = deps.optionsAjv ?? new Ajv({ allErrors: true, strict: true, strictRequired: false });
  const pre: Step[] = [];
  const post: Step[] = [];
  ops.forEach((raw, i) => {
    const at = [...path, i];
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new ConfigPathError(at, 'type', 'mỗi phép ánh xạ phải là object {op: ..., ...}');
    }
    const name = raw.op ?? raw.type;
    const plugin = typeof name === 'string' && Object.hasOwn(mappingOps, name) ? mappingOps[name] : undefined;
    if (!plugin) {
      throw new ConfigPathError(
        [...at, raw.op === undefined && raw.type !== undefined ? 'type' : 'op'],
        'enum',
        `Phép ánh xạ không tồn tại: ${JSON.stringify(name)} (có: ${Object.keys(mappingOps).join(', ')})`,
      );
    }
    const options = { ...raw, op: name } as Record<string, unknown>;
    delete options.type;
    const validate = ajv.compile(plugin.schema);
    if (!validate(options)) {
      // The most useful error first: a misspelt key, then anything not inside a oneOf/anyOf branch.
      const errs = validate.errors!;
      const e =
        errs.find((x) => x.keyword === 'additionalProperties') ??
        errs.find((x) => !/\/(oneOf|anyOf)\//.test(x.schemaPath) && x.keyword !== 'oneOf' && x.keyword !== 'anyOf') ??
        errs[0];
      const segs = e.instancePath
        .split('/')
        .slice(1)
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      const extra = e.params as { additionalProperty?: string; missingProperty?: string };
      const key = extra.additionalProperty ?? extra.missingProperty;
      throw new ConfigPathError(
        [...at, ...segs, ...(key === undefined ? [] : [key])],
        e.keyword,
        `Tùy chọn của phép "${String(name)}" không hợp lệ: ${e.instancePath || '(gốc)'} ${e.message ?? ''}`.trim(),
      );
    }
    const built = plugin.create(options as never, { catalogs: deps.catalogs, path: at });
    (options.phase === 'post' ? post : pre).push(built.run);
    if (built.post) post.push(built.post);
  });
  const fn = runner(pre) as MappingFn;
  if (post.length > 0) Object.defineProperty(fn, 'post', { value: runner(post), enumerable: true });
  return Object.freeze(fn);
}

function runner(steps: readonly Step[]): (body: unknown, deferShapes?: PendingShapes) => MappingResult {
  // Compacted record builders per key list (common.ts compactRemoved), one cache per compiled list.
  const shapes = new ShapeCache<ShapeBuilder | null>();
  return (body, deferShapes) => {
    const ctx: MapCtx = { errors: [], trail: [], removed: [], removedAt: [], shapes: deferShapes ?? [] };
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
