// TypeBox's own builders, standing in for src/plugin/schema-type.ts in test/unit/plugin/schema-type.test.ts.
export { Type } from 'typebox';
