/**
 * The registry of configuration errors, beside the gateway's `GW_…` codes (codes.ts): every fault a load,
 * a reload or `lgsp-gateway validate` reports carries one `CFG_…` code, with its `file:line:col`, the YAML
 * path, an English message and the rule broken. test/unit/error-codes-documented.test.ts fails when a code
 * here is not documented in README.md.
 *
 * English, not Vietnamese like the `GW_…` messages: a config error is read by the admin next to YAML keys,
 * JSON Schema rules, file paths and variable names, all English, and ajv writes its schema messages in
 * English (it has no Vietnamese locale); the `GW_…` messages are read by the calling systems' users.
 */
export const configCodes = {
  CFG_YAML_SYNTAX: 'a file is not valid YAML (the first fault of the file, at its line and column)',
  CFG_FILE: 'a config, schema or catalogue file or directory is missing, unreadable or malformed',
  CFG_UNKNOWN_KEY: 'a key the schema does not know: a typo is an error, never a silent default',
  CFG_MISSING_KEY: 'a required key is missing',
  CFG_INVALID_VALUE:
    'a value of the wrong type, range, pattern or choice, or one a plug-in refuses (the rule says which)',
  CFG_DUPLICATE: 'a route id, a method and path, an upstream, a consumer or a top-level key defined twice',
  CFG_REFERENCE: 'a name that refers to nothing: an upstream, a consumer, a mapping block, a catalogue or schema file',
  CFG_UNKNOWN_PLUGIN:
    'an unknown credential strategy, mapping op, error dialect or route answer (the known ones are listed)',
  CFG_SECRET: 'a secret or environment variable that is not set, unreadable, or too weak for its use',
  CFG_START_ONLY:
    'a reload changed a start-only setting (the key is named): nothing of the reload applies; restart to apply it',
  CFG_BUILD: 'the gateway could not be built from a config that passed every check (the message says why)',
  CFG_CODE_FORM:
    'a code list read through columns where one value names two entries, or a consumer with no declared code form on a route whose default would misread another form (consumers.<id>.codeForms)',
} as const;

export type ConfigCode = keyof typeof configCodes;

const CODE_OF_RULE: Readonly<Record<string, ConfigCode>> = {
  'yaml-syntax': 'CFG_YAML_SYNTAX',
  read: 'CFG_FILE',
  files: 'CFG_FILE',
  directory: 'CFG_FILE',
  load: 'CFG_FILE',
  file: 'CFG_FILE',
  'catalog-dir': 'CFG_FILE',
  'catalog-read': 'CFG_FILE',
  'schema-compile': 'CFG_FILE',
  additionalProperties: 'CFG_UNKNOWN_KEY',
  required: 'CFG_MISSING_KEY',
  duplicate: 'CFG_DUPLICATE',
  unique: 'CFG_DUPLICATE',
  reference: 'CFG_REFERENCE',
  secret: 'CFG_SECRET',
  env: 'CFG_SECRET',
  'key-strength': 'CFG_SECRET',
  'key-format': 'CFG_SECRET',
  'start-only': 'CFG_START_ONLY',
  build: 'CFG_BUILD',
  ambiguous: 'CFG_CODE_FORM',
  'code-form': 'CFG_CODE_FORM',
};

/** The code of a fault by the rule it broke; a rule not listed is an invalid value. */
export function configCodeOf(rule: string): ConfigCode {
  return Object.hasOwn(CODE_OF_RULE, rule) ? CODE_OF_RULE[rule] : 'CFG_INVALID_VALUE';
}
