import { configCodeOf, type ConfigCode } from '../errors/config-codes.ts';

/** One problem in the configuration, located as precisely as the loader can. */
export interface ConfigIssue {
  /** Config file (relative to the config directory) where the fault is, when known. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** YAML path of the fault in the merged config, e.g. `routes[3].upstream`. */
  readonly path: string;
  /** The rule broken (JSON Schema keyword, `reference`, `yaml-syntax`, `secret`, `schema-compile`, ...). */
  readonly rule: string;
  readonly message: string;
  /** Its `CFG_…` code (src/errors/config-codes.ts); when absent, the code of `rule`. */
  readonly code?: ConfigCode;
}

/** An issue with its code always set: what ConfigError carries. */
export type CodedIssue = ConfigIssue & { readonly code: ConfigCode };

/** The issue with its `CFG_…` code filled in from its rule when it has none of its own. */
export function coded(issue: ConfigIssue): CodedIssue {
  return issue.code === undefined ? { ...issue, code: configCodeOf(issue.rule) } : (issue as CodedIssue);
}

/** Thrown when a config fails to load; carries every issue found, not just the first. */
export class ConfigError extends Error {
  readonly issues: readonly CodedIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    const all = issues.map(coded);
    super(all.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = all;
  }
}

/**
 * Thrown by plugin factories and runtime builders (`create(options, deps)`) for a fault at a path of the
 * merged config; the loader turns it into a located ConfigIssue. `path` is a list of keys/indexes,
 * e.g. `['routes', 3, 'request', 'mapping', 1, 'catalog']`.
 */
export class ConfigPathError extends Error {
  readonly path: readonly (string | number)[];
  readonly rule: string;
  readonly code: ConfigCode;
  constructor(
    path: readonly (string | number)[],
    rule: string,
    message: string,
    code: ConfigCode = configCodeOf(rule),
  ) {
    super(message);
    this.name = 'ConfigPathError';
    this.path = path;
    this.rule = rule;
    this.code = code;
  }
}

/** `file:line:col: path: message [CFG_CODE rule]` — the line an admin reads in the log and in `validate`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.file
    ? `${issue.file}${issue.line === undefined ? '' : `:${issue.line}:${issue.column ?? 1}`}`
    : '<config>';
  // A fault of the file itself (YAML syntax) has no config path: `file:line:col: message`.
  const at = issue.path || (issue.file ? '' : '(root)');
  return `${where}: ${at ? `${at}: ` : ''}${issue.message} [${coded(issue).code} ${issue.rule}]`;
}

/** `['routes', 3, 'upstream']` -> `routes[3].upstream` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}
