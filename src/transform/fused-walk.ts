import { MAX_MAPPING_ERRORS, report, type CompiledOp, type MapCtx, type Pass, type Step } from './ops/common.ts';
import {
  compileWalker,
  compileWalkerOver,
  isRecord,
  type ContainerVisitor,
  type Segment,
  type Trail,
  type Walker,
} from './path.ts';

/**
 * Fused walks (issue 19). MOLISA's lists are eight ops, all `at: '[]'`: run one after the other, each walks
 * the records again. An op's pass works on each container its path selects and touches only that
 * container's subtree (CompiledOp.passes), so consecutive passes over the elements of one list can run
 * element by element instead (element 0: pass 1..n, element 1: pass 1..n, ...) with the same result on
 * every element (bodies are parsed JSON: no two elements share an object, and no op makes them share
 * one). What the order changes is kept as it was: FieldErrors (op by op, then element by element, at most
 * MAX_MAPPING_ERRORS), removeField's entries (compaction order decides which shapes are cached) and
 * rename's shape proposals (two proposing passes never share a walk).
 * test/unit/transform/fused-walk.test.ts compares this with the unfused runner on generated bodies.
 */

/** The steps that run `ops` in order, consecutive passes over one list's elements fused into one walk. */
export function planSteps(ops: readonly CompiledOp[]): Step[] {
  const steps: Step[] = [];
  let group: Unit[] = [];
  const flush = () => {
    if (group.length > 0) steps.push(fuse(group));
    group = [];
  };
  for (const op of ops) {
    if (op.passes === undefined) {
      flush();
      steps.push(op.run);
      continue;
    }
    for (const pass of op.passes) {
      const unit = splitPass(pass);
      const proposing = unit.pass.proposesShapes === true && group.some((u) => u.pass.proposesShapes === true);
      if (group.length > 0 && (unit.key !== group[0].key || proposing)) flush();
      group.push(unit);
    }
  }
  flush();
  return steps;
}

/**
 * A pass split at its first `[]`: `prefix` leads to the list (walked once for the group), `rest` goes from
 * an element to the containers visited. Passes share a walk when their prefix, and whether it creates
 * missing keys, are the same (`key`). A path without `[]` has an empty prefix: its "element" is the body.
 */
interface Unit {
  readonly pass: Pass;
  readonly prefix: readonly Segment[];
  readonly rest: readonly Segment[];
  readonly createsInPrefix: boolean;
  readonly key: string;
}

function splitPass(pass: Pass): Unit {
  const each = pass.segs.findIndex((s) => s.kind === 'each');
  const prefix = each < 0 ? [] : pass.segs.slice(0, each + 1);
  // compileWalker creates a missing key only where another key follows it.
  const createsInPrefix = pass.create && prefix.some((s, i) => s.kind === 'key' && prefix[i + 1]?.kind === 'key');
  const key = JSON.stringify(prefix) + (createsInPrefix ? ' create' : '');
  return { pass, prefix, rest: pass.segs.slice(prefix.length), createsInPrefix, key };
}

/** One step for a group of units: per consumer with its own visitors (codelist code forms), else one. */
function fuse(units: readonly Unit[]): Step {
  const build = (visits: readonly ContainerVisitor<MapCtx>[]): Step => {
    const inners = units.map((u, k) => compileWalker<MapCtx>(u.rest, visits[k], u.pass.create));
    const { prefix, createsInPrefix } = units[0];
    if (inners.length === 1) {
      const walk = compileWalkerOver(prefix, inners[0], createsInPrefix);
      return (body, ctx) => walk(body, ctx.trail, ctx);
    }
    const direct = units.map((u, k) => (u.rest.length === 0 ? visits[k] : undefined));
    const walk = compileWalkerOver(prefix, eachElement(inners, direct), createsInPrefix);
    return (body, ctx) => {
      const start = ctx.removed.length;
      ctx.lastRemoved = undefined;
      const out = walk(body, ctx.trail, ctx);
      handOn(ctx, start);
      return out;
    };
  };
  const byDefault = build(units.map((u) => u.pass.visit));
  const senders = new Set(units.flatMap((u) => [...(u.pass.bySender?.keys() ?? [])]));
  if (senders.size === 0) return byDefault;
  const bySender = new Map(
    [...senders].map((s) => [s, build(units.map((u) => u.pass.bySender?.get(s) ?? u.pass.visit))] as const),
  );
  return (body, ctx) => (ctx.consumer === undefined ? byDefault : (bySender.get(ctx.consumer) ?? byDefault))(body, ctx);
}

/**
 * Runs the units in order on one element; what each reports or removes is marked with its index (holdBack).
 * A unit visiting the element itself (`rest` empty) is called directly: whether the element is an object
 * is asked once, and again only when a visitor replaced it (compileWalker would ask before every visit).
 */
function eachElement(walks: readonly Walker<MapCtx>[], visits: readonly (ContainerVisitor<MapCtx> | undefined)[]) {
  return (node: unknown, trail: Trail, ctx: MapCtx): unknown => {
    let element = node;
    let record = isRecord(node);
    for (let k = 0; k < walks.length; k++) {
      const errors = ctx.errors.length;
      const removed = ctx.removed.length;
      const visit = visits[k];
      let out = element;
      if (visit === undefined) out = walks[k](element, trail, ctx);
      else if (record) out = visit(element as Record<string, unknown>, trail, ctx);
      if (out !== element) {
        element = out;
        record = isRecord(out);
      }
      if (ctx.errors.length !== errors || ctx.removed.length !== removed) holdBack(ctx, k, errors, removed);
    }
    return element;
  };
}

/**
 * Moves what unit `k` just reported into its own list (at most MAX_MAPPING_ERRORS: no fewer than the unfused
 * run could still report) and marks the removeField entries it added as its own.
 */
function holdBack(ctx: MapCtx, k: number, errorsMark: number, removedMark: number): void {
  const held = (ctx.held ??= { errors: [], removedBy: [] });
  if (ctx.errors.length !== errorsMark) {
    const errors = (held.errors[k] ??= []);
    for (let i = errorsMark; i < ctx.errors.length && errors.length < MAX_MAPPING_ERRORS; i++) {
      errors.push(ctx.errors[i]);
    }
    ctx.errors.length = errorsMark;
  }
  for (let i = removedMark; i < ctx.removed.length; i++) held.removedBy.push(k);
  // The next unit's first removal is listed whatever came before: handOn drops repeats in op order.
  ctx.lastRemoved = undefined;
}

/**
 * Puts what the walk held back in op order, as the unfused runs would have made it: errors appended up to
 * MAX_MAPPING_ERRORS; the removeField entries added since `start` ordered by op (stable), an object listed
 * once per run of removals from it.
 */
function handOn(ctx: MapCtx, start: number): void {
  const held = ctx.held;
  if (held !== undefined) {
    ctx.held = undefined;
    for (const errors of held.errors) if (errors !== undefined) for (const e of errors) report(ctx, e);
    const by = held.removedBy;
    let inOrder = true;
    for (let i = 0; i < by.length && inOrder; i++) {
      inOrder = (i === 0 || by[i] >= by[i - 1]) && ctx.removed[start + i] !== ctx.removed[start + i - 1];
    }
    if (!inOrder) {
      const order = by.map((_, i) => i).sort((a, b) => by[a] - by[b] || a - b);
      const removed = ctx.removed.splice(start);
      const removedAt = ctx.removedAt!.splice(start);
      for (const i of order) {
        if (ctx.removed[ctx.removed.length - 1] === removed[i]) continue;
        ctx.removed.push(removed[i]);
        ctx.removedAt!.push(removedAt[i]);
      }
    }
  }
  ctx.lastRemoved = ctx.removed[ctx.removed.length - 1];
}
