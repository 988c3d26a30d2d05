import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigPathError } from './config-error.ts';
import type { Env } from './interpolate.ts';
import type { SecretRef } from './types.ts';
import { maskText } from '../logging/mask.ts';
import { redactSecrets } from '../logging/secret-masker.ts';

type Path = readonly (string | number)[];

export interface SecretSource {
  env: Env;
  configDir: string;
}

/**
 * Resolves one secret at create time. An empty value counts as missing: `${VAR:-}` left empty is never a
 * valid consumer secret, and failing at load beats a 401 from the national platform at 2 a.m.
 * `{ env: X }` falls back to the file named by `X_FILE`, like the loader's `${X}` (Docker/Kubernetes secrets).
 */
export function resolveSecret(ref: SecretRef, name: string, path: Path, source: SecretSource): string {
  if (typeof ref === 'string') {
    if (ref !== '') return ref;
    throw new ConfigPathError(
      path,
      'secret',
      `secret ${name} is not set (empty value: check the \${VAR} it comes from)`,
    );
  }
  if ('env' in ref) {
    const direct = source.env[ref.env];
    if (direct !== undefined && direct !== '') return direct;
    const file = source.env[`${ref.env}_FILE`];
    if (file) return readSecretFile(file, name, path, source);
    throw new ConfigPathError(
      path,
      'secret',
      `secret ${name} is not set (env ${ref.env} / file named by ${ref.env}_FILE)`,
    );
  }
  return readSecretFile(ref.file, name, path, source);
}

function readSecretFile(file: string, name: string, path: Path, source: SecretSource): string {
  const full = isAbsolute(file) ? file : resolve(source.configDir, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigPathError(path, 'secret', `secret ${name} is not set (file ${full}: ${code})`);
  }
  // Secret files written by `echo` or editors end with a newline that is not part of the secret.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new ConfigPathError(path, 'secret', `secret ${name} is not set (file ${full} is empty)`);
  return value;
}

/**
 * Resolves `{ env }` / `{ file }` / a plain string by a config path (the consumer side's
 * settings: audit HMAC key, Redis URL, issuer keys, API keys) with the resolver above: `{ env: X }` falls back to the file named by `X_FILE`, files lose their
 * trailing newline, and a missing secret is a ConfigPathError naming it.
 */
export function resolveSecretRef(ref: SecretRef, path: readonly (string | number)[], env: Env): string {
  const name = typeof ref === 'object' && 'env' in ref ? ref.env : String(path.at(-1) ?? 'secret');
  const at = typeof ref === 'object' ? [...path, 'env' in ref ? 'env' : 'file'] : path;
  return resolveSecret(ref, name, at, { env, configDir: process.cwd() });
}

/** Resolves a map of named secrets (`secrets:` option blocks). */
export function resolveSecretMap(
  refs: Readonly<Record<string, SecretRef>> | undefined,
  path: Path,
  source: SecretSource,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, ref] of Object.entries(refs ?? {}))
    out.set(name, resolveSecret(ref, name, [...path, name], source));
  return out;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * Renders a string with `{{name}}` placeholders naming secrets, at create time: an unknown name is a
 * config error at `path`.
 */
export function compileTemplate(text: string, secrets: ReadonlyMap<string, string>, path: Path): string {
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (!secrets.has(match[1])) {
      const known = [...secrets.keys()].join(', ') || '(none)';
      throw new ConfigPathError(
        path,
        'reference',
        `{{${match[1]}}} names no secret of this strategy (known: ${known})`,
      );
    }
  }
  return text.replace(PLACEHOLDER, (_, name: string) => secrets.get(name) as string);
}

/** Deep-renders `{{name}}` placeholders in every string of a JSON template, checked at create time. */
export function compileJsonTemplate(value: unknown, secrets: ReadonlyMap<string, string>, path: Path): unknown {
  if (typeof value === 'string') return compileTemplate(value, secrets, path);
  if (Array.isArray(value)) return value.map((v, i) => compileJsonTemplate(v, secrets, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = compileJsonTemplate(v, secrets, [...path, k]);
    return out;
  }
  return value;
}

/**
 * Text safe to put in an error message or a log: every known secret value replaced in every encoding a
 * token endpoint may echo it in (clear, URL/form-encoded, JSON-escaped, base64: secret-masker.ts),
 * identifiers masked, length capped (an HTML error page is not a reason). Secrets are replaced before the
 * text is cut, so no cut leaves part of one behind.
 */
export function scrubSecrets(text: string, secrets: Iterable<string>, maxLength = 200): string {
  const out = maskText(redactSecrets(text, secrets).replace(/\s+/g, ' ').trim());
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out;
}
