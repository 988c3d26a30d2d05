import { ConfigPathError } from '../config/config-error.ts';
import { isRawNumber } from './exact-numbers.ts';

/**
 * Field paths in mapping YAML (docs/transform.md, "Path syntax"):
 *   ''            the body itself
 *   'a.b'         key b of object a
 *   '[]'          every element of the body (MOLISA bodies are arrays of records, seed 004 Appendix 1)
 *   '[].a'        key a of every record
 *   'a[].b'       key b of every element of array a
 * A key is any run of characters other than `.`, `[` and `]`.
 */
export type Segment = { readonly kind: 'key'; readonly key: string } | { readonly kind: 'each' };

/** Keys that must never be addressed or written: assigning them can reach Object.prototype. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const KEY_WITH_EACH = /^([^.[\]]*)((?:\[\])*)$/;

/** Parses a path string into segments; throws ConfigPathError (rule `path`) on bad syntax. */
export function parsePath(text: string, path: readonly (string | number)[]): Segment[] {
  if (text === '') return [];
  const out: Segment[] = [];
  for (const part of text.split('.')) {
    const m = KEY_WITH_EACH.exec(part);
    if (!m || (m[1] === '' && m[2] === '') || (m[1] === '' && out.length > 0)) {
      throw new ConfigPathError(path, 'path', `invalid field path: "${text}" (see docs/transform.md)`);
    }
    if (m[1] !== '') {
      if (FORBIDDEN_KEYS.has(m[1])) {
        throw new ConfigPathError(path, 'path', `key "${m[1]}" is not allowed in path "${text}"`);
      }
      out.push({ kind: 'key', key: m[1] });
    }
    for (let i = 0; i < m[2].length / 2; i++) out.push({ kind: 'each' });
  }
  return out;
}

/** A field path split into the containers it lives in and its own key (the last segment). */
export interface FieldPath {
  readonly container: readonly Segment[];
  readonly key: string;
}

/** Parses `at` + `field` into a container path and a final key; the field must end in a plain key. */
export function parseFieldPath(
  at: string,
  field: string,
  atPath: readonly (string | number)[],
  fieldPath: readonly (string | number)[],
): FieldPath {
  const segs = [...parsePath(at, atPath), ...parsePath(field, fieldPath)];
  const last = segs.at(-1);
  if (!last || last.kind !== 'key') {
    throw new ConfigPathError(fieldPath, 'path', `field "${field}" must end with a key name (not "[]")`);
  }
  return { container: segs.slice(0, -1), key: last.key };
}

/** Plain JSON object (not array, not null, not a number carried as its source text: exact-numbers.ts). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !isRawNumber(v);
}

/** Trail of keys/indexes from the body root to the current container, pushed/popped while walking. */
export type Trail = (string | number)[];

/** JSON pointer (RFC 6901) of `trail` + optional `key`: `/0/HoVaTen`. */
export function toPointer(trail: readonly (string | number)[], key?: string): string {
  let out = '';
  for (const seg of trail) out += '/' + escapePointer(String(seg));
  if (key !== undefined) out += '/' + escapePointer(key);
  return out;
}

function escapePointer(s: string): string {
  return s.includes('~') || s.includes('/') ? s.replace(/~/g, '~0').replace(/\//g, '~1') : s;
}

/**
 * Called for each container object a path selects; returns the object to keep in its place (the same one
 * when edited in place, a new one when rebuilt).
 */
export type ContainerVisitor<E> = (obj: Record<string, unknown>, trail: Trail, ctx: E) => Record<string, unknown>;

/** Walker over a body: returns the (possibly replaced) body. */
export type Walker<E> = (node: unknown, trail: Trail, ctx: E) => unknown;

/**
 * Compiles a container path into a closure that calls `visit` on every object it selects. Missing keys,
 * non-objects and non-arrays along the way are skipped (validation reports shape problems); with `create`,
 * missing plain keys are created as empty objects so `default`/`constant` can set nested fields.
 */
export function compileWalker<E>(segs: readonly Segment[], visit: ContainerVisitor<E>, create = false): Walker<E> {
  return compileWalkerOver(segs, (node, trail, ctx) => (isRecord(node) ? visit(node, trail, ctx) : node), create);
}

/**
 * compileWalker with `inner` called on every node the path selects, whatever it is: compileWalker(a ++ b, v)
 * is compileWalkerOver(a, compileWalker(b, v)) (the fused walk of compile-mapping.ts relies on it).
 */
export function compileWalkerOver<E>(segs: readonly Segment[], inner: Walker<E>, create = false): Walker<E> {
  let walk = inner;
  for (let i = segs.length - 1; i >= 0; i--) {
    const next = walk;
    const seg = segs[i];
    if (seg.kind === 'each') {
      walk = (node, trail, ctx) => {
        if (!Array.isArray(node)) return node;
        for (let j = 0; j < node.length; j++) {
          trail.push(j);
          const child = node[j];
          const out = next(child, trail, ctx);
          trail.pop();
          if (out !== child) node[j] = out;
        }
        return node;
      };
    } else {
      const key = seg.key;
      // Only create objects where an object is expected next (never in place of an array).
      const createHere = create && (i === segs.length - 1 || segs[i + 1].kind === 'key');
      walk = (node, trail, ctx) => {
        if (!isRecord(node)) return node;
        let child = Object.hasOwn(node, key) ? node[key] : undefined;
        if (child === undefined) {
          if (!createHere) return node;
          child = {};
          node[key] = child;
        }
        trail.push(key);
        const out = next(child, trail, ctx);
        trail.pop();
        if (out !== child) node[key] = out;
        return node;
      };
    }
  }
  return walk;
}
