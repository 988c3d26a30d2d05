import type { KeyObject } from 'node:crypto';
import { DEFAULT_DOSSIER_FIELDS, DEFAULT_SUBJECT_FIELDS } from '../../src/config/consumers-schema.ts';
import { compileSubjectHmac } from '../../src/observability/subject-hmac.ts';

/**
 * The audit key extractor as it was before issue 19's rewrite (src/observability/audit.ts
 * of 24e38fa), kept verbatim as the reference the rewritten one is property-tested against
 * (test/unit/consumers/audit-extractor-equivalence.test.ts) and measured against (bench/audit-keys.bench.ts):
 * both must give the same keys, in the same order, with the same values, on any body.
 */

const HMAC_SUFFIX = '#hmac';
const MAX_DEPTH = 4;
const MAX_VALUES = 100;
const MAX_NESTED_JSON = 1_000_000;

export interface ReferenceExtractOptions {
  hmacKey: Buffer | KeyObject;
  dossierFields?: readonly string[];
  subjectFields?: readonly string[];
}

export function compileReferenceAuditKeyExtractor(
  options: ReferenceExtractOptions,
): (body: unknown) => Record<string, string | string[]> {
  const dossier = new Map((options.dossierFields ?? DEFAULT_DOSSIER_FIELDS).map((f) => [f.toLowerCase(), f]));
  const subject = new Map((options.subjectFields ?? DEFAULT_SUBJECT_FIELDS).map((f) => [f.toLowerCase(), f]));
  const hmac = compileSubjectHmac(options.hmacKey);
  // Key name -> what it is: a subject field (output name `<field>#hmac`), a dossier field, or neither
  // (`OTHER`, walked into). Bounded, since senders choose the key names.
  const OTHER: KeyClass = { subject: false, name: '' };
  const classified = new Map<string, KeyClass>();
  const classify = (key: string): KeyClass => {
    let c = classified.get(key);
    if (c === undefined) {
      const lower = key.trim().toLowerCase();
      const subjectName = subject.get(lower);
      const dossierName = dossier.get(lower);
      c = subjectName
        ? { subject: true, name: subjectName + HMAC_SUFFIX }
        : dossierName
          ? { subject: false, name: dossierName }
          : OTHER;
      if (classified.size < 10_000) classified.set(key, c);
    }
    return c;
  };
  const hashedDossiers = new Map<string, KeyClass>();
  const hashedDossier = (c: KeyClass): KeyClass => {
    let h = hashedDossiers.get(c.name);
    if (!h) hashedDossiers.set(c.name, (h = { subject: true, name: c.name + HMAC_SUFFIX }));
    return h;
  };
  return (body) => {
    // Output name -> values in first-seen order. For a subject field, `raw` holds the trimmed identifiers
    // already hashed, so a citizen listed twice (or in an embedded copy) is hashed once (~1 µs a hash).
    const found = new Map<string, { values: Set<string>; raw?: Set<string> }>();
    const add = (c: KeyClass, value: string) => {
      // A dossier code holding 9+ digits in a row may hold an ID number (callers have put the citizen's
      // number in `maDinhDanhHoSo`): it is recorded as an HMAC under `<field>#hmac`, like a subject.
      if (!c.subject && hasIdLikeRun(value)) c = hashedDossier(c);
      let slot = found.get(c.name);
      if (slot === undefined)
        found.set(c.name, (slot = c.subject ? { values: new Set(), raw: new Set() } : { values: new Set() }));
      if (slot.values.size >= MAX_VALUES) return;
      if (!c.subject) slot.values.add(value);
      else if (!slot.raw!.has(value)) {
        slot.raw!.add(value);
        slot.values.add(hmac(value));
      }
    };
    const addScalars = (c: KeyClass, value: unknown) => {
      if (typeof value === 'string') {
        const t = value.trim();
        if (t !== '') add(c, t);
      } else if (typeof value === 'number') {
        if (Number.isFinite(value)) add(c, String(value));
      } else if (Array.isArray(value)) {
        for (const v of value) if (typeof v === 'string' || typeof v === 'number' || isRawNumber(v)) addScalars(c, v);
      } else if (isRawNumber(value)) {
        // A number a double cannot hold, carried as its source text (issue 14.6): recorded as that text.
        add(c, value.rawJSON);
      }
    };
    const walkString = (text: string, depth: number): void => {
      if (!mayBeJson(text)) return;
      const t = text.trim();
      if (t.length < MAX_NESTED_JSON) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(t);
        } catch {
          return; // not JSON after all: an ordinary string
        }
        walk(parsed, depth + 1);
      }
    };
    const walk = (node: unknown, depth: number): void => {
      if (depth > MAX_DEPTH || node === null) return;
      if (typeof node === 'string') return walkString(node, depth);
      if (typeof node !== 'object') return;
      if (Array.isArray(node)) {
        for (let i = 0; i < node.length; i++) walk(node[i], depth + 1);
        return;
      }
      const record = node as Record<string, unknown>;
      for (const key in record) {
        if (!Object.hasOwn(record, key)) continue;
        const value = record[key];
        const c = classify(key);
        if (c !== OTHER) addScalars(c, value);
        // Inline the common leaf cases of walk(value, depth + 1): numbers, booleans, short plain strings.
        else if (typeof value === 'object') walk(value, depth + 1);
        else if (typeof value === 'string' && depth + 1 <= MAX_DEPTH) walkString(value, depth + 1);
      }
    };
    walk(body, 0);
    const out: Record<string, string | string[]> = {};
    for (const [name, { values }] of found) out[name] = values.size === 1 ? values.values().next().value! : [...values];
    return out;
  };
}

/**
 * 9 or more ASCII digits in a row (`/[0-9]{9}/`): an old ID card number, a 12-digit personal ID number, or
 * one inside a longer run. A loop, not the regex: every dossier code of every body goes through it.
 */
function hasIdLikeRun(value: string): boolean {
  let run = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (++run === 9) return true;
    } else run = 0;
  }
  return false;
}

/** How a JSON key name classifies for the audit keys: `name` is the output name (`CMND#hmac`, `MaHoSo`). */
interface KeyClass {
  readonly subject: boolean;
  readonly name: string;
}

/** True when the first non-blank character opens a JSON object or array; trims only strings that start blank. */
function mayBeJson(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c === 0x7b || c === 0x5b) return true; // { [
  if (c > 0x20 && c < 0x7f) return false; // starts with a printable ASCII character that opens no JSON
  const t = text.trim();
  return t.startsWith('{') || t.startsWith('[');
}

/** A number kept as its JSON source text (`JSON.rawJSON`, Node 21+); never on a Node without it. */
function isRawNumber(value: unknown): value is { rawJSON: string } {
  return (JSON as { isRawJSON?: (v: unknown) => boolean }).isRawJSON?.(value) === true;
}
