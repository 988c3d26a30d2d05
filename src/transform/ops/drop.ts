import { compileFieldStep, defineOp, fieldsOf, fieldOpSchema, keepingStrings, removeField } from './common.ts';

/** drop: removes fields (paths relative to `at`), e.g. a sender's extra field the upstream refuses. */
export const dropOp = defineOp(fieldOpSchema({}), (o, { path }) => {
  return keepingStrings(
    compileFieldStep(o.at, fieldsOf(o, path), path, (obj, key, _trail, ctx) => {
      if (Object.hasOwn(obj, key)) removeField(obj, key, ctx);
    }),
  );
});
