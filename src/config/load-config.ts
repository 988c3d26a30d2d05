import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { ConfigError, ConfigPathError, formatPath, type ConfigIssue } from './config-error.ts';
import { GatewayConfigSchema } from './config-schema.ts';
import { interpolate, type Env } from './interpolate.ts';
import type { GatewayConfig } from './types.ts';
import type { Plugin } from '../plugin/plugin.ts';
import { pluginOptionsError } from './plugin-options.ts';

type PathSeg = string | number;

/** A parsed YAML file with what is needed to turn a YAML path into `line:column`. */
interface SourceFile {
  readonly name: string;
  readonly doc: Document;
  readonly lines: LineCounter;
}

/** Where a top-level entry of the merged config came from: `routes[7]` may be `routes/molisa.yaml` item 2. */
interface Origin {
  readonly file: SourceFile;
  readonly docPath: readonly PathSeg[];
}

export interface LoadedConfig {
  readonly config: GatewayConfig;
  /** SHA-256 over the config files and the schema and catalog files they reference. */
  readonly hash: string;
  readonly dir: string;
  readonly files: readonly string[];
  /** Turns a path of the merged config into a located issue. */
  locate(configPath: readonly PathSeg[], rule: string, message: string): ConfigIssue;
  /** What the loader decided for the admin to know (a fallback taken, a setting ignored): logged as warnings. */
  readonly notices: readonly string[];
}

export interface LoadOptions {
  env?: Env;
  /**
   * Known error dialects, to check references at load: their names, or the registry itself, whose option
   * schemas then validate every `errorDialect: { name, options }` (located like any other fault).
   */
  dialects?: readonly string[] | Readonly<Record<string, Pick<Plugin<never, unknown, unknown>, 'schema'>>>;
}

const MERGED_MAPS = new Set(['upstreams', 'consumers']);

/**
 * The directory of this package (where package.json, schemas/ and config/ are): `/app` in the image, the
 * checkout when run from the sources. Configs refer to it as `${LGSP_PACKAGE_DIR}`, so a config directory
 * copied or mounted elsewhere still finds the shipped schemas and route table.
 */
export const PACKAGE_DIR = findPackageDir(path.dirname(fileURLToPath(import.meta.url)));

function findPackageDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'schemas'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '../..');
  }
}

/** Ports an environment variable may set over the config (PORT is applied by the server: it may be 0). */
const PORT_VARIABLES = [
  { name: 'SANDBOX_PORT', key: 'sandbox.port' },
  { name: 'ADMIN_PORT', key: 'admin.listen.port' },
] as const;

/**
 * The config schema compiled once for the process: it is the same on every load, and compiling it was about
 * a quarter of a reload (which runs on the event loop, so traffic waits for it). A memo of a pure function
 * of a static object, not state.
 */
let configValidate: ValidateFunction | undefined;
function configValidator(): ValidateFunction {
  configValidate ??= new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(GatewayConfigSchema);
  return configValidate;
}

/** Reads, merges, interpolates, validates and freezes the YAML config of `dir`. Throws ConfigError. */
export function loadConfig(dir: string, options: LoadOptions = {}): LoadedConfig {
  const absDir = path.resolve(dir);
  if (!isDirectory(absDir)) {
    const why = existsSync(absDir) || isSymlink(absDir) ? 'is not a readable directory' : 'does not exist';
    throw new ConfigError([
      {
        path: '',
        rule: 'directory',
        message: `the config directory ${absDir} ${why} (set by LGSP_CONFIG_DIR, or the argument of validate/routes)`,
      },
    ]);
  }
  let env: Env = { LGSP_PACKAGE_DIR: PACKAGE_DIR, ...(options.env ?? process.env) };
  const issues: ConfigIssue[] = [];
  const notices: string[] = [];
  /** Files with a YAML syntax error: what they define is missing from the merged config. */
  const broken: string[] = [];
  const hash = createHash('sha256');
  const sources: SourceFile[] = [];
  const names: string[] = [];

  const readAndParse = (list: readonly string[]) => {
    for (const name of list) {
      names.push(name);
      let text: string;
      try {
        text = readFileSync(path.resolve(absDir, name), 'utf8');
      } catch (err) {
        issues.push({ file: name, path: '', rule: 'read', message: `cannot read file: ${(err as Error).message}` });
        continue;
      }
      hash.update(name).update('\0').update(text).update('\0');
      const lines = new LineCounter();
      const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
      if (doc.errors.length > 0) {
        // The first error only: the parser's later errors in the same file follow from it (one tab gave 14).
        const [first] = doc.errors;
        const pos = lines.linePos(syntaxErrorOffset(text, first));
        issues.push({
          file: name,
          line: pos.line,
          column: pos.col,
          path: '',
          rule: 'yaml-syntax',
          message: first.message.split('\n')[0] + (first.code === 'TAB_AS_INDENT' ? ' (indent with spaces)' : ''),
        });
        broken.push(name);
        continue;
      }
      sources.push({ name, doc, lines });
    }
  };

  // The top-level files first: one of them may move the route directory (`paths.routes`).
  readAndParse(listConfigFiles(absDir));
  env = { ...env, LGSP_SANDBOX_URL: env.LGSP_SANDBOX_URL || sandboxUrl(sources, env) };
  const routesSetting = configuredDir(sources, 'routes', env);
  const routesDir = path.resolve(absDir, routesSetting ?? 'routes');
  const routesFault = directoryFault(routesDir, routesSetting !== undefined);
  if (routesFault) issues.push({ path: 'paths.routes', rule: 'directory', message: routesFault });
  readAndParse(listRouteFiles(routesDir).map((file) => path.relative(absDir, file)));
  if (names.length === 0) issues.push({ path: '', rule: 'files', message: `no *.yaml file in ${absDir}` });
  // A file with a syntax error does not stop the others from being checked: one run lists every file's faults.
  if (issues.length > broken.length || sources.length === 0) throw new ConfigError(issues);

  // Merge the files into one document, remembering where each top-level entry came from.
  const merged: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  for (const file of sources) {
    const value: unknown = file.doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      issues.push(
        locateIn({ file, docPath: [] }, [], 'type', 'a config file must be a YAML mapping of top-level keys'),
      );
      continue;
    }
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'routes' && Array.isArray(v)) {
        const routes = (merged.routes ??= []) as unknown[];
        v.forEach((route, i) => {
          origins.set(`routes/${routes.length}`, { file, docPath: ['routes', i] });
          routes.push(route);
        });
      } else if (MERGED_MAPS.has(key) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const target = (merged[key] ??= {}) as Record<string, unknown>;
        for (const [id, entry] of Object.entries(v)) {
          const previous = origins.get(`${key}/${id}`);
          if (previous) {
            issues.push(
              locateIn(
                { file, docPath: [key, id] },
                [],
                'duplicate',
                `${key}.${id} is also defined in ${previous.file.name}`,
              ),
            );
            continue;
          }
          origins.set(`${key}/${id}`, { file, docPath: [key, id] });
          target[id] = entry;
        }
      } else {
        const previous = origins.get(key);
        if (previous) {
          issues.push(
            locateIn(
              { file, docPath: [key] },
              [],
              'duplicate',
              `top-level key ${key} is also defined in ${previous.file.name}`,
            ),
          );
          continue;
        }
        origins.set(key, { file, docPath: [key] });
        merged[key] = v;
      }
    }
  }

  const locate = (configPath: readonly PathSeg[], rule: string, message: string): ConfigIssue => {
    const two = configPath.length >= 2 ? origins.get(`${configPath[0]}/${configPath[1]}`) : undefined;
    if (two) return locateIn(two, configPath.slice(2), rule, message, configPath);
    const one = configPath.length >= 1 ? origins.get(String(configPath[0])) : undefined;
    if (one) return locateIn(one, configPath.slice(1), rule, message, configPath);
    return { path: formatPath(configPath), rule, message };
  };

  const interpolationIssues: ConfigIssue[] = [];
  const resolved = interpolate(merged, env, interpolationIssues) as Record<string, unknown>;
  for (const issue of interpolationIssues) issues.push(locate(parsePath(issue.path), issue.rule, issue.message));
  applyPortVariables(resolved, env, issues, notices);
  // What the files set, before the schema fills in defaults: a default directory may be absent, a named one not.
  const written = { ...(resolved.paths as Record<string, unknown> | undefined) };

  const mappingsPath = (resolved.paths as { mappings?: unknown } | undefined)?.mappings;
  resolveStageReferences(
    resolved,
    path.resolve(absDir, typeof mappingsPath === 'string' ? mappingsPath : 'mappings'),
    locate,
    issues,
    hash,
  );

  const validate = configValidator();
  if (!validate(resolved)) {
    for (const e of pruneErrors(validate.errors ?? [])) issues.push(ajvIssue(e, locate));
  }
  if (issues.length > 0) {
    // Report broken references too, so one run shows every fault, when the shape allows checking them.
    try {
      checkReferences(resolved as unknown as GatewayConfig, options, locate, issues);
    } catch {
      // the structure is too broken to follow references; the schema errors say why
    }
    throw new ConfigError(withoutFollowOns(issues, broken));
  }

  const config = resolved as unknown as GatewayConfig;
  const paths = {
    schemas: schemasDir(path.resolve(absDir, config.paths.schemas), notices),
    catalogs: path.resolve(absDir, config.paths.catalogs),
    routes: routesDir,
    mappings: path.resolve(absDir, config.paths.mappings),
  };
  for (const key of ['catalogs', 'mappings'] as const) {
    const fault = directoryFault(paths[key], written[key] !== undefined);
    if (fault) issues.push(locate(['paths', key], 'directory', fault));
  }
  (resolved as { paths: unknown }).paths = paths;
  checkReferences(config, options, locate, issues);
  if (issues.length > 0) throw new ConfigError(withoutFollowOns(issues, broken));

  for (const dirPath of [paths.schemas, paths.catalogs]) hashTree(dirPath, hash);
  return {
    config: deepFreeze(config),
    hash: hash.digest('hex'),
    dir: absDir,
    files: names,
    locate,
    notices,
  };
}

/**
 * Where to point for a YAML syntax error. The parser reports where it noticed the fault: for a quote never
 * closed that is the end of the file (a line past the last one); the opening quote is where to look.
 */
function syntaxErrorOffset(text: string, error: { code: string; message: string; pos: [number, number] }): number {
  const quote = error.code === 'MISSING_CHAR' ? /closing (["'])/.exec(error.message)?.[1] : undefined;
  const opening = quote ? text.lastIndexOf(quote, error.pos[0] - 1) : -1;
  if (opening >= 0) return opening;
  return Math.min(error.pos[0], Math.max(0, text.trimEnd().length - 1));
}

/**
 * With a file left out for its syntax error, the merged config lacks what that file defines: drop what
 * follows from that (a required top-level key, a route naming an upstream of that file) and keep every
 * fault located in the files that parsed.
 */
function withoutFollowOns(issues: readonly ConfigIssue[], broken: readonly string[]): ConfigIssue[] {
  if (broken.length === 0) return [...issues];
  return issues.filter(
    (i) =>
      (i.file !== undefined && broken.includes(i.file)) ||
      (i.file !== undefined &&
        !(i.rule === 'reference' && /\.(upstream|consumers\[\d+\])$/.test(i.path)) &&
        !(i.rule === 'required' && !i.path.includes('.'))),
  );
}

/**
 * Why a directory the config refers to cannot be used, or undefined. A default that does not exist is
 * fine (a config may have no routes/ or catalogs/); one named in the config, or a symbolic link whose
 * target is missing (a directory mounted without what it links to), is an error naming it.
 */
function directoryFault(dir: string, configured: boolean): string | undefined {
  if (isDirectory(dir)) return undefined;
  if (isSymlink(dir)) return `${dir} is a symbolic link to a missing directory (mounted without its target?)`;
  if (existsSync(dir)) return `${dir} is not a directory`;
  return configured ? `directory ${dir} does not exist` : undefined;
}

/**
 * The schema directory; when the configured one does not exist (a config copied or mounted elsewhere,
 * written with the shipped `../schemas`), the package's own schemas/, with a notice saying so.
 */
function schemasDir(configured: string, notices: string[]): string {
  if (isDirectory(configured)) return configured;
  const shipped = path.join(PACKAGE_DIR, 'schemas');
  if (!isDirectory(shipped)) return configured; // the schema compiler names the missing file
  notices.push(
    `paths.schemas: ${configured} does not exist; using the shipped schemas in ${shipped} (set paths.schemas to silence this)`,
  );
  return shipped;
}

/** `http://host:port` of the embedded sandbox as the config and SANDBOX_PORT set it: `${LGSP_SANDBOX_URL}`. */
function sandboxUrl(sources: readonly SourceFile[], env: Env): string {
  let sandbox: { host?: unknown; port?: unknown } = {};
  for (const file of sources) {
    const value = (file.doc.toJS() as { sandbox?: unknown } | null)?.sandbox;
    if (value && typeof value === 'object') sandbox = interpolate(value, env, []) as typeof sandbox;
  }
  const port = env.SANDBOX_PORT || String(sandbox.port ?? 9180);
  const host =
    typeof sandbox.host === 'string' && !['0.0.0.0', '::', ''].includes(sandbox.host) ? sandbox.host : '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** SANDBOX_PORT and ADMIN_PORT over the config's ports, checked as the schema would check the key. */
function applyPortVariables(config: Record<string, unknown>, env: Env, issues: ConfigIssue[], notices: string[]) {
  const object = (parent: Record<string, unknown>, key: string): Record<string, unknown> | undefined => {
    const value = parent[key];
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  };
  for (const { name, key } of PORT_VARIABLES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
      issues.push({ path: key, rule: 'env', message: `${name}="${value}" is not a port number (0-65535)` });
      continue;
    }
    if (name === 'SANDBOX_PORT') {
      config.sandbox = { ...object(config, 'sandbox'), port: Number(value) };
      continue;
    }
    const admin = object(config, 'admin');
    const listen = admin && object(admin, 'listen');
    if (!admin || !listen) {
      notices.push('ADMIN_PORT is set but admin.listen is not configured: there is no admin listener to move');
      continue;
    }
    config.admin = { ...admin, listen: { ...listen, port: Number(value) } };
  }
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * `request: { use: molisa.DongBoDVC }` takes the `request` block of key `DongBoDVC` in
 * `mappings/molisa.yaml` (the shipped mapping lists), so one list serves every route that needs it.
 * Keys written next to `use` (schema, mode, mapping) override the referenced ones.
 */
function resolveStageReferences(
  config: Record<string, unknown>,
  mappingsDir: string,
  locate: LoadedConfig['locate'],
  issues: ConfigIssue[],
  hash: ReturnType<typeof createHash>,
): void {
  const routes = config.routes;
  if (!Array.isArray(routes)) return;
  const files = new Map<string, Record<string, unknown> | Error>();
  routes.forEach((route: unknown, i) => {
    if (route === null || typeof route !== 'object') return;
    for (const stageName of ['request', 'response'] as const) {
      const stage = (route as Record<string, unknown>)[stageName] as Record<string, unknown> | undefined;
      if (!stage || typeof stage !== 'object' || stage.use === undefined) continue;
      const at = ['routes', i, stageName, 'use'];
      const ref = String(stage.use);
      const m = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_.-]+)$/.exec(ref);
      if (!m) {
        issues.push(
          locate(
            at,
            'pattern',
            `"${ref}" must be <file>.<key>, e.g. molisa.DongBoDVC (mappings/molisa.yaml, key DongBoDVC)`,
          ),
        );
        continue;
      }
      const [, fileName, key] = m;
      let doc = files.get(fileName);
      if (doc === undefined) {
        const file = path.join(mappingsDir, `${fileName}.yaml`);
        try {
          const text = readFileSync(file, 'utf8');
          hash.update(file).update('\0').update(text).update('\0');
          const parsed = parseDocument(text, { uniqueKeys: true });
          if (parsed.errors.length > 0)
            throw new Error(`mappings/${fileName}.yaml: ${parsed.errors[0].message.split('\n')[0]}`);
          doc = (parsed.toJS() ?? {}) as Record<string, unknown>;
        } catch (err) {
          doc = err instanceof Error ? err : new Error(String(err));
        }
        files.set(fileName, doc);
      }
      if (doc instanceof Error) {
        issues.push(locate(at, 'reference', `cannot use mappings/${fileName}.yaml: ${doc.message}`));
        continue;
      }
      const block = (doc[key] as Record<string, unknown> | undefined)?.[stageName] as
        Record<string, unknown> | undefined;
      if (!block || typeof block !== 'object') {
        issues.push(locate(at, 'reference', `mappings/${fileName}.yaml has no ${key}.${stageName} block`));
        continue;
      }
      const { use: _use, ...overrides } = stage;
      (route as Record<string, unknown>)[stageName] = { ...block, ...overrides };
    }
  });
}

/** Converts anything a runtime builder threw into located issues. */
export function issuesFrom(err: unknown, loaded: LoadedConfig): ConfigIssue[] {
  if (err instanceof ConfigError) return [...err.issues];
  if (err instanceof ConfigPathError) return [{ ...loaded.locate(err.path, err.rule, err.message), code: err.code }];
  return [{ path: '', rule: 'build', message: err instanceof Error ? err.message : String(err) }];
}

/** Top-level `*.yaml`/`*.yml` of the config directory (not dot-files: Kubernetes keeps `..data` there). */
export function listConfigFiles(dir: string): string[] {
  // A YAML name that is not a readable file (a dangling symlink of a half-swapped ConfigMap, a directory)
  // is listed anyway, so the load fails naming it: skipping it would load the config without its routes.
  return readdirSync(dir)
    .sort()
    .filter((name) => isYamlName(name));
}

/** Every YAML file under the route directory (`paths.routes`, default `routes/`), as absolute paths. */
export function listRouteFiles(routesDir: string): string[] {
  if (!isDirectory(routesDir)) return [];
  return walk(routesDir)
    .filter((name) => isYamlName(path.basename(name)))
    .map((name) => path.join(routesDir, name));
}

function isYamlName(name: string): boolean {
  return /\.ya?ml$/i.test(name) && !name.startsWith('.');
}

/**
 * `paths.<key>` as written in the top-level files (after `${VAR}` interpolation), read before the whole
 * config is validated because it says where the rest of the config is.
 */
function configuredDir(sources: readonly SourceFile[], key: string, env: Env): string | undefined {
  for (const file of sources) {
    const value = (file.doc.toJS() as { paths?: Record<string, unknown> } | null)?.paths?.[key];
    if (typeof value === 'string' && value !== '') return interpolate(value, env, []) as string;
  }
  return undefined;
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (isDirectory(full)) out.push(...walk(full, path.join(prefix, name)));
    else out.push(path.join(prefix, name)); // files, and dangling symlinks (read fails, naming them)
  }
  return out;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function hashTree(dir: string, hash: ReturnType<typeof createHash>): void {
  if (!isDirectory(dir)) return;
  for (const name of walk(dir)) {
    if (!/\.(json|ya?ml)$/i.test(name)) continue;
    let content: Buffer | string;
    try {
      content = readFileSync(path.join(dir, name));
    } catch {
      content = '(unreadable)'; // the compiler that reads it reports the fault, at its path
    }
    hash.update(name).update('\0').update(content).update('\0');
  }
}

function isNameList(x: NonNullable<LoadOptions['dialects']>): x is readonly string[] {
  return Array.isArray(x);
}

function checkReferences(
  config: GatewayConfig,
  options: LoadOptions,
  locate: LoadedConfig['locate'],
  issues: ConfigIssue[],
): void {
  const given = options.dialects;
  const registry = given === undefined || isNameList(given) ? undefined : given;
  const dialects = given === undefined || isNameList(given) ? given : Object.keys(given);
  const checkDialect = (ref: unknown, at: PathSeg[]) => {
    if (ref === undefined || !dialects) return;
    const name = typeof ref === 'string' ? ref : (ref as { name: string }).name;
    if (!dialects.includes(name)) {
      const unknown = locate(at, 'reference', `unknown error dialect "${name}" (known: ${dialects.join(', ')})`);
      issues.push({ ...unknown, code: 'CFG_UNKNOWN_PLUGIN' });
      return;
    }
    // Every dialect's options against its schema (issue 13.9): `{ name: molisa, options: { errorCode: 0 } }`
    // would make every gateway error read as success to a MOLISA caller.
    if (registry) {
      const opts = typeof ref === 'object' ? ((ref as { options?: unknown }).options ?? {}) : {};
      const fault = pluginOptionsError(registry[name], opts, [...at, 'options'], `error dialect ${name}`);
      if (fault) issues.push({ ...locate(fault.path, fault.rule, fault.message), code: fault.code });
    }
  };
  for (const [id, upstream] of Object.entries(config.upstreams)) {
    checkDialect(upstream.errorDialect, ['upstreams', id, 'errorDialect']);
  }
  const seenIds = new Map<string, number>();
  const seenMatch = new Map<string, number>();
  config.routes.forEach((route, i) => {
    const previous = seenIds.get(route.id);
    if (previous !== undefined)
      issues.push(
        locate(['routes', i, 'id'], 'unique', `route id "${route.id}" is already used by routes[${previous}]`),
      );
    seenIds.set(route.id, i);
    if (!Object.hasOwn(config.upstreams, route.upstream)) {
      const known = Object.keys(config.upstreams).join(', ') || 'none';
      issues.push(
        locate(
          ['routes', i, 'upstream'],
          'reference',
          `route "${route.id}" names upstream "${route.upstream}", which is not defined (defined: ${known})`,
        ),
      );
    }
    route.consumers.forEach((consumer, j) => {
      if (!Object.hasOwn(config.consumers, consumer)) {
        issues.push(
          locate(
            ['routes', i, 'consumers', j],
            'reference',
            `route "${route.id}" allows consumer "${consumer}", which is not defined`,
          ),
        );
      }
    });
    checkDialect(route.errorDialect, ['routes', i, 'errorDialect']);
    const headerKey = JSON.stringify(
      Object.entries(route.headers ?? {})
        .map(([k, v]) => [k.toLowerCase(), v])
        .sort(),
    );
    for (const method of route.methods) {
      const key = `${method} ${route.path} ${headerKey}`;
      const other = seenMatch.get(key);
      if (other !== undefined) {
        issues.push(
          locate(
            ['routes', i, 'path'],
            'unique',
            `${method} ${route.path} is already routed by routes[${other}] (${config.routes[other].id})`,
          ),
        );
      }
      seenMatch.set(key, i);
    }
  });
}

/** Drops the noise ajv produces for `oneOf` branches when a more specific error exists at a deeper path. */
function pruneErrors(errors: ErrorObject[]): ErrorObject[] {
  const specific = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf');
  return specific.length > 0 ? dedupe(specific) : errors;
}

function dedupe(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function ajvIssue(e: ErrorObject, locate: LoadedConfig['locate']): ConfigIssue {
  const at = parsePath(e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      return locate([...at, key], 'additionalProperties', `unknown key "${key}"`);
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return locate(at, 'required', `missing required key "${key}"`);
    }
    case 'enum':
      return locate(
        at,
        'enum',
        `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
      );
    case 'const':
      return locate(at, 'const', `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`);
    default:
      return locate(at, e.keyword, e.message ?? e.keyword);
  }
}

/** `/routes/3/upstream` or `routes[3].upstream` -> ['routes', 3, 'upstream'] */
function parsePath(p: string): PathSeg[] {
  if (!p) return [];
  const parts = p.startsWith('/')
    ? p
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    : p.split(/\.|\[|\]/).filter((s) => s !== '');
  return parts.map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function locateIn(
  origin: Origin,
  rest: readonly PathSeg[],
  rule: string,
  message: string,
  fullPath?: readonly PathSeg[],
): ConfigIssue {
  const { file } = origin;
  const docPath = [...origin.docPath, ...rest];
  let node: unknown = file.doc.contents;
  let offset: number | undefined = (node as YamlNode | null)?.range?.[0];
  for (const seg of docPath) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      const keyNode = pair.key as YamlNode | null;
      offset = keyNode?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      offset = (node as YamlNode).range?.[0] ?? offset;
    } else break;
  }
  const pos = offset === undefined ? undefined : file.lines.linePos(offset);
  return {
    file: file.name,
    line: pos?.line,
    column: pos?.col,
    path: formatPath(fullPath ?? docPath),
    rule,
    message,
  };
}

/** Freezes a plain-data tree so nothing can edit a loaded config. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
