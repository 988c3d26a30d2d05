import type { Static } from 'typebox';
import { Type } from '../../plugin/schema-type.ts';
import { StringMap } from '../../config/consumers-schema.ts';
import { FORBIDDEN_KEYS } from '../path.ts';
import { check, compileFieldStep, compileEmptyTest, defineOp, opSchema, passStep, type OpDeps } from './common.ts';

/**
 * default / constant: `values: {field: value}` (field paths relative to `at`; missing intermediate objects
 * are created). `default` sets a field only when it is missing (`when: missing`) or also when it is null
 * or `""` (`when: empty`); `constant` always sets it. Object/array values are copied per request so
 * compiled state never changes.
 */
const values = { values: StringMap(Type.Unknown(), { minProperties: 1 }) };
const ConstantSchema = opSchema(values);
const DefaultSchema = opSchema({ ...values, when: Type.Enum(['missing', 'empty'], { default: 'missing' }) });

function build(o: Static<typeof ConstantSchema> & { when?: 'missing' | 'empty' }, { path }: OpDeps, always: boolean) {
  const isEmpty = compileEmptyTest(['']);
  const whenEmpty = o.when === 'empty';
  const steps = Object.entries(o.values).map(([field, value]) => {
    const at = [...path, 'values', field];
    check(!FORBIDDEN_KEYS.has(field), at, 'forbidden', `key "${field}" is not allowed`);
    const frozen = deepFreeze(structuredClone(value));
    const produce = typeof value === 'object' && value !== null ? () => structuredClone(frozen) : () => frozen;
    return compileFieldStep(
      o.at,
      [[field, at]],
      path,
      (obj, key) => {
        if (always || !Object.hasOwn(obj, key) || obj[key] === undefined || (whenEmpty && isEmpty(obj[key]))) {
          obj[key] = produce();
        }
      },
      true,
    );
  });
  return passStep(steps.flatMap((s) => s.passes));
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

export const defaultOp = defineOp(DefaultSchema, (o, deps) => build(o, deps, false));
export const constantOp = defineOp(ConstantSchema, (o, deps) => build(o, deps, true));
