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
/** Records with more keys than this are never specialised (the generated source grows with the keys). */
export const MAX_SHAPE_KEYS = 256;

/** Bounded map from a record's key list (in order) to what an op compiled for it. */
export class ShapeCache<P> {
  readonly #byLength = new Map<number, { keys: readonly string[]; plan: P }[]>();
  #size = 0;

  /** The plan stored for exactly this key list, or undefined. */
  get(keys: readonly string[]): P | undefined {
    const list = this.#byLength.get(keys.length);
    if (list === undefined) return undefined;
    outer: for (let p = 0; p < list.length; p++) {
      const known = list[p].keys;
      for (let i = 0; i < keys.length; i++) if (known[i] !== keys[i]) continue outer;
      return list[p].plan;
    }
    return undefined;
  }

  /** True when another shape may still be added. */
  get hasRoom(): boolean {
    return this.#size < MAX_SHAPES;
  }

  /** Stores `plan` for `keys` (a copy of the list is kept); ignored when the cache is full. */
  set(keys: readonly string[], plan: P): void {
    if (this.#size >= MAX_SHAPES) return;
    let list = this.#byLength.get(keys.length);
    if (list === undefined) this.#byLength.set(keys.length, (list = []));
    list.push({ keys: keys.slice(), plan });
    this.#size++;
  }
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
