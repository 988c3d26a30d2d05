import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Everything the test run made the gateway write (log lines, audit files), and every secret the tests
 * handed it, so one check after the whole suite can prove that no citizen ID number, secret or token was
 * written in clear (Decree 13/2023; domain.md §3). A registry is the only place that sees all test files:
 * test gateways delete their directories on close, so audit files are read in here before that.
 *
 * Fed by test/helpers/gateway.ts (every startGateway: its log lines, its audit trail, the fixture keys);
 * tests add the secrets they invent with registerSecret(). Checked by the root hook in
 * test/helpers/root-hooks.ts, after every test file ran, whatever the order.
 */
export interface Written {
  readonly label: string;
  read(): string;
}

const written: Written[] = [];
const secrets = new Set<string>();

/** Registers a source of written text, read when the suite ends (or now, for files about to be deleted). */
export function registerWritten(label: string, read: () => string): void {
  written.push({ label, read });
}

/** Reads every file under `dir` now (plain or .gz) and registers their content. */
export function snapshotDir(label: string, dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    if (!statSync(file).isFile()) continue;
    const raw = readFileSync(file);
    const text = (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    registerWritten(`${label}/${name}`, () => text);
  }
}

/** A secret or token the tests used: it must appear nowhere the gateway wrote. */
export function registerSecret(value: string): void {
  if (value.length >= 8) secrets.add(value);
}

/** A 12-digit run not glued to other digits or letters: a personal ID number (Số định danh cá nhân). */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ID12 = /(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])/g;
/**
 * In the audit trail's files (side files included) a 12-digit run counts even when glued to letters: the
 * files are read by ID scanners that do not know a hex hash from a number (issue 14.7, the old rotator's
 * `.audit-rotation.json`). Logs may hold the gateway's own hex config hashes, hence the looser rule there.
 */
const ID12_STRICT = /(?<![0-9])[0-9]{12}(?![0-9])/g;

/**
 * Digits as they may be encoded in what was written: percent-encoded once or twice (`%30`, `%2530`) and
 * JSON-escaped (`\u0030`). Decoded before the ID scan, so `%30%30%31…` or a mix counts as the number; other
 * encoded bytes (`%20`) become one separator, so `x%20001099012345` counts too.
 */
function decodeDigits(text: string): string {
  return (
    text
      .replace(/%(?:25)*3([0-9])/gi, '$1')
      // Any other encoded byte is one character: its hex digits do not glue onto a number beside it.
      .replace(/%(?:25)*[0-9a-f]{2}/gi, '%')
      .replace(/\\u003([0-9])/gi, '$1')
  );
}

/**
 * The forms a secret may take in written text: as is, URL-encoded (`%2B`, form `+`), JSON-escaped, and
 * base64/base64url at each of the three byte alignments inside a longer encoded value (Basic credentials).
 */
export function secretForms(secret: string): string[] {
  const forms = new Set([
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    JSON.stringify(secret).slice(1, -1),
  ]);
  const bytes = Buffer.from(secret, 'utf8');
  for (let pad = 0; pad < 3; pad++) {
    for (const encoding of ['base64', 'base64url'] as const) {
      const text = Buffer.concat([Buffer.alloc(pad), bytes])
        .toString(encoding)
        .replace(/=+$/, '');
      // Drop the characters that depend on the bytes before (the padding group) and after the secret.
      const stable = text.slice(pad === 0 ? 0 : 4, text.length - 4);
      if (stable.length >= 8) forms.add(stable);
    }
  }
  return [...forms];
}

export interface Finding {
  readonly source: string;
  readonly what: string;
  readonly excerpt: string;
}

/** Scans everything registered; returns what was found in clear (empty = clean). */
export function findLeaks(sources: readonly Written[] = written, secretSet: ReadonlySet<string> = secrets): Finding[] {
  const findings: Finding[] = [];
  const forms = [...secretSet].map((secret) => ({ secret, forms: secretForms(secret) }));
  for (const w of sources) {
    // Request ids are UUIDs, whose last group can be 12 digits: blank them out first.
    const raw = w.read();
    const text = decodeDigits(raw).replace(UUID, '<uuid>');
    const idRule = /audit/i.test(w.label) ? ID12_STRICT : ID12;
    for (const m of text.matchAll(idRule)) {
      findings.push({ source: w.label, what: 'ID number', excerpt: excerpt(text, m.index, m[0].length) });
    }
    for (const { forms: list } of forms) {
      for (const form of list) {
        const at = raw.indexOf(form);
        if (at === -1) continue;
        findings.push({
          source: w.label,
          what: form === list[0] ? 'secret' : 'secret (encoded)',
          excerpt: excerpt(raw, at, form.length),
        });
        break;
      }
    }
  }
  return findings;
}

export function registryStats(): { sources: number; secrets: number; bytes: number } {
  return { sources: written.length, secrets: secrets.size, bytes: written.reduce((n, w) => n + w.read().length, 0) };
}

/** Context around a hit, with the hit itself shortened so the report does not repeat the leak. */
function excerpt(text: string, at: number, length: number): string {
  const hit = text.slice(at, at + length);
  return `${text.slice(Math.max(0, at - 60), at)}[${hit.slice(0, 3)}…${length}ch]${text.slice(at + length, at + length + 40)}`;
}
