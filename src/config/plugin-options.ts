import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ConfigPathError } from './config-error.ts';
import type { Plugin, Registry } from '../plugin/plugin.ts';

type Path = readonly (string | number)[];

/**
 * Option schemas are static objects: each is compiled once for the process and memoised by the schema
 * object (a memo of pure functions, not state). `verbose` keeps the failing schema node, so its
 * `description` (why a value is refused) reaches the admin; `useDefaults` fills an option's schema default
 * in (on a copy: the config itself is never edited), so a plug-in never falls back on its own.
 */
let optionsAjv: Ajv | undefined;
const validators = new WeakMap<object, ValidateFunction>();
function validatorFor(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    optionsAjv ??= new Ajv({ allErrors: true, strict: false, verbose: true, useDefaults: true });
    validate = optionsAjv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/**
 * Checks a plug-in's options block against its schema (Kong-style: the platform validates, the plug-in
 * cannot forget to). Returns the first fault located at the exact option path, or undefined.
 */
export function pluginOptionsError(
  plugin: Pick<Plugin<never, unknown, unknown>, 'schema'>,
  options: unknown,
  path: Path,
  what: string,
): ConfigPathError | undefined {
  const checked = checkOptions(plugin, options, path, what);
  return 'fault' in checked ? checked.fault : undefined;
}

/** The options with their schema defaults filled in (a copy), or the first fault located at its option path. */
function checkOptions(
  plugin: Pick<Plugin<never, unknown, unknown>, 'schema'>,
  options: unknown,
  path: Path,
  what: string,
): { options: unknown } | { fault: ConfigPathError } {
  const validate = validatorFor(plugin.schema);
  const copy = structuredClone(options);
  if (validate(copy)) return { options: copy };
  return { fault: locatedError(validate.errors ?? [], path, what) };
}

/**
 * The one loader of every pluggable piece (credential strategy, mapping op, error dialect, route answer):
 * finds `name` in its registry, validates the options against the plug-in's schema, then builds it. Throws
 * ConfigPathError (located by the loader) for an unknown name (at `namePath`) or invalid options.
 */
export function buildPlugin<Deps, Built>(
  registry: Registry<Deps, Built>,
  kind: string,
  name: unknown,
  options: unknown,
  deps: Deps,
  path: Path,
  namePath: Path = path,
): Built {
  const plugin = typeof name === 'string' && Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!plugin) {
    throw new ConfigPathError(
      namePath,
      'enum',
      `unknown ${kind} ${JSON.stringify(name)} (known: ${Object.keys(registry).join(', ')})`,
      'CFG_UNKNOWN_PLUGIN',
    );
  }
  const checked = checkOptions(plugin, options, path, `${kind} ${name as string}`);
  if ('fault' in checked) throw checked.fault;
  return plugin.create(checked.options as never, deps);
}

function locatedError(errors: readonly ErrorObject[], path: Path, what: string): ConfigPathError {
  // The deepest error is the most specific (oneOf branches report at their parents too); at one depth a
  // misspelt key first, then an error outside the oneOf/anyOf branches (which only say "not this branch").
  const rank = (e: ErrorObject) =>
    e.keyword === 'additionalProperties'
      ? 0
      : /\/(oneOf|anyOf)\//.test(e.schemaPath) || /^(oneOf|anyOf)$/.test(e.keyword)
        ? 2
        : 1;
  const error = [...errors].sort((a, b) => b.instancePath.length - a.instancePath.length || rank(a) - rank(b))[0];
  if (!error) return new ConfigPathError(path, 'schema', `${what}: invalid options`);
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  // The key itself for an unknown or missing one; a `dependencies` fault stays at the object holding both keys.
  const key =
    error.keyword === 'additionalProperties'
      ? params.additionalProperty
      : error.keyword === 'required'
        ? params.missingProperty
        : undefined;
  const at = [...path, ...segments, ...(key === undefined ? [] : [key])];
  const why = (error.parentSchema as { description?: unknown } | undefined)?.description;
  const because = typeof why === 'string' ? ` (${why})` : '';
  if (error.keyword === 'additionalProperties') {
    return new ConfigPathError(at, error.keyword, `${what}: unknown option ${key}${because}`);
  }
  const allowed = params.allowedValues ? `: ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : '';
  return new ConfigPathError(at, error.keyword, `${what}: ${error.message ?? 'invalid'}${allowed}${because}`);
}
