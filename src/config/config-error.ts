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
}

/** Thrown when a config fails to load; carries every issue found, not just the first. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
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
  constructor(path: readonly (string | number)[], rule: string, message: string) {
    super(message);
    this.name = 'ConfigPathError';
    this.path = path;
    this.rule = rule;
  }
}

/** `file:line:col: path: message (rule)` — the line an admin reads in the log and in `validate`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.file
    ? `${issue.file}${issue.line === undefined ? '' : `:${issue.line}:${issue.column ?? 1}`}`
    : '<config>';
  // A fault of the file itself (YAML syntax) has no config path: `file:line:col: message`.
  const at = issue.path || (issue.file ? '' : '(root)');
  return `${where}: ${at ? `${at}: ` : ''}${issue.message} [${issue.rule}]`;
}

/** `['routes', 3, 'upstream']` -> `routes[3].upstream` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}
