import {
  compileFieldStep,
  defineOp,
  fieldOrFields,
  fieldsOf,
  oneOfFieldOrFields,
  opSchema,
  removeField,
} from './common.ts';

/** drop: removes fields (paths relative to `at`), e.g. a sender's extra field the upstream refuses. */
export const dropOp = defineOp(opSchema(fieldOrFields, oneOfFieldOrFields), (o, { path }) => {
  const run = compileFieldStep(o.at, fieldsOf(o, path), path, (obj, key, _trail, ctx) => {
    if (Object.hasOwn(obj, key)) removeField(obj, key, ctx);
  });
  return { run };
});
