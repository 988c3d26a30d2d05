import {
  compileFieldStep,
  fieldOrFields,
  fieldsOf,
  oneOfFieldOrFields,
  opSchema,
  removeField,
  type BaseOptions,
  type MappingOp,
} from './common.ts';

/** drop: removes fields (paths relative to `at`), e.g. a sender's extra field the upstream refuses. */
interface Options extends BaseOptions {
  field?: string;
  fields?: string[];
}

export const dropOp: MappingOp<Options> = {
  schema: opSchema(fieldOrFields, [], oneOfFieldOrFields),
  create(o, { path }) {
    const run = compileFieldStep(o.at ?? '', fieldsOf(o, path), path, (obj, key, _trail, ctx) => {
      if (Object.hasOwn(obj, key)) removeField(obj, key, ctx);
    });
    return { run };
  },
};
