import { Type } from '../../plugin/schema-type.ts';
import { StringMap } from '../../config/consumers-schema.ts';
import { FORBIDDEN_KEYS, type ContainerVisitor } from '../path.ts';
import { compileShapeBuilder, ShapeCache, type ShapeBuilder } from '../shape.ts';
import { normalizeKey } from '../text.ts';
import {
  check,
  compileContainerStep,
  keepingStrings,
  defineOp,
  fieldError,
  opSchema,
  report,
  toPointer,
  type MapCtx,
} from './common.ts';

/**
 * rename: keys of the objects `at` selects. Seed 004's JSON examples drift from its own tables
 * (`HKTTC_MaTinh` vs `HKTT_MaTinh`, `PhongBanXuLy` vs `DonViXuLy`, `" UserIdCreated"` vs `UseridCreated`).
 * - `fields`: `{from: to}`; a trailing `*` on both sides is a prefix pattern (`HKTTC_*: HKTT_*`);
 * - `canonical`: names whose variants (surrounding spaces, other letter case) are renamed to them;
 * - `tolerant: true`: `fields` sources also match ignoring surrounding spaces and case;
 * - `reverse: true`: `fields` read right to left (`{from: to}` renames `to` to `from`), so one table written
 *   once (a YAML anchor) serves the outbound call and the inbound one (MOLISA case A2, seed 004).
 * Key order is kept. Two keys landing on one name with different values is a conflict (`onConflict`).
 */
interface RenamePlan {
  /** The key list the plan is for (a record it is found for has exactly these keys, in this order). */
  readonly keys: readonly string[];
  readonly targets: readonly (string | undefined)[] | undefined;
  readonly build?: ShapeBuilder;
}

export const renameOp = defineOp(
  opSchema(
    {
      fields: Type.Optional(StringMap(Type.String({ minLength: 1 }), { minProperties: 1 })),
      canonical: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
      tolerant: Type.Boolean({ default: false }),
      onConflict: Type.Enum(['reject', 'keep', 'overwrite'], { default: 'reject' }),
      reverse: Type.Boolean({ default: false }),
    },
    { anyOf: [{ required: ['fields'] }, { required: ['canonical'] }] },
  ),
  (o, { path }) => {
    const exact = new Map<string, string>();
    const loose = new Map<string, string>();
    const prefixes: { from: string; to: string }[] = [];
    const tolerant = o.tolerant;
    const table = Object.entries(o.fields ?? {});
    if (o.reverse) {
      // Two names landing on one would make the inbound direction a guess.
      const seen = new Set<string>();
      for (const [from, to] of table) {
        check(
          !seen.has(to),
          [...path, 'fields', from],
          'ambiguous',
          `"${to}" is the target of two entries: reverse: true cannot tell which to restore`,
        );
        seen.add(to);
      }
    }
    for (const [key, value] of table) {
      const [from, to] = o.reverse ? [value, key] : [key, value];
      const at = [...path, 'fields', key];
      const fromStar = from.endsWith('*');
      const toStar = to.endsWith('*');
      check(
        fromStar === toStar,
        at,
        'pattern',
        `"${from}: ${to}": a prefix pattern needs "*" at the end of both sides`,
      );
      const f = fromStar ? from.slice(0, -1) : from;
      const t = toStar ? to.slice(0, -1) : to;
      check(
        f !== '' && !f.includes('*') && !t.includes('*'),
        at,
        'pattern',
        `"${from}": "*" is supported only at the end`,
      );
      check(!FORBIDDEN_KEYS.has(t) && !FORBIDDEN_KEYS.has(f), at, 'forbidden', `key "${t}" is not allowed`);
      if (fromStar) prefixes.push({ from: tolerant ? normalizeKey(f) : f, to: t });
      else {
        exact.set(from, to);
        if (tolerant) loose.set(normalizeKey(from), to);
      }
    }
    // Names already right are the common case: an exact identity hit skips normalisation.
    for (const to of exact.values()) if (!exact.has(to)) exact.set(to, to);
    (o.canonical ?? []).forEach((name, i) => {
      if (!exact.has(name)) exact.set(name, name);
      check(!FORBIDDEN_KEYS.has(name), [...path, 'canonical', i], 'forbidden', `key "${name}" is not allowed`);
      const k = normalizeKey(name);
      const prev = loose.get(k);
      check(
        prev === undefined || prev === name,
        [...path, 'canonical', i],
        'ambiguous',
        `"${name}" collides with another rule`,
      );
      loose.set(k, name);
    });
    const resolve = (key: string): string | undefined => {
      const e = exact.get(key);
      if (e !== undefined) return e;
      if (loose.size > 0) {
        const l = loose.get(normalizeKey(key));
        if (l !== undefined) return l;
      }
      for (const p of prefixes) {
        const k = tolerant ? key.trim() : key;
        const probe = tolerant ? k.slice(0, p.from.length).toLowerCase() : k.slice(0, p.from.length);
        if (probe === p.from) return p.to + k.slice(p.from.length);
      }
      return undefined;
    };
    const onConflict = o.onConflict;
    // Per key list: which keys change name (none: the record is kept as is) and, when no two keys land
    // on one name, a builder generated for that list (shape.ts); conflicts take the loop below.
    const shapes = new ShapeCache<RenamePlan>();
    const planFor = (keys: readonly string[], specialise: boolean): RenamePlan => {
      let targets: (string | undefined)[] | undefined;
      for (let i = 0; i < keys.length; i++) {
        const t = resolve(keys[i]);
        if (t !== undefined && t !== keys[i]) {
          targets ??= new Array<string | undefined>(keys.length);
          targets[i] = t;
        }
      }
      const build =
        targets === undefined || !specialise
          ? undefined
          : compileShapeBuilder(
              keys,
              keys.map((k, i) => targets[i] ?? k),
            );
      return { keys, targets, build };
    };
    const visit: ContainerVisitor<MapCtx> = (obj, trail, ctx) => {
      // A shape the cache will not keep gets a plan for this record only: no generated builder (planFor).
      const plan = shapes.planOf(obj, ctx.shapes, planFor);
      const targets = plan.targets;
      if (targets === undefined) return obj;
      if (plan.build !== undefined) return plan.build(obj);
      const keys = plan.keys;
      const out: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        if (FORBIDDEN_KEYS.has(key)) continue; // never reaches the __proto__ setter (json-body.ts)
        const value = obj[key];
        if (value === undefined) continue; // removed by an earlier op (removeField)
        const target = targets[i] ?? key;
        if (!Object.hasOwn(out, target)) {
          out[target] = value;
          continue;
        }
        if (out[target] === value) continue;
        if (onConflict === 'reject') {
          report(
            ctx,
            fieldError(toPointer(trail, target), 'renameConflict', 'được gửi hai lần dưới hai tên khác nhau', target),
          );
        } else if ((onConflict === 'keep') === (key === target)) {
          // keep: the value already under the target name wins; overwrite: the renamed one wins.
          out[target] = value;
        }
      }
      return out;
    };
    // It proposes record shapes (ctx.shapes): a fused walk never holds two such passes (fused-walk.ts).
    return keepingStrings(compileContainerStep(o.at, path, visit, true));
  },
);
