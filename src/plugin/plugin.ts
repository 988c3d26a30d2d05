import type { JSONSchemaType } from 'ajv';
import type { Static, TSchema } from 'typebox';

/**
 * Every pluggable piece (upstream credential strategy, transform operation, error dialect) is a
 * `{ schema, create }` pair: `schema` is the JSON Schema of its YAML options, checked when the config
 * loads; `create` builds the runtime piece from validated options and the dependencies passed in.
 * Adding one touches one new file and one line in its registry.
 */
export interface Plugin<Options, Deps, Built> {
  /** JSON Schema (draft-07, as ajv uses) of the options block, `additionalProperties: false`. */
  readonly schema: JSONSchemaType<Options> | Record<string, unknown>;
  /** Builds the runtime piece; throws a ConfigError-like Error on options schema cannot express. */
  create(options: Options, deps: Deps): Built;
}

export type Registry<Deps, Built> = Readonly<Record<string, Plugin<never, Deps, Built>>>;

/**
 * A plug-in whose options are written once, as a TypeBox schema: the JSON Schema the loader checks (and
 * fills defaults from) and, through `Static<>`, the type `create` receives.
 */
export function definePlugin<S extends TSchema, Deps, Built>(
  schema: S,
  create: (options: Static<S>, deps: Deps) => Built,
): Plugin<Static<S>, Deps, Built> {
  return { schema: schema as unknown as Record<string, unknown>, create };
}
