import type { Static, TObject, TProperties, TSchema } from 'typebox';
import { Type } from '../../plugin/schema-type.ts';
import { ConfigPathError } from '../../config/config-error.ts';
import type { FieldError } from '../../errors/gateway-error.ts';
import { definePlugin, type Plugin } from '../../plugin/plugin.ts';
import type { CatalogSet } from '../catalogs.ts';
import type { CodeForms } from '../code-forms.ts';
import {
  compileWalker,
  FORBIDDEN_KEYS,
  parseFieldPath,
  parsePath,
  toPointer,
  type ContainerVisitor,
  type Segment,
  type Trail,
} from '../path.ts';
import { compileShapeBuilder, type PendingShapes, type ShapeBuilder, type ShapeCache } from '../shape.ts';

/** What every mapping op factory receives: catalogues and the config path of its own YAML entry. */
export interface OpDeps {
  readonly catalogs: CatalogSet;
  readonly path: readonly (string | number)[];
  /** The consumers' declared code forms (consumers.<id>.codeForms; code-forms.ts). */
  readonly codeForms?: CodeForms;
  /**
   * The consumers whose values this mapping reads (a route's request stage: the route's consumers); absent
   * where the body is not a consumer's (a response stage), and every value is read through `from:`.
   */
  readonly senders?: readonly string[];
  /**
   * false: the per-field visitors stay generic loops (the property tests' reference, compileMapping's
   * `generate: false`); otherwise they are generated at load with the field names written in.
   */
  readonly generate?: boolean;
  /**
   * Every string the op can meet comes from the body as the caller sent it: only ops that keep strings
   * (CompiledOp.keepsStrings) run before it in the pre phase (compile-mapping.ts). Such an op may trust
   * BodyFacts.
   */
  readonly bodyStringsOnly?: boolean;
}

/**
 * What the caller knows of the body from its bytes (compileBodyStage's `facts`). `noCombiningMarks`: no
 * string in it holds U+0300-U+036F (text.ts mayHoldCombiningMarks said false on the bytes parsed).
 */
export interface BodyFacts {
  readonly noCombiningMarks?: boolean;
}

/** Per-call state: errors found so far and the walk trail (reused to avoid allocations). */
export interface MapCtx {
  readonly errors: FieldError[];
  readonly trail: Trail;
  /** Objects in which removeField blanked a key; compacted once after the ops (compile-mapping.ts). */
  readonly removed: Record<string, unknown>[];
  /**
   * The object of removeField's last entry in `removed`: an object is listed once per run of removals from
   * it (a fused walk, fused-walk.ts, sets it apart while it keeps each op's entries aside).
   */
  lastRemoved?: Record<string, unknown>;
  /** Where each `removed` object was (its trail from the body root then), so compaction can replace it. */
  readonly removedAt?: Trail[];
  /** Inside a fused walk: what each op of it reported or removed, handed on in op order at its end. */
  held?: HeldReports;
  /** Set when an op put numbers carried as source text in the body (embeddedJson; exact-numbers.ts). */
  rawNumbers?: boolean;
  /** Shapes met in this call, cached only once the body is accepted (shape.ts PendingShapes). */
  readonly shapes?: PendingShapes;
  /** The consumer whose body this is (request stages), for the ops that read its declared code forms. */
  readonly consumer?: string;
  /** BodyFacts.noCombiningMarks of this call (pre phase only). */
  readonly noCombiningMarks?: boolean;
}

/**
 * What a fused walk (fused-walk.ts) holds back until its end: FieldErrors by the index of the op's pass in
 * the walk, and that index for each removeField entry it added.
 */
export interface HeldReports {
  readonly errors: (FieldError[] | undefined)[];
  readonly removedBy: number[];
}

/** One compiled step: takes the body, returns the (possibly replaced) body, pushes FieldErrors. */
export type Step = (body: unknown, ctx: MapCtx) => unknown;

/**
 * A built op: `run` in its place in the list; `post` (if any) after schema validation. `passes`, when
 * given, are what `run` does, in order: walks of the containers a path selects, each container's work
 * touching only that container's subtree. Consecutive passes over the elements of one list are fused by
 * the runner into one walk (fused-walk.ts); an op without `passes` is run as is and ends a fused walk.
 */
export interface CompiledOp {
  readonly run: Step;
  readonly post?: Step;
  readonly passes?: readonly Pass[];
  /**
   * The op writes no string the caller did not send: it trims, renames or removes (keepingStrings). The
   * ops after it may still trust what the caller read off the body's bytes (OpDeps.bodyStringsOnly); an op
   * that does not say so (a plug-in, constant, codelist, date) ends that trust for the ops after it.
   */
  readonly keepsStrings?: boolean;
}

/** `op` marked as one that writes no string the caller did not send (CompiledOp.keepsStrings). */
export function keepingStrings<T extends CompiledOp>(op: T): T {
  return { ...op, keepsStrings: true };
}

/** One walk of an op: `visit` on every object `segs` selects (`create`: missing keys made on the way). */
export interface Pass {
  readonly segs: readonly Segment[];
  readonly create: boolean;
  readonly visit: ContainerVisitor<MapCtx>;
  /** The visitor for a consumer's bodies where it differs from `visit` (codelist code forms). */
  readonly bySender?: ReadonlyMap<string, ContainerVisitor<MapCtx>>;
  /** The visitor proposes record shapes (ctx.shapes, rename): their order across records is kept. */
  readonly proposesShapes?: boolean;
}

/** An op made of passes only: `run` does them one after the other, each over the whole body. */
export interface PassStep extends CompiledOp {
  readonly passes: readonly Pass[];
}

/** The PassStep of `passes`. */
export function passStep(passes: readonly Pass[]): PassStep {
  const walkers = passes.map((p) => compileWalker<MapCtx>(p.segs, p.visit, p.create));
  if (walkers.length === 1) {
    const w = walkers[0];
    return { run: (body, ctx) => w(body, ctx.trail, ctx), passes };
  }
  const run: Step = (body, ctx) => {
    let b = body;
    for (const w of walkers) b = w(b, ctx.trail, ctx);
    return b;
  };
  return { run, passes };
}

/** Options every op accepts besides its own (their one source: the type is derived, defaults are here). */
const baseOptions = {
  op: Type.String(),
  /** `op:`'s synonym (compile-mapping.ts moves it to `op` before the check). */
  type: Type.Optional(Type.String()),
  /** Container path the op works in (docs/transform.md, "Path syntax"); the body root by default. */
  at: Type.String({ default: '' }),
  /** `post`: run after schema validation (e.g. serialise embedded JSON again). */
  phase: Type.Enum(['pre', 'post'], { default: 'pre' }),
  description: Type.Optional(Type.String()),
};
export type BaseOptions = Static<TObject<typeof baseOptions>>;

/**
 * The TypeBox schema of an op's options: the common keys plus `props`, closed to typos; `combine` adds
 * keywords across keys (`oneOf`: field or fields). The loader (plugin-options.ts) fills the defaults.
 */
export function opSchema<P extends TProperties>(props: P, combine: Record<string, unknown> = {}) {
  return Type.Object({ ...baseOptions, ...props }, { additionalProperties: false, ...combine });
}

/** A mapping op: options written once (opSchema), built through the one loader (buildPlugin). */
export type MappingOp<O> = Plugin<O, OpDeps, CompiledOp>;

/** Builds a mapping op from its options schema and its create: `o` is typed by the schema. */
export function defineOp<S extends TSchema>(schema: S, create: (o: Static<S>, deps: OpDeps) => CompiledOp) {
  return definePlugin(schema, create);
}

export const stringList = () => Type.Array(Type.String({ minLength: 1 }), { minItems: 1 });

/** A field path (relative to `at`) and the config path of where it was written. */
export type FieldRef = readonly [field: string, configPath: readonly (string | number)[]];

/** `field` or `fields` of an op's options as one list (schemas require exactly one of them). */
export function fieldsOf(o: { field?: string; fields?: string[] }, path: readonly (string | number)[]): FieldRef[] {
  if (o.fields) return o.fields.map((f, i) => [f, [...path, 'fields', i]] as const);
  return o.field === undefined ? [] : [[o.field, [...path, 'field']]];
}

export const fieldOrFields = {
  field: Type.Optional(Type.String({ minLength: 1 })),
  fields: Type.Optional(stringList()),
};
const oneOfFieldOrFields = { oneOf: [{ required: ['field'] }, { required: ['fields'] }] };

/** The schema of an op over `field` or `fields` (exactly one of them; `fieldsOf` lists them) plus `props`. */
export function fieldOpSchema<P extends TProperties>(props: P) {
  return opSchema({ ...fieldOrFields, ...props }, oneOfFieldOrFields);
}

/** Applies `fn` to `key` of an object container: may set, replace or delete it in place. */
export type FieldFn = (obj: Record<string, unknown>, key: string, trail: Trail, ctx: MapCtx) => void;

/**
 * Compiles a per-field op: fields (relative to `at`) are grouped by container path so records are walked
 * once per group, not once per field.
 */
export function compileFieldStep(
  at: string,
  fields: readonly FieldRef[],
  path: readonly (string | number)[],
  fn: FieldFn,
  create = false,
): PassStep {
  return passStep(
    fieldGroups(at, fields, path).map(({ segs, keys }): Pass => {
      const visit: ContainerVisitor<MapCtx> =
        keys.length === 1
          ? (obj, trail, ctx) => {
              fn(obj, keys[0], trail, ctx);
              return obj;
            }
          : (obj, trail, ctx) => {
              for (let i = 0; i < keys.length; i++) fn(obj, keys[i], trail, ctx);
              return obj;
            };
      return { segs, create, visit };
    }),
  );
}

/** The fields (relative to `at`) grouped by the container path they live in, in order of first mention. */
function fieldGroups(
  at: string,
  fields: readonly FieldRef[],
  path: readonly (string | number)[],
): { segs: readonly Segment[]; keys: string[] }[] {
  const groups = new Map<string, { segs: readonly Segment[]; keys: string[] }>();
  fields.forEach(([f, fieldPath]) => {
    const fp = parseFieldPath(at, f, [...path, 'at'], fieldPath);
    const id = JSON.stringify(fp.container);
    const g = groups.get(id) ?? { segs: fp.container, keys: [] };
    g.keys.push(fp.key);
    groups.set(id, g);
  });
  return [...groups.values()];
}

/** Compiles a per-container op (rename, trim-all, allowOnly) over the objects `at` selects. */
export function compileContainerStep(
  at: string,
  path: readonly (string | number)[],
  visit: ContainerVisitor<MapCtx>,
  proposesShapes = false,
): PassStep {
  return passStep([{ segs: parsePath(at, [...path, 'at']), create: false, visit, proposesShapes }]);
}

/**
 * Removes a field: blanks it now (`undefined`, so later ops see it gone) and lets the runner delete the
 * blanked keys once after the last op. V8's `delete` of a middle key turns a record into a dictionary-mode
 * object (~2 µs); doing it once per record at the end, and not at all when a later rename rebuilt the
 * record (the rebuild skips undefined values), keeps it to one such cost per touched record.
 */
export function removeField(obj: Record<string, unknown>, key: string, ctx: MapCtx): void {
  if (obj[key] === undefined && !Object.hasOwn(obj, key)) return;
  obj[key] = undefined;
  if (ctx.lastRemoved !== obj) {
    ctx.lastRemoved = obj;
    ctx.removed.push(obj);
    ctx.removedAt?.push(ctx.trail.slice());
  }
}

/**
 * Drops the keys removeField blanked (runs once per mapping call) and returns the body. An object still
 * found where it was blanked is replaced by a copy without those keys, built by a per-shape function
 * (shape.ts) when `shapes` is given: `delete` of a middle key would turn it into a slow dictionary-mode
 * object for the schema, JSON.stringify and the audit walk after it. Anything else (an object a later op
 * replaced or moved, a full cache, a shape that cannot be specialised) gets the keys deleted in place.
 */
export function compactRemoved(ctx: MapCtx, body?: unknown, shapes?: ShapeCache<ShapeBuilder | null>): unknown {
  let root = body;
  for (let r = 0; r < ctx.removed.length; r++) {
    const obj = ctx.removed[r];
    const at = ctx.removedAt?.[r];
    if (shapes !== undefined && at !== undefined && replaceAt(root, at, obj, shapes, ctx, (v) => (root = v))) continue;
    for (const key of Object.keys(obj)) if (obj[key] === undefined) delete obj[key];
  }
  ctx.removed.length = 0;
  ctx.lastRemoved = undefined;
  if (ctx.removedAt) ctx.removedAt.length = 0;
  return root;
}

/** The builder of a compacted record of this key list, made only for a shape the cache will keep. */
function compactBuilder(keys: readonly string[], keep: boolean): ShapeBuilder | null {
  return keep ? (compileShapeBuilder(keys, keys) ?? null) : null;
}

/** Replaces `obj` at `trail` under `root` by its compacted copy; false when it is not there any more. */
function replaceAt(
  root: unknown,
  trail: Trail,
  obj: Record<string, unknown>,
  shapes: ShapeCache<ShapeBuilder | null>,
  ctx: MapCtx,
  setRoot: (v: unknown) => void,
): boolean {
  let parent: unknown = undefined;
  let node = root;
  for (const seg of trail) {
    if (typeof node !== 'object' || node === null) return false;
    if (Array.isArray(node) ? typeof seg !== 'number' : !Object.hasOwn(node, seg)) return false;
    parent = node;
    node = (node as Record<string | number, unknown>)[seg];
  }
  if (node !== obj) return false;
  const build = shapes.planOf(obj, ctx.shapes, compactBuilder);
  if (build === null) return false;
  const copy = build(obj);
  if (trail.length === 0) setRoot(copy);
  else (parent as Record<string | number, unknown>)[trail[trail.length - 1]] = copy;
  return true;
}

/**
 * Most FieldErrors one mapping call keeps (the validator's default maxErrors): a 10 MB body of unknown keys
 * under `allowOnly` would otherwise build a million error objects for one answer (issue 14.1).
 */
export const MAX_MAPPING_ERRORS = 100;

/** Records a FieldError unless MAX_MAPPING_ERRORS are already recorded. */
export function report(ctx: MapCtx, error: FieldError): void {
  if (ctx.errors.length < MAX_MAPPING_ERRORS) ctx.errors.push(error);
}

/** Records a FieldError at `key` of the container at `trail` (report and fieldError in one). */
export function reportAt(ctx: MapCtx, trail: Trail, key: string, rule: string, text: string, limit?: unknown): void {
  report(ctx, fieldError(toPointer(trail, key), rule, text, limit));
}

/** Builds a FieldError; `message` gets the pointer and the rule appended the way validation does. */
export function fieldError(pointer: string, rule: string, text: string, limit?: unknown): FieldError {
  const message = `Trường ${pointer || '/'} ${text} (${rule})`;
  return limit === undefined ? { pointer, rule, message } : { pointer, rule, message, limit };
}

export { toPointer };

/** Throws ConfigPathError at `path`/`key` when `cond` is false. */
export function check(cond: boolean, path: readonly (string | number)[], rule: string, message: string): void {
  if (!cond) throw new ConfigPathError(path, rule, message);
}

/** Empty-value policy shared by codelist and date: which values count as "no value" and what to do. */
export const emptyPolicyProps = {
  emptyValues: Type.Array(Type.String(), { default: [''] }),
  onEmpty: Type.Enum(['keep', 'drop', 'reject'], { default: 'keep' }),
};

/**
 * Returns a function telling whether a value is "empty" (null, or a string that trims to one of
 * `emptyValues`, compared case-insensitively; the schema's default is `['']`).
 */
export function compileEmptyTest(values: readonly string[]): (v: unknown) => boolean {
  const set = new Set(values.map((s) => s.trim().toLowerCase()));
  // A string longer than twice the longest empty value, starting and ending with a printable ASCII
  // character, cannot be one: trim() leaves it as is, and toLowerCase() never shrinks a string to less than
  // half its length (UTF-16 units; in fact it never shrinks at all). Spares a trim + lower-case per value.
  let longest = 0;
  for (const s of set) longest = Math.max(longest, s.length);
  const bound = 2 * longest;
  // Likewise a string starting with a printable ASCII character keeps it first through trim(), lower-cased
  // (toLowerCase maps an ASCII letter alone): unless some empty value starts with that, it is not one.
  // Spares the trim + lower-case for most codes ("1048", "Tày") against ['', 'NA', 'N/A'] (issue 19).
  const canStart = new Array<boolean>(0x80).fill(false);
  for (const s of set) if (s.length > 0 && s.charCodeAt(0) < 0x80) canStart[s.charCodeAt(0)] = true;
  return (v) => {
    if (v === null) return true;
    if (typeof v !== 'string') return false;
    const a = v.charCodeAt(0);
    if (a > 0x20 && a < 0x7f) {
      if (!canStart[a >= 0x41 && a <= 0x5a ? a + 0x20 : a]) return false;
      if (v.length > bound) {
        const b = v.charCodeAt(v.length - 1);
        if (b > 0x20 && b < 0x7f) return false;
      }
    }
    return set.has(v.trim().toLowerCase());
  };
}

/**
 * Applies onEmpty to `obj[key]`; pushes an error for `reject`. A dropped field is set to `undefined`, not
 * deleted: see `removeField`.
 */
export function applyEmpty(
  policy: 'keep' | 'drop' | 'reject',
  obj: Record<string, unknown>,
  key: string,
  trail: Trail,
  ctx: MapCtx,
): void {
  if (policy === 'drop') removeField(obj, key, ctx);
  else if (policy === 'reject') reportAt(ctx, trail, key, 'required', 'không được để trống');
}

/** What a value function (compileValueStep) returns to leave the field as it is. */
export const KEEP: unique symbol = Symbol('keep');

/**
 * Works on one present, non-empty value of a field: returns the value to store in its place, or KEEP. It
 * may report (reportAt) but stores nothing itself: the visitor does, so the store is one per field site.
 */
export type ValueFn = (value: unknown, obj: Record<string, unknown>, key: string, trail: Trail, ctx: MapCtx) => unknown;

/**
 * Compiles a per-field op over values under the empty-value policy (codelist, date): an absent or
 * undefined field is left alone, an empty one gets `onEmpty`, and `fn` sees every other value. With
 * `generate` (the default) each container's visitor is generated at load with its field names written in
 * (generatedValueVisitor); otherwise it is the generic loop, the reference the property tests compare with.
 */
export function compileValueStep(
  o: { readonly at: string; readonly emptyValues: readonly string[]; readonly onEmpty: 'keep' | 'drop' | 'reject' },
  fields: readonly FieldRef[],
  path: readonly (string | number)[],
  fn: ValueFn,
  generate = true,
): PassStep {
  const isEmpty = compileEmptyTest(o.emptyValues);
  const onEmpty = o.onEmpty;
  const each: ValueFn = (value, obj, key, trail, ctx) => {
    if (!isEmpty(value)) return fn(value, obj, key, trail, ctx);
    applyEmpty(onEmpty, obj, key, trail, ctx);
    return KEEP;
  };
  return passStep(
    fieldGroups(o.at, fields, path).map(({ segs, keys }): Pass => ({
      segs,
      create: false,
      visit: generate ? generatedValueVisitor(keys, each) : genericValueVisitor(keys, each),
    })),
  );
}

/** The generic visitor of compileValueStep: one loop over the names, keyed reads and stores. */
function genericValueVisitor(keys: readonly string[], each: ValueFn): ContainerVisitor<MapCtx> {
  return (obj, trail, ctx) => {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (!Object.hasOwn(obj, key)) continue;
      const value = obj[key];
      if (value === undefined) continue;
      const out = each(value, obj, key, trail, ctx);
      if (out !== KEEP) obj[key] = out;
    }
    return obj;
  };
}

/**
 * Most field names one generated visitor is written for; a longer list (config) keeps the generic loop.
 */
export const MAX_GENERATED_FIELDS = 256;

/**
 * The visitor of genericValueVisitor generated for `keys` (issue 19): each read and store is its own site
 * with the name written in (`o["MaTTHC"]`), so V8 keeps one record shape per site (a monomorphic named
 * access) instead of one megamorphic keyed access shared by every field of every op. The value is read
 * before `hasOwn` is asked: an inherited value is never undefined-and-own, so the order changes nothing
 * (the forbidden names, whose reads could reach an accessor, never get here: parsePath refuses them).
 *
 * Field names are config (a YAML key, attacker-adjacent): they enter the source only as JSON.stringify'd
 * string literals (a JSON string is a valid JavaScript string literal; U+2028/U+2029 are allowed in one
 * since ES2019), never as identifiers or template text. test/unit/transform/generated-visitors.test.ts
 * runs names with quotes, backslashes, `${`, line separators and the forbidden names.
 */
export function generatedValueVisitor(keys: readonly string[], each: ValueFn): ContainerVisitor<MapCtx> {
  if (keys.length > MAX_GENERATED_FIELDS || keys.some((k) => FORBIDDEN_KEYS.has(k))) {
    return genericValueVisitor(keys, each);
  }
  const lines = keys.map((key) => {
    const k = JSON.stringify(key);
    return `v = o[${k}];
if (v !== undefined && hasOwn(o, ${k})) {
  r = each(v, o, ${k}, trail, ctx);
  if (r !== KEEP) o[${k}] = r;
}`;
  });
  const source = `'use strict';
return function visit(o, trail, ctx) {
let v, r;
${lines.join('\n')}
return o;
};`;
  return new Function('hasOwn', 'each', 'KEEP', source)(Object.hasOwn, each, KEEP) as ContainerVisitor<MapCtx>;
}
