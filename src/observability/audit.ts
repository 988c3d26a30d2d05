import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { createLineBatcher } from '../logging/line-batcher.ts';
import { ConfigPathError } from '../config/config-error.ts';
import type { AuditConfig, AuditFailureMode, GatewayConfig, RouteAuditConfig } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { createCollapsedLog } from '../logging/collapsed-log.ts';
import { isoTimestamp, type Logger } from '../logging/logger.ts';
import type { Env } from '../config/interpolate.ts';
import { resolveSecretRef } from '../config/secrets.ts';
import {
  assertWritableAuditDir,
  type AuditHealth,
  type AuditSink,
  type AuditSinkEvents,
  createFileSink,
  createStreamSink,
  errorCode,
} from './audit-writer.ts';
import type { GatewayMetrics } from './metrics.ts';
import { compileSubjectHmac } from './subject-hmac.ts';

/**
 * The audit trail Decree 47/2020 asks for (who exchanged which data, domain.md §3): one JSON line per
 * exchange, kept apart from the debug log. A citizen is identified only by an HMAC of the ID number
 * (Decree 13/2023): an auditor holding the key can check "was citizen X looked up?", nobody can read
 * the number back, and unlike a plain SHA-256 the 10^12 possible IDs cannot be enumerated without the key.
 */
export interface AuditEntry {
  time: string;
  requestId: string;
  consumer?: string;
  route?: string;
  upstream?: string;
  method: string;
  status: number;
  durationMs: number;
  keys?: Record<string, string | string[]>;
  /** The officer who asked (route `officer:`): an account code, in clear (see officerEntry). */
  officer?: string;
  /** …or its HMAC when it holds 9+ digits in a row: an officer who uses an ID number as account. */
  'officer#hmac'?: string;
  /** A queued push's attempt (issue 17): `requestId` is then the tracking id; no payload, no keys. */
  delivery?: { attempt: number; outcome: string };
}

export interface AuditTrail {
  record(entry: AuditEntry): void;
  /** Throws GW_AUDIT_UNAVAILABLE while the trail cannot be written and the route's `onFailure` is `refuse`. */
  admit(route?: { readonly id?: string; readonly audit?: RouteAuditConfig }): void;
  /** False while the trail cannot be written and `audit.onFailure` is `refuse` (for /readyz). */
  readonly ready: boolean;
  readonly health: AuditHealth;
  /** Business keys of a body, with this trail's HMAC key and the route's field lists. */
  extractKeys(body: unknown, route?: { readonly audit?: RouteAuditConfig }): Record<string, string | string[]>;
  /** The audit fields naming the officer who asked (issue 16.6). */
  officerEntry(officer: string): Pick<AuditEntry, 'officer' | 'officer#hmac'>;
  /** Whose data came back: the route's `answerSubjectFields` of an answer, as `answer.<field>#hmac` (issue 16.6). */
  extractAnswerKeys(answer: unknown, route?: { readonly audit?: RouteAuditConfig }): Record<string, string | string[]>;
  /** Flushes and closes the files. */
  close(): Promise<void>;
}

import { DEFAULT_DOSSIER_FIELDS, DEFAULT_SUBJECT_FIELDS } from '../config/consumers-schema.ts';

export { DEFAULT_DOSSIER_FIELDS, DEFAULT_SUBJECT_FIELDS };

/** Suffix of a hashed subject key in `keys`, e.g. `soDinhDanh#hmac`. */
export const HMAC_SUFFIX = '#hmac';
/** Prefix of a key read from the answer rather than the request, e.g. `answer.soDinhDanh#hmac`. */
export const ANSWER_PREFIX = 'answer.';
const MAX_DEPTH = 4;
const MAX_VALUES = 100;
const MAX_NESTED_JSON = 1_000_000;

export interface ExtractOptions {
  hmacKey: Buffer | KeyObject;
  dossierFields?: readonly string[];
  subjectFields?: readonly string[];
}

/**
 * HMAC-SHA256 of an identifier (trimmed), base64url without padding. Not hex: 64 hex characters hold a
 * run of 12 digits in about one hash in five, which ID scanners (and mask.ts) would flag as a citizen ID.
 * The trail itself computes the same digest with compileSubjectHmac (subject-hmac.ts: no `Hmac` object per ID).
 */
export function hashSubject(value: string, hmacKey: Buffer | KeyObject): string {
  return createHmac('sha256', hmacKey).update(value.trim(), 'utf8').digest('base64url');
}

/**
 * Pulls business keys from a (possibly array) body: dossier codes as they are, personal identifiers (and
 * dossier codes holding 9+ digits in a row) as HMACs under `<field>#hmac`. Field names match case-insensitively, up to 4 levels deep; a string field
 * holding JSON (the civil-status push carries `data` as a JSON string, domain.md §4) is looked into too.
 */
export function extractAuditKeys(body: unknown, options: ExtractOptions): Record<string, string | string[]> {
  return compileAuditKeyExtractor(options)(body);
}

/**
 * extractAuditKeys with the field tables built once: the audit trail compiles one extractor per route, and
 * remembers how each JSON key name classifies, instead of lower-casing every key of every record of every
 * body (that walk was ~17% of the gateway's CPU on a 4 KB MOLISA body, docs/benchmarks.md).
 *
 * One walk's state (the output slots, one per output name, in a list by the number each field's class
 * carries) is reused call after call and emptied after each: no Map, Set or closure per call (values are
 * kept in short lists, indexed by a Set only past a handful), and nothing of a body (no citizen ID) is
 * kept past its call. The own-key test is `hasOwnProperty.call`, which V8 answers from the for-in's enum
 * cache (`Object.hasOwn` is a lookup per key): ~0.7x of the walk's cost (docs/benchmarks.md, "What the fourth session's changes bought").
 */
export function compileAuditKeyExtractor(
  options: ExtractOptions,
): (body: unknown) => Record<string, string | string[]> {
  const table = new KeyTable(
    options.dossierFields ?? DEFAULT_DOSSIER_FIELDS,
    options.subjectFields ?? DEFAULT_SUBJECT_FIELDS,
  );
  const hmac = compileSubjectHmac(options.hmacKey);
  let idle: KeyWalk | undefined = new KeyWalk(table, hmac);
  return (body) => {
    // A call made while another runs (a getter of the body calling back in) gets a state of its own.
    const walk = idle ?? new KeyWalk(table, hmac);
    idle = undefined;
    try {
      return walk.keysOf(body);
    } finally {
      walk.clear();
      idle = walk;
    }
  };
}

/**
 * How a JSON key name classifies for the audit keys: a subject field (output name `<field>#hmac`), a
 * dossier field, or neither (OTHER, walked into). `slot` numbers the output name: classes that give the
 * same name (`CMND` and `cmnd`) share it.
 */
interface KeyClass {
  /** The output name (`CMND#hmac`, `MaHoSo`); '' for OTHER. */
  readonly name: string;
  readonly subject: boolean;
  /** The output slot; -1 for OTHER. */
  readonly slot: number;
  /** For a dossier field, the class its ID-like values take (`<field>#hmac`). */
  readonly hashed: KeyClass | undefined;
}

const OTHER: KeyClass = { name: '', subject: false, slot: -1, hashed: undefined };

/** The field tables of one extractor and the key names it met: shared by its walks. */
class KeyTable {
  readonly #dossier = new Map<string, KeyClass>();
  readonly #subject = new Map<string, KeyClass>();
  /** Key name -> class; bounded, since senders choose the key names. */
  readonly #classified = new Map<string, KeyClass>();
  /** Output names numbered in the order the classes were made. */
  readonly #slots = new Map<string, number>();

  constructor(dossierFields: readonly string[], subjectFields: readonly string[]) {
    // The last of two fields equal but for case wins; an empty name (config refuses it) matches nothing.
    for (const f of dossierFields) {
      if (f !== '')
        this.#dossier.set(f.toLowerCase(), this.#make(f, false, this.#make(f + HMAC_SUFFIX, true, undefined)));
    }
    for (const f of subjectFields) {
      if (f !== '') this.#subject.set(f.toLowerCase(), this.#make(f + HMAC_SUFFIX, true, undefined));
    }
  }

  /** How many output names the classes can give. */
  get slotCount(): number {
    return this.#slots.size;
  }

  #make(name: string, subject: boolean, hashed: KeyClass | undefined): KeyClass {
    let slot = this.#slots.get(name);
    if (slot === undefined) this.#slots.set(name, (slot = this.#slots.size));
    return { name, subject, slot, hashed };
  }

  classify(key: string): KeyClass {
    let c = this.#classified.get(key);
    if (c === undefined) {
      const lower = key.trim().toLowerCase();
      c = this.#subject.get(lower) ?? this.#dossier.get(lower) ?? OTHER;
      if (this.#classified.size < 10_000) this.#classified.set(key, c);
    }
    return c;
  }
}

/** One output name's values in first-seen order; for a subject field, `raw` holds the identifiers already hashed. */
interface Slot {
  readonly name: string;
  readonly values: DistinctStrings;
  readonly raw: DistinctStrings | undefined;
}

/** Distinct strings in first-seen order: a list, indexed by a Set once it is longer than a handful. */
class DistinctStrings {
  readonly items: string[] = [];
  #index: Set<string> | undefined;

  has(value: string): boolean {
    if (this.#index !== undefined) return this.#index.has(value);
    const items = this.items;
    for (let i = 0; i < items.length; i++) if (items[i] === value) return true;
    return false;
  }

  add(value: string): void {
    this.items.push(value);
    if (this.#index !== undefined) this.#index.add(value);
    else if (this.items.length === 8) this.#index = new Set(this.items);
  }
}

/** The state of one extraction: the slots found so far. */
class KeyWalk {
  readonly #table: KeyTable;
  readonly #hmac: (message: string) => string;
  /** By slot number. */
  readonly #slots: (Slot | undefined)[];
  /** In first-seen order (the output's key order). */
  readonly #found: Slot[] = [];

  constructor(table: KeyTable, hmac: (message: string) => string) {
    this.#table = table;
    this.#hmac = hmac;
    this.#slots = new Array(table.slotCount).fill(undefined);
  }

  keysOf(body: unknown): Record<string, string | string[]> {
    this.#walk(body, 0);
    const out: Record<string, string | string[]> = {};
    for (const { name, values } of this.#found) out[name] = values.items.length === 1 ? values.items[0] : values.items;
    return out;
  }

  /** Forgets the call's slots (and with them the identifiers it saw). */
  clear(): void {
    if (this.#found.length === 0) return;
    this.#found.length = 0;
    this.#slots.fill(undefined);
  }

  #walk(node: unknown, depth: number): void {
    if (depth > MAX_DEPTH || node === null) return;
    if (typeof node === 'string') return this.#walkString(node, depth);
    if (typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) this.#walk(node[i], depth + 1);
      return;
    }
    this.#walkRecord(node as Record<string, unknown>, depth);
  }

  #walkRecord(record: Record<string, unknown>, depth: number): void {
    const table = this.#table;
    // hasOwnProperty.call, not Object.hasOwn: V8 answers it from the for-in's enum cache (no lookup).
    for (const key in record) {
      if (!hasOwnProperty.call(record, key)) continue;
      const c = table.classify(key);
      const value = record[key];
      if (c !== OTHER) this.#addScalars(c, value);
      // Inline the common leaf cases of walk(value, depth + 1): numbers, booleans, short plain strings.
      else if (typeof value === 'object') this.#walk(value, depth + 1);
      else if (typeof value === 'string' && depth < MAX_DEPTH) this.#walkString(value, depth + 1);
    }
  }

  #walkString(text: string, depth: number): void {
    if (!mayBeJson(text)) return;
    const t = text.trim();
    if (t.length < MAX_NESTED_JSON) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(t);
      } catch {
        return; // not JSON after all: an ordinary string
      }
      this.#walk(parsed, depth + 1);
    }
  }

  #addScalars(c: KeyClass, value: unknown): void {
    if (typeof value === 'string') {
      const t = value.trim();
      if (t !== '') this.#add(c, t);
    } else if (typeof value === 'number') {
      if (Number.isFinite(value)) this.#add(c, String(value));
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        if (typeof v === 'string' || typeof v === 'number' || isRawNumber(v)) this.#addScalars(c, v);
      }
    } else if (isRawNumber(value)) {
      // A number a double cannot hold, carried as its source text (issue 14.6): recorded as that text.
      this.#add(c, value.rawJSON);
    }
  }

  #add(c: KeyClass, value: string): void {
    // A dossier code holding 9+ digits in a row may hold an ID number (callers have put the citizen's
    // number in `maDinhDanhHoSo`): it is recorded as an HMAC under `<field>#hmac`, like a subject.
    if (!c.subject && hasIdLikeRun(value)) c = c.hashed!;
    let slot = this.#slots[c.slot];
    if (slot === undefined) {
      slot = { name: c.name, values: new DistinctStrings(), raw: c.subject ? new DistinctStrings() : undefined };
      this.#slots[c.slot] = slot;
      this.#found.push(slot);
    }
    const values = slot.values;
    if (values.items.length >= MAX_VALUES) return;
    if (!c.subject) {
      if (!values.has(value)) values.add(value);
    } else if (!slot.raw!.has(value)) {
      // A citizen listed twice (or in an embedded copy) is hashed once.
      slot.raw!.add(value);
      const digest = this.#hmac(value);
      if (!values.has(digest)) values.add(digest);
    }
  }
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

/** True when the first non-blank character opens a JSON object or array; trims only strings that start blank. */
function mayBeJson(text: string): boolean {
  const c = text.charCodeAt(0);
  if (c === 0x7b || c === 0x5b) return true; // { [
  if (c > 0x20 && c < 0x7f) return false; // starts with a printable ASCII character that opens no JSON
  const t = text.trim();
  return t.startsWith('{') || t.startsWith('[');
}

/**
 * Builds the audit trail of one config: daily files (`audit-YYYY-MM-DD.jsonl`, kept `retentionDays`)
 * or stdout for containers. Throws ConfigPathError when enabled without `hmacKey` (fail closed: without
 * the key the trail could not say whose data was exchanged without exposing it), and when the directory
 * cannot be written (issue 20.4: found at start, not at the first call after "listening").
 *
 * A write that fails later (disk full, volume gone read-only, stdout closed) never ends the process: the
 * writer keeps the lines in a bounded buffer and retries them every `retryMs`; meanwhile `admit` refuses
 * calls of routes whose `onFailure` is `refuse` (the default) and `ready` is false (issue 14.2).
 */
export function createAuditTrail(
  config: GatewayConfig,
  deps: { logger: Logger; env?: Env; stdout?: NodeJS.WritableStream; metrics?: GatewayMetrics; now?: () => number },
): AuditTrail {
  const options: AuditConfig = config.audit;
  if (!options.enabled) {
    deps.metrics?.auditUp.set(1); // nothing to fail: an alert on `lgsp_audit_up == 0` stays quiet
    return {
      record() {},
      extractKeys: () => ({}),
      officerEntry: () => ({}),
      extractAnswerKeys: () => ({}),
      admit() {},
      ready: true,
      health: { state: 'ok', pendingBytes: 0, lostLines: 0 },
      close: async () => {},
    };
  }
  if (options.hmacKey === undefined) {
    throw new ConfigPathError(['audit', 'hmacKey'], 'required', 'audit needs hmacKey (32+ bytes) to hash citizen IDs');
  }
  const hmacKey = Buffer.from(
    resolveSecretRef(options.hmacKey, ['audit', 'hmacKey'], deps.env ?? process.env).trim(),
    'utf8',
  );
  if (hmacKey.length < 32) {
    throw new ConfigPathError(['audit', 'hmacKey'], 'key-strength', 'hmacKey must be at least 32 bytes');
  }
  const now = deps.now ?? Date.now;
  const { logger, metrics } = deps;

  const lost = createCollapsedLog(logger, 'error', 'audit lines lost: the audit buffer is full', {
    intervalMs: 10_000,
    now,
  });
  const events: AuditSinkEvents = {
    onFailure(error) {
      metrics?.auditFailures.inc();
      metrics?.auditUp.set(0);
      logger.error(
        options.onFailure === 'refuse'
          ? 'audit trail cannot be written: calls refused (503 GW_AUDIT_UNAVAILABLE) until it can'
          : 'audit trail cannot be written: calls go on unaudited (audit.onFailure: continue)',
        {
          error,
          output: options.output,
          dir: options.output === 'file' ? options.dir : undefined,
          retryMs: options.retryMs,
        },
      );
    },
    onRecovery(outageMs, lostLines) {
      metrics?.auditUp.set(1);
      lost.settle();
      logger.warn('audit trail writable again', { outageMs: Math.round(outageMs), lostLinesSinceStart: lostLines });
    },
    onLost(count) {
      metrics?.auditLinesLost.inc(count);
      lost.report({ lines: count, bufferBytes: options.bufferBytes });
    },
    onHousekeepingError(what, error) {
      logger.warn('audit file housekeeping failed', { step: what, error });
    },
  };
  let sink: AuditSink;
  if (options.output === 'stdout') {
    sink = createStreamSink(deps.stdout ?? process.stdout, { ...options, now }, events);
  } else {
    try {
      assertWritableAuditDir({ ...options, now });
    } catch (err) {
      throw new ConfigPathError(
        ['audit', 'dir'],
        'writable',
        `the audit directory ${options.dir} cannot be written (${errorCode(err)}): ` +
          'mount a writable volume there, or set audit.output: stdout',
      );
    }
    sink = createFileSink({ ...options, now }, events);
  }
  metrics?.auditUp.set(1);

  // A KeyObject made once: createHmac with a raw Buffer re-validates the key on every call (15 µs against
  // 2.6 µs per hash, and a 4 KB MOLISA batch hashes one CMND per record).
  const baseOptions = {
    hmacKey: createSecretKey(hmacKey),
    dossierFields: options.dossierFields,
    subjectFields: options.subjectFields,
  };
  const baseExtractor = compileAuditKeyExtractor(baseOptions);
  const subjectHmac = compileSubjectHmac(baseOptions.hmacKey);
  // One extractor per route with its own field lists, built on first use (route configs are frozen objects).
  const routeExtractors = new WeakMap<RouteAuditConfig, (body: unknown) => Record<string, string | string[]>>();
  const answerExtractors = new WeakMap<RouteAuditConfig, (body: unknown) => Record<string, string | string[]>>();
  // Records of one window go to the writer as one write (one line each). Lines wait up to AUDIT_FLUSH_MS:
  // each write to the daily file is a thread-pool round trip, and under load one write per turn still
  // meant about one per request. Shutdown (close) flushes what is pending.
  const batch = createLineBatcher((chunk) => void sink.write(chunk), options.output === 'stdout' ? 0 : AUDIT_FLUSH_MS);
  let closed = false;
  const refusing = (mode: AuditFailureMode) => mode === 'refuse' && sink.health.state === 'failing';
  return {
    record(entry) {
      // A request aborted by its client during the shutdown drain ends after close(): say so, without its keys.
      if (closed) {
        logger.warn('audit record after shutdown dropped', { requestId: entry.requestId, route: entry.route });
        return;
      }
      batch.push(batchLine(entry));
    },
    admit(route) {
      if (!refusing(route?.audit?.onFailure ?? options.onFailure)) return;
      metrics?.auditRefused.inc({ route: route?.id ?? '(none)' });
      throw new GatewayError(
        'GW_AUDIT_UNAVAILABLE',
        { reason: sink.health.error ?? 'error' },
        { headers: { 'Retry-After': String(Math.max(1, Math.ceil(options.retryMs / 1000))) } },
      );
    },
    get ready() {
      return !refusing(options.onFailure);
    },
    get health() {
      return sink.health;
    },
    extractKeys(body, route) {
      const r = route?.audit;
      if (r?.keys === false) return {};
      if (!r || (!r.dossierFields && !r.subjectFields)) return baseExtractor(body);
      let extract = routeExtractors.get(r);
      if (!extract) {
        extract = compileAuditKeyExtractor({
          ...baseOptions,
          dossierFields: r.dossierFields ?? baseOptions.dossierFields,
          subjectFields: r.subjectFields ?? baseOptions.subjectFields,
        });
        routeExtractors.set(r, extract);
      }
      return extract(body);
    },
    officerEntry(officer) {
      // An account code names a public servant acting in office: the trail exists to name who looked
      // (seed 002: each account bound to that officer's signed commitment), so it is kept readable. One
      // holding an ID-number-like run is a citizen's number, and is hashed as every such number is.
      return hasIdLikeRun(officer) ? { 'officer#hmac': subjectHmac(officer.trim()) } : { officer };
    },
    extractAnswerKeys(answer, route) {
      const r = route?.audit;
      if (!r?.answerSubjectFields?.length || r.keys === false) return {};
      let extract = answerExtractors.get(r);
      if (!extract) {
        const fields = compileAuditKeyExtractor({
          ...baseOptions,
          dossierFields: [],
          subjectFields: r.answerSubjectFields,
        });
        extract = (body) => {
          const out: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(fields(body))) out[`${ANSWER_PREFIX}${name}`] = value;
          return out;
        };
        answerExtractors.set(r, extract);
      }
      return extract(answer);
    },
    async close() {
      batch.flush();
      closed = true;
      const { lostLines } = await sink.close();
      if (lostLines > 0) logger.error('audit trail closed with lines never written', { lostLines });
    },
  };
}

/**
 * `new Date(now).toISOString()` (~0.7 µs) for the audit line's time, through the access line's per-second
 * prefix (isoTimestamp, ~0.1 µs). A clock may give fractions of a millisecond: Date drops them (toward
 * zero), and so is it done here; a time Date cannot hold throws the same RangeError.
 */
export function auditTime(now: number): string {
  const ms = Math.trunc(now);
  // NaN, ±Infinity and times past ±8.64e15 ms: Date's own answer (a RangeError).
  return Math.abs(ms) <= MAX_DATE_MS ? isoTimestamp(ms) : new Date(now).toISOString();
}
const MAX_DATE_MS = 8.64e15;

/** Longest time an audit line waits in memory before it is handed to the daily file. */
const AUDIT_FLUSH_MS = 20;

/** Lines of a batch are joined with newlines; the transport adds the last one. */
function batchLine(entry: AuditEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

/** A number kept as its JSON source text (`JSON.rawJSON`, Node 21+); never on a Node without it. */
function isRawNumber(value: unknown): value is { rawJSON: string } {
  return (JSON as { isRawJSON?: (v: unknown) => boolean }).isRawJSON?.(value) === true;
}

const { hasOwnProperty } = Object.prototype;
