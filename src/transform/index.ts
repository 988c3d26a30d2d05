/**
 * Payload adaptation (issue 4): mapping ops declared per route in YAML, catalogues as data, JSON Schema
 * validation with Vietnamese FieldErrors, and a JSON body parser that names where a body is broken.
 * Reference: docs/transform.md.
 */
export { loadCatalogs, parseCatalog, type Catalog, type CatalogEntry, type CatalogSet } from './catalogs.ts';
export {
  compileCodeForms,
  describeCodeForms,
  type CodeForms,
  type CodelistReading,
  type ConsumerReading,
} from './code-forms.ts';
export { compileMapping, createMappingDeps, type MappingDeps, type MappingFn } from './compile-mapping.ts';
export { mappingOps } from './ops/registry.ts';
export type { BaseOptions, BodyFacts, CompiledOp, MapCtx, MappingOp, OpDeps, Step } from './ops/common.ts';
export { mayHoldCombiningMarks } from './text.ts';
export { createValidatorFactory, toFieldErrors, type ValidatorFactory, type ValidatorOptions } from './validator.ts';
export { parseJsonBody, parseJsonText, type ParseResult } from './json-body.ts';
export { compileBodyStage, type BodyStage, type BodyStageFn } from './body-stage.ts';
