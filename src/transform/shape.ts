import { FORBIDDEN_KEYS } from './path.ts';

/**
 * Record rebuilding specialised per key list ("shape"). Rebuilding a 27-key MOLISA record with
 * `out[target] = value` in a loop costs ~1.4 µs (each store is a megamorphic keyed store that walks V8's
 * transition tree); a function generated for that exact key list, reading and writing literal names, costs
 * ~40 ns and yields a fast-mode object that validation, JSON.stringify and the audit walk read faster.
 * Records of one sender share a handful of shapes, so a small per-op cache of generated builders pays.
 *
 * Keys are sender data: they only ever enter the generated source through JSON.stringify (a JSON string
 * literal is a valid JavaScript string literal), and a key list holding `__proto__`/`constructor`/
 * `prototype` never gets a builder (a literal `"__proto__":` would set the prototype).
 */

/** Builds the renamed copy of a record: values `undefined` (removed by an earlier op) are left out. */
export type ShapeBuilder = (obj: Record<string, unknown>) => Record<string, unknown>;

/** At most this many shapes per cache; later shapes take the generic path (same result, slower). */
export const MAX_SHAPES = 64;
/**
 * Records with more keys than this are never specialised nor cached (the generated source and the stored
 * key list grow with the keys): a record of 600,000 keys once pinned ~60 MB per op (issue 14.1).
 */
export const MAX_SHAPE_KEYS = 256;
/**
 * At most this many UTF-16 units of key names per cache, all shapes together: key names are sender data
 * of any length, so an entry bound alone bounds nothing. A cache stays under ~0.5 MB with every plan
 * (64 shapes x 256 keys x a few pointers + 64 Ki units of names, twice for the generated source).
 */
export const MAX_SHAPE_KEY_UNITS = 64 * 1024;

/**
 * Shapes met during one mapping call, stored in their caches only once the body is accepted (mapping and
 * schema found nothing; compile-mapping.ts, body-stage.ts): a rejected body never takes a cache slot.
 */
export type PendingShapes = { cache: ShapeCache<unknown>; keys: readonly string[]; plan: unknown }[];

/** Stores every pending shape in its cache (each still subject to the cache's bounds) and empties the list. */
export function admitShapes(pending: PendingShapes): void {
  for (const p of pending) p.cache.set(p.keys, p.plan);
  pending.length = 0;
}

/** Map from a record's key list (in order) to what an op compiled for it, bounded in entries and bytes. */
export class ShapeCache<P> {
  readonly #byLength = new Map<number, { keys: readonly string[]; plan: P }[]>();
  #size = 0;
  #units = 0;
  /** The entries `get` found last, most recent first (at most RECENT_SHAPES): what `recentFor` tries. */
  readonly #recent: { keys: readonly string[]; plan: P }[] = [];

  /** The plan stored for exactly this key list, or undefined. */
  get(keys: readonly string[]): P | undefined {
    const list = this.#byLength.get(keys.length);
    if (list === undefined) return undefined;
    outer: for (let p = 0; p < list.length; p++) {
      const known = list[p].keys;
      for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) continue outer;
      this.#remember(list[p]);
      return list[p].plan;
    }
    return undefined;
  }

  /**
   * What `get(Object.keys(obj))` would answer when `obj`'s key list is one `get` found lately; undefined
   * otherwise (the caller then builds the key list and asks `lookup`). Compares the keys as a for-in loop
   * reads them (hasKeys): no key array per record (issue 19: a 27-key record's array is ~240 bytes, and
   * rename and compaction each built one per record). Entries are never removed from a cache, so a
   * remembered one is still what `get` finds first for its keys.
   */
  recentFor(obj: Record<string, unknown>): P | undefined {
    const recent = this.#recent;
    for (let r = 0; r < recent.length; r++) if (hasKeys(obj, recent[r].keys)) return recent[r].plan;
    return undefined;
  }

  #remember(entry: { keys: readonly string[]; plan: P }): void {
    const recent = this.#recent;
    if (recent[0] === entry) return;
    const at = recent.indexOf(entry);
    if (at > 0) recent.splice(at, 1);
    else if (recent.length >= RECENT_SHAPES) recent.pop();
    recent.unshift(entry);
  }

  /**
   * The plan for `obj`'s key list: a shape met lately (recentFor: no key array), else the cache's or this
   * call's (lookup), else `make(keys, keep)`, proposed when the cache would keep it (`keep` = admits). A
   * shape the cache will not keep (full, too many keys, names too long) gets a plan for this record only
   * (issue 14.1): `make` is told so, and builds nothing worth retaining.
   */
  planOf(
    obj: Record<string, unknown>,
    pending: PendingShapes | undefined,
    make: (keys: readonly string[], keep: boolean) => P,
  ): P {
    const recent = this.recentFor(obj);
    if (recent !== undefined) return recent;
    const keys = Object.keys(obj);
    const known = this.lookup(keys, pending);
    if (known !== undefined) return known;
    const keep = this.admits(keys);
    const plan = make(keys, keep);
    if (keep) this.propose(keys, plan, pending);
    return plan;
  }

  /** The plan for this key list: from the cache, else from the shapes this call met so far. */
  lookup(keys: readonly string[], pending: PendingShapes | undefined): P | undefined {
    const hit = this.get(keys);
    if (hit !== undefined || pending === undefined) return hit;
    outer: for (const p of pending) {
      if (p.cache !== (this as ShapeCache<unknown>) || p.keys.length !== keys.length) continue;
      for (let i = 0; i < keys.length; i++) if (p.keys[i] !== keys[i]) continue outer;
      return p.plan as P;
    }
    return undefined;
  }

  /**
   * Keeps `plan` for `keys`: at once without `pending`, else in `pending` until the call's body is accepted
   * (at most MAX_SHAPES pending per call, each admitted by this cache's bounds).
   */
  propose(keys: readonly string[], plan: P, pending: PendingShapes | undefined): void {
    if (pending === undefined) this.set(keys, plan);
    else if (pending.length < MAX_SHAPES && this.admits(keys)) {
      pending.push({ cache: this as ShapeCache<unknown>, keys: keys.slice(), plan });
    }
  }

  /** True when this key list would be stored by `set` (room left, not too many keys, names not too long). */
  admits(keys: readonly string[]): boolean {
    if (this.#size >= MAX_SHAPES || keys.length > MAX_SHAPE_KEYS) return false;
    return this.#units + keyUnits(keys) <= MAX_SHAPE_KEY_UNITS;
  }

  /** Stores `plan` for `keys` (a copy of the list is kept); ignored unless `admits(keys)`. */
  set(keys: readonly string[], plan: P): void {
    if (!this.admits(keys)) return;
    let list = this.#byLength.get(keys.length);
    if (list === undefined) this.#byLength.set(keys.length, (list = []));
    list.push({ keys: keys.slice(), plan });
    this.#size++;
    this.#units += keyUnits(keys);
  }

  /** Shapes stored and UTF-16 units of key names they hold (tests, admin). */
  get usage(): { shapes: number; keyUnits: number } {
    return { shapes: this.#size, keyUnits: this.#units };
  }
}

/** How many entries a ShapeCache tries by for-in before building a key list (a sender's usual shapes). */
export const RECENT_SHAPES = 4;

/**
 * True when `Object.keys(obj)` would be exactly `keys` (same names, same order), read by for-in without
 * building the array. for-in also lists enumerable keys of the prototype chain: where there is any (a
 * prototype other than a bare one, a polluted Object.prototype), the answer is false and the caller takes
 * Object.keys.
 */
export function hasKeys(obj: Record<string, unknown>, keys: readonly string[]): boolean {
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const _ in Object.prototype) return false;
  const n = keys.length;
  let i = 0;
  for (const key in obj) {
    if (i === n || key !== keys[i]) return false;
    i++;
  }
  return i === n;
}

function keyUnits(keys: readonly string[]): number {
  let units = 0;
  for (let i = 0; i < keys.length; i++) units += keys[i].length;
  return units;
}

/**
 * Generates a builder copying `sources[i]` to `targets[i]` in order, leaving out `undefined` values.
 * Returns undefined when the shape cannot be specialised (forbidden or duplicate targets, too many keys):
 * callers then use their generic loop.
 */
export function compileShapeBuilder(sources: readonly string[], targets: readonly string[]): ShapeBuilder | undefined {
  if (sources.length !== targets.length || sources.length > MAX_SHAPE_KEYS) return undefined;
  if (new Set(targets).size !== targets.length) return undefined;
  for (let i = 0; i < sources.length; i++) {
    if (FORBIDDEN_KEYS.has(sources[i]) || FORBIDDEN_KEYS.has(targets[i])) return undefined;
  }
  const n = sources.length;
  const lit = (s: string) => JSON.stringify(s);
  const reads = sources.map((s, i) => `v${i} = o[${lit(s)}]`).join(', ');
  const allSet = n === 0 ? 'true' : sources.map((_, i) => `v${i} !== undefined`).join(' && ');
  const literal = targets.map((t, i) => `${lit(t)}: v${i}`).join(', ');
  const stores = targets.map((t, i) => `if (v${i} !== undefined) out[${lit(t)}] = v${i};`).join('\n');
  // The common case (nothing removed) is one object literal; otherwise named stores in order.
  const body = `${n > 0 ? `const ${reads};` : ''}
if (${allSet}) return {${literal}};
const out = {};
${stores}
return out;`;
  return new Function('o', body) as ShapeBuilder;
}
