/**
 * Delta log action codec (PROTOCOL.md "Actions"): one JSON line <-> one `Action`, commit files as
 * newline-delimited JSON, and the per-file stats JSON.
 *
 * Invariants:
 * - Reading is tolerant where the protocol or Spark is: an unknown action key gives `undefined`
 *   (new protocol actions are skipped), unknown fields of known actions are dropped (except in
 *   `commitInfo`, which is free-form and kept whole), a `null` optional field is absent, numbers may
 *   arrive as numeric strings or bigints (checkpoint rows), and fields Spark gives defaults to are
 *   defaulted (metaData format/schemaString/partitionColumns/configuration, remove.dataChange = true,
 *   cdc.dataChange = false).
 * - Reading is strict where a wrong value would change table state: a missing or mistyped required
 *   field, or an integer JS cannot hold exactly, is a `WeirError('CORRUPT_LOG')` naming the file,
 *   line and version.
 * - Serializing writes protocol field names in Spark's key order, omits absent optional fields,
 *   never writes `statsParsed` (checkpoint-only), and is deterministic.
 * - Stats are hints: `parseStats` never throws.
 * Also here: `parseJsonExact` / `stringifyJsonExact`, JSON with numbers kept exact (bigint for
 * integers beyond 2^53), used for stats and schema metadata.
 * Pure and synchronous.
 */
import { WeirError } from '@weir/storage';
import type {
  Action,
  AddAction,
  CdcAction,
  CheckpointMetadataAction,
  CommitInfoAction,
  DeletionVectorDescriptor,
  DomainMetadataAction,
  FileStats,
  Format,
  MetadataAction,
  PartitionValues,
  ProtocolAction,
  RemoveAction,
  SidecarAction,
  TxnAction,
} from './types.js';

/** Where an action came from, for error messages: the log file, its version, the line (1-based). */
export interface LogLocation {
  file: string;
  version?: number;
  line?: number;
}

export type ActionKind =
  | 'metaData'
  | 'protocol'
  | 'add'
  | 'remove'
  | 'cdc'
  | 'txn'
  | 'commitInfo'
  | 'domainMetadata'
  | 'checkpointMetadata'
  | 'sidecar';

const ACTION_KINDS: readonly ActionKind[] = [
  'add',
  'remove',
  'metaData',
  'protocol',
  'txn',
  'commitInfo',
  'cdc',
  'domainMetadata',
  'checkpointMetadata',
  'sidecar',
];
const KNOWN_KINDS: ReadonlySet<string> = new Set(ACTION_KINDS);

/** Schema Spark assumes for a metaData action without a schemaString. */
export const EMPTY_SCHEMA_STRING = '{"type":"struct","fields":[]}';

/** The action's key ('add', 'metaData', ...). */
export function actionKind(a: Action): ActionKind {
  for (const k of ACTION_KINDS) if (k in a) return k;
  throw new WeirError('INVALID_ACTION', `not a Delta action: keys ${Object.keys(a).join(', ')}`, {
    details: { keys: Object.keys(a) },
  });
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
}

function describe(where: LogLocation): string {
  let s = where.file;
  if (where.line !== undefined) s += ` line ${where.line}`;
  if (where.version !== undefined) s += ` (version ${where.version})`;
  return s;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

/** Field context: the action kind and field path inside it, plus the location. */
class Ctx {
  constructor(
    readonly where: LogLocation,
    readonly path: string,
  ) {}
  at(key: string): Ctx {
    return new Ctx(this.where, `${this.path}.${key}`);
  }
  fail(message: string, ...value: [unknown?]): never {
    const shown = value.length > 0 && value[0] !== undefined ? `, got ${show(value[0])}` : '';
    throw new WeirError('CORRUPT_LOG', `${describe(this.where)}: ${this.path} ${message}${shown}`, {
      details: { ...this.where, field: this.path },
    });
  }
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function reqString(o: Obj, key: string, ctx: Ctx): string {
  const v = o[key];
  if (typeof v !== 'string') return ctx.at(key).fail(present(v) ? 'must be a string' : 'is required', v);
  return v;
}

function optString(o: Obj, key: string, ctx: Ctx): string | undefined {
  const v = o[key];
  if (!present(v)) return undefined;
  if (typeof v !== 'string') return ctx.at(key).fail('must be a string', v);
  return v;
}

const INTEGER_TEXT = /^[+-]?\d+$/;

/** A JSON integer (number, numeric string, or bigint from a checkpoint row) JS holds exactly. */
function toInteger(v: unknown, ctx: Ctx): number {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else if (typeof v === 'string' && INTEGER_TEXT.test(v.trim())) n = Number(v.trim());
  else return ctx.fail('must be an integer', v);
  if (!Number.isInteger(n)) ctx.fail('must be an integer', v);
  if (!Number.isSafeInteger(n) || (typeof v === 'bigint' && BigInt(n) !== v)) {
    ctx.fail('is an integer beyond 2^53, which this reader cannot hold exactly', v);
  }
  return n;
}

function reqLong(o: Obj, key: string, ctx: Ctx, min?: number): number {
  const v = o[key];
  // Fast path (no context allocated): the common, valid case.
  if (typeof v === 'number' && Number.isSafeInteger(v) && (min === undefined || v >= min)) return v;
  if (!present(v)) ctx.at(key).fail('is required');
  const n = toInteger(v, ctx.at(key));
  if (min !== undefined && n < min) ctx.at(key).fail(`must be >= ${min}`, v);
  return n;
}

function optLong(o: Obj, key: string, ctx: Ctx, min?: number): number | undefined {
  return present(o[key]) ? reqLong(o, key, ctx, min) : undefined;
}

function toBool(v: unknown, ctx: Ctx): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return ctx.fail('must be a boolean', v);
}

function reqBool(o: Obj, key: string, ctx: Ctx, fallback?: boolean): boolean {
  const v = o[key];
  if (typeof v === 'boolean') return v;
  if (!present(v)) {
    if (fallback !== undefined) return fallback;
    ctx.at(key).fail('is required');
  }
  return toBool(v, ctx.at(key));
}

function optBool(o: Obj, key: string, ctx: Ctx): boolean | undefined {
  return present(o[key]) ? toBool(o[key], ctx.at(key)) : undefined;
}

function entriesOf(v: unknown): Iterable<[unknown, unknown]> | undefined {
  if (v instanceof Map) return v.entries();
  if (isObj(v)) return Object.entries(v);
  return undefined;
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

/**
 * A Map[String, String]. Numbers and booleans are taken as their text. A `null` value is kept as
 * `null` when `keepNull` (partition values) and dropped otherwise (tags, configuration).
 */
function stringMap(v: unknown, ctx: Ctx, keepNull: true): Record<string, string | null>;
function stringMap(v: unknown, ctx: Ctx, keepNull: false): Record<string, string>;
function stringMap(v: unknown, ctx: Ctx, keepNull: boolean): Record<string, string | null> {
  const entries = entriesOf(v);
  if (!entries) return ctx.fail('must be a map of strings', v);
  const out: Record<string, string | null> = {};
  for (const [k, val] of entries) {
    const key = String(k);
    if (val === null || val === undefined) {
      if (keepNull) out[key] = null;
      continue;
    }
    const text = scalarText(val);
    if (text === undefined) return ctx.at(key).fail('must be a string', val);
    out[key] = text;
  }
  return out;
}

function reqPartitionValues(o: Obj, key: string, ctx: Ctx): PartitionValues {
  const v = o[key];
  if (!present(v)) ctx.at(key).fail('is required');
  return stringMap(v, ctx.at(key), true);
}

function optStringMap(o: Obj, key: string, ctx: Ctx): Record<string, string> | undefined {
  return present(o[key]) ? stringMap(o[key], ctx.at(key), false) : undefined;
}

function stringArray(v: unknown, ctx: Ctx): string[] {
  if (!Array.isArray(v)) return ctx.fail('must be an array of strings', v);
  return v.map((item, i) => {
    if (typeof item !== 'string') return ctx.at(String(i)).fail('must be a string', item);
    return item;
  });
}

function optStringArray(o: Obj, key: string, ctx: Ctx): string[] | undefined {
  return present(o[key]) ? stringArray(o[key], ctx.at(key)) : undefined;
}

/** Stats are a JSON string in the protocol; a writer that put the object inline is tolerated. */
function optStats(o: Obj, key: string, ctx: Ctx): string | undefined {
  const v = o[key];
  if (!present(v)) return undefined;
  if (typeof v === 'string') return v;
  if (isObj(v)) return JSON.stringify(v);
  return ctx.at(key).fail('must be a JSON string', v);
}

function reqObj(o: Obj, key: string, ctx: Ctx): Obj {
  const v = o[key];
  if (!isObj(v)) return ctx.at(key).fail(present(v) ? 'must be an object' : 'is required', v);
  return v;
}

/** Sets `target[key] = value` only when value is not undefined (exactOptionalPropertyTypes). */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function parseDeletionVector(v: unknown, ctx: Ctx): DeletionVectorDescriptor {
  if (!isObj(v)) return ctx.fail('must be an object', v);
  const storageType = v.storageType;
  if (storageType !== 'u' && storageType !== 'i' && storageType !== 'p') {
    return ctx.at('storageType').fail("must be 'u', 'i' or 'p'", storageType);
  }
  const dv: DeletionVectorDescriptor = {
    storageType,
    pathOrInlineDv: reqString(v, 'pathOrInlineDv', ctx),
    sizeInBytes: reqLong(v, 'sizeInBytes', ctx, 0),
    cardinality: reqLong(v, 'cardinality', ctx, 0),
  };
  put(dv, 'offset', optLong(v, 'offset', ctx, 0));
  return reorder(dv, DV_KEYS);
}

function optDeletionVector(o: Obj, key: string, ctx: Ctx): DeletionVectorDescriptor | undefined {
  return present(o[key]) ? parseDeletionVector(o[key], ctx.at(key)) : undefined;
}

function parseMetadata(o: Obj, ctx: Ctx): MetadataAction {
  let format: Format = { provider: 'parquet', options: {} };
  if (present(o.format)) {
    const f = reqObj(o, 'format', ctx);
    const fctx = ctx.at('format');
    format = {
      provider: present(f.provider) ? reqString(f, 'provider', fctx) : 'parquet',
      options: optStringMap(f, 'options', fctx) ?? {},
    };
  }
  const m: MetadataAction = {
    id: reqString(o, 'id', ctx),
    format,
    schemaString: optString(o, 'schemaString', ctx) ?? EMPTY_SCHEMA_STRING,
    partitionColumns: optStringArray(o, 'partitionColumns', ctx) ?? [],
    configuration: optStringMap(o, 'configuration', ctx) ?? {},
  };
  put(m, 'name', optString(o, 'name', ctx));
  put(m, 'description', optString(o, 'description', ctx));
  put(m, 'createdTime', optLong(o, 'createdTime', ctx));
  return reorder(m, METADATA_KEYS);
}

function parseProtocol(o: Obj, ctx: Ctx): ProtocolAction {
  const p: ProtocolAction = {
    minReaderVersion: reqLong(o, 'minReaderVersion', ctx, 1),
    minWriterVersion: reqLong(o, 'minWriterVersion', ctx, 1),
  };
  put(p, 'readerFeatures', optStringArray(o, 'readerFeatures', ctx));
  put(p, 'writerFeatures', optStringArray(o, 'writerFeatures', ctx));
  return p;
}

function parseAdd(o: Obj, ctx: Ctx): AddAction {
  const a: AddAction = {
    path: reqString(o, 'path', ctx),
    partitionValues: reqPartitionValues(o, 'partitionValues', ctx),
    size: reqLong(o, 'size', ctx, 0),
    modificationTime: reqLong(o, 'modificationTime', ctx),
    dataChange: reqBool(o, 'dataChange', ctx),
  };
  if (a.path === '') ctx.at('path').fail('must not be empty');
  put(a, 'stats', optStats(o, 'stats', ctx));
  put(a, 'tags', optStringMap(o, 'tags', ctx));
  put(a, 'deletionVector', optDeletionVector(o, 'deletionVector', ctx));
  put(a, 'baseRowId', optLong(o, 'baseRowId', ctx));
  put(a, 'defaultRowCommitVersion', optLong(o, 'defaultRowCommitVersion', ctx));
  put(a, 'clusteringProvider', optString(o, 'clusteringProvider', ctx));
  return a;
}

function parseRemove(o: Obj, ctx: Ctx): RemoveAction {
  const r: RemoveAction = {
    path: reqString(o, 'path', ctx),
    dataChange: reqBool(o, 'dataChange', ctx, true),
  };
  if (r.path === '') ctx.at('path').fail('must not be empty');
  put(r, 'deletionTimestamp', optLong(o, 'deletionTimestamp', ctx));
  put(r, 'extendedFileMetadata', optBool(o, 'extendedFileMetadata', ctx));
  if (present(o.partitionValues)) r.partitionValues = reqPartitionValues(o, 'partitionValues', ctx);
  put(r, 'size', optLong(o, 'size', ctx, 0));
  put(r, 'stats', optStats(o, 'stats', ctx));
  put(r, 'tags', optStringMap(o, 'tags', ctx));
  put(r, 'deletionVector', optDeletionVector(o, 'deletionVector', ctx));
  put(r, 'baseRowId', optLong(o, 'baseRowId', ctx));
  put(r, 'defaultRowCommitVersion', optLong(o, 'defaultRowCommitVersion', ctx));
  return reorder(r, REMOVE_KEYS);
}

function parseCdc(o: Obj, ctx: Ctx): CdcAction {
  const c: CdcAction = {
    path: reqString(o, 'path', ctx),
    partitionValues: reqPartitionValues(o, 'partitionValues', ctx),
    size: reqLong(o, 'size', ctx, 0),
    dataChange: reqBool(o, 'dataChange', ctx, false),
  };
  put(c, 'tags', optStringMap(o, 'tags', ctx));
  return c;
}

function parseTxn(o: Obj, ctx: Ctx): TxnAction {
  const t: TxnAction = { appId: reqString(o, 'appId', ctx), version: reqLong(o, 'version', ctx) };
  put(t, 'lastUpdated', optLong(o, 'lastUpdated', ctx));
  return t;
}

/** Known commitInfo fields and their kinds; Spark's key order (used when serializing). */
const COMMIT_INFO_FIELDS: ReadonlyArray<readonly [string, 'long' | 'string' | 'bool' | 'object' | 'any']> = [
  ['inCommitTimestamp', 'long'],
  ['timestamp', 'long'],
  ['userId', 'any'],
  ['userName', 'any'],
  ['operation', 'string'],
  ['operationParameters', 'object'],
  ['job', 'any'],
  ['notebook', 'any'],
  ['clusterId', 'any'],
  ['readVersion', 'long'],
  ['isolationLevel', 'string'],
  ['isBlindAppend', 'bool'],
  ['operationMetrics', 'object'],
  ['userMetadata', 'any'],
  ['tags', 'any'],
  ['engineInfo', 'string'],
  ['txnId', 'string'],
];
const COMMIT_INFO_KINDS = new Map(COMMIT_INFO_FIELDS);

/**
 * commitInfo is free-form: every field is kept. Typed fields with a null or mistyped value are
 * dropped (provenance only), except `inCommitTimestamp`, which drives time travel and must be an
 * integer.
 */
function parseCommitInfo(o: Obj, ctx: Ctx): CommitInfoAction {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(o)) {
    const kind = COMMIT_INFO_KINDS.get(key);
    if (kind === undefined || kind === 'any') {
      out[key] = value;
      continue;
    }
    if (key === 'inCommitTimestamp') {
      if (present(value)) out[key] = toInteger(value, ctx.at(key));
      continue;
    }
    if (!present(value)) continue;
    if (kind === 'long') {
      const n = typeof value === 'string' && INTEGER_TEXT.test(value) ? Number(value) : value;
      if (typeof n === 'number' && Number.isSafeInteger(n)) out[key] = n;
      else if (typeof n === 'bigint' && Number.isSafeInteger(Number(n))) out[key] = Number(n);
    } else if (kind === 'string') {
      if (typeof value === 'string') out[key] = value;
    } else if (kind === 'bool') {
      if (typeof value === 'boolean') out[key] = value;
    } else if (isObj(value)) {
      out[key] = value;
    }
  }
  return out as CommitInfoAction;
}

function parseDomainMetadata(o: Obj, ctx: Ctx): DomainMetadataAction {
  return {
    domain: reqString(o, 'domain', ctx),
    configuration: reqString(o, 'configuration', ctx),
    removed: reqBool(o, 'removed', ctx),
  };
}

function parseCheckpointMetadata(o: Obj, ctx: Ctx): CheckpointMetadataAction {
  const c: CheckpointMetadataAction = { version: reqLong(o, 'version', ctx, 0) };
  put(c, 'tags', optStringMap(o, 'tags', ctx));
  return c;
}

function parseSidecar(o: Obj, ctx: Ctx): SidecarAction {
  const s: SidecarAction = {
    path: reqString(o, 'path', ctx),
    sizeInBytes: reqLong(o, 'sizeInBytes', ctx, 0),
    modificationTime: reqLong(o, 'modificationTime', ctx),
  };
  put(s, 'tags', optStringMap(o, 'tags', ctx));
  return s;
}

/**
 * Validates one decoded log line (or checkpoint row in the same shape) into an `Action`.
 * Returns `undefined` when the object holds no known action (a newer protocol's action).
 * Throws `WeirError('CORRUPT_LOG')` naming the file, line and field for a malformed action.
 */
export function parseAction(obj: unknown, where: LogLocation): Action | undefined {
  if (!isObj(obj)) {
    throw new WeirError(
      'CORRUPT_LOG',
      `${describe(where)}: a log line must be a JSON object, got ${show(obj)}`,
      {
        details: { ...where },
      },
    );
  }
  let kind: ActionKind | undefined;
  for (const key of Object.keys(obj)) {
    if (!KNOWN_KINDS.has(key) || !present(obj[key])) continue;
    if (kind !== undefined) {
      throw new WeirError(
        'CORRUPT_LOG',
        `${describe(where)}: one line holds two actions, ${kind} and ${key}`,
        {
          details: { ...where, actions: [kind, key] },
        },
      );
    }
    kind = key as ActionKind;
  }
  if (kind === undefined) return undefined;
  const body = obj[kind];
  const ctx = new Ctx(where, kind);
  if (!isObj(body)) return ctx.fail('must be an object', body);
  switch (kind) {
    case 'add':
      return { add: parseAdd(body, ctx) };
    case 'remove':
      return { remove: parseRemove(body, ctx) };
    case 'metaData':
      return { metaData: parseMetadata(body, ctx) };
    case 'protocol':
      return { protocol: parseProtocol(body, ctx) };
    case 'txn':
      return { txn: parseTxn(body, ctx) };
    case 'commitInfo':
      return { commitInfo: parseCommitInfo(body, ctx) };
    case 'cdc':
      return { cdc: parseCdc(body, ctx) };
    case 'domainMetadata':
      return { domainMetadata: parseDomainMetadata(body, ctx) };
    case 'checkpointMetadata':
      return { checkpointMetadata: parseCheckpointMetadata(body, ctx) };
    case 'sidecar':
      return { sidecar: parseSidecar(body, ctx) };
  }
}

/**
 * Parses a commit file: newline-delimited JSON, one action per line. Blank lines (and a missing
 * or present trailing newline, and CRLF) are fine. Unknown actions are skipped.
 */
export function parseCommitFile(text: string, where: { file: string; version: number }): Action[] {
  const out: Action[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const loc: LogLocation = { file: where.file, version: where.version, line: i + 1 };
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new WeirError('CORRUPT_LOG', `${describe(loc)}: not valid JSON (${reason})`, {
        cause: err,
        details: { ...loc },
      });
    }
    const action = parseAction(obj, loc);
    if (action !== undefined) out.push(action);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

const METADATA_KEYS = [
  'id',
  'name',
  'description',
  'format',
  'schemaString',
  'partitionColumns',
  'configuration',
  'createdTime',
] as const;
const PROTOCOL_KEYS = ['minReaderVersion', 'minWriterVersion', 'readerFeatures', 'writerFeatures'] as const;
const ADD_KEYS = [
  'path',
  'partitionValues',
  'size',
  'modificationTime',
  'dataChange',
  'stats',
  'tags',
  'deletionVector',
  'baseRowId',
  'defaultRowCommitVersion',
  'clusteringProvider',
] as const;
const REMOVE_KEYS = [
  'path',
  'deletionTimestamp',
  'dataChange',
  'extendedFileMetadata',
  'partitionValues',
  'size',
  'tags',
  'deletionVector',
  'baseRowId',
  'defaultRowCommitVersion',
  'stats',
] as const;
const CDC_KEYS = ['path', 'partitionValues', 'size', 'dataChange', 'tags'] as const;
const TXN_KEYS = ['appId', 'version', 'lastUpdated'] as const;
const DOMAIN_KEYS = ['domain', 'configuration', 'removed'] as const;
const CHECKPOINT_METADATA_KEYS = ['version', 'tags'] as const;
const SIDECAR_KEYS = ['path', 'sizeInBytes', 'modificationTime', 'tags'] as const;
const DV_KEYS = ['storageType', 'pathOrInlineDv', 'offset', 'sizeInBytes', 'cardinality'] as const;

/** A copy of `o` holding only `keys` (in that order) whose values are not undefined. */
function reorder<T extends object>(o: T, keys: readonly (keyof T & string)[]): T {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

function orderedCommitInfo(ci: CommitInfoAction): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k] of COMMIT_INFO_FIELDS) if (ci[k] !== undefined) out[k] = ci[k];
  for (const [k, v] of Object.entries(ci)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

/** One log line (no newline): protocol field names, Spark's key order, absent fields omitted. */
export function serializeAction(a: Action): string {
  switch (actionKind(a)) {
    case 'add': {
      const add = (a as { add: AddAction }).add;
      const body = reorder(add, ADD_KEYS);
      if (add.deletionVector) body.deletionVector = reorder(add.deletionVector, DV_KEYS);
      return JSON.stringify({ add: body });
    }
    case 'remove': {
      const rm = (a as { remove: RemoveAction }).remove;
      const body = reorder(rm, REMOVE_KEYS);
      if (rm.deletionVector) body.deletionVector = reorder(rm.deletionVector, DV_KEYS);
      return JSON.stringify({ remove: body });
    }
    case 'metaData': {
      const m = (a as { metaData: MetadataAction }).metaData;
      const body = reorder(m, METADATA_KEYS);
      body.format = { provider: m.format.provider, options: m.format.options };
      return JSON.stringify({ metaData: body });
    }
    case 'protocol':
      return JSON.stringify({
        protocol: reorder((a as { protocol: ProtocolAction }).protocol, PROTOCOL_KEYS),
      });
    case 'txn':
      return JSON.stringify({ txn: reorder((a as { txn: TxnAction }).txn, TXN_KEYS) });
    case 'commitInfo':
      return stringifyJsonExact({
        commitInfo: orderedCommitInfo((a as { commitInfo: CommitInfoAction }).commitInfo),
      });
    case 'cdc':
      return JSON.stringify({ cdc: reorder((a as { cdc: CdcAction }).cdc, CDC_KEYS) });
    case 'domainMetadata':
      return JSON.stringify({
        domainMetadata: reorder((a as { domainMetadata: DomainMetadataAction }).domainMetadata, DOMAIN_KEYS),
      });
    case 'checkpointMetadata':
      return JSON.stringify({
        checkpointMetadata: reorder(
          (a as { checkpointMetadata: CheckpointMetadataAction }).checkpointMetadata,
          CHECKPOINT_METADATA_KEYS,
        ),
      });
    case 'sidecar':
      return JSON.stringify({ sidecar: reorder((a as { sidecar: SidecarAction }).sidecar, SIDECAR_KEYS) });
  }
}

/**
 * A commit file's text: one line per action, each ended by '\n' (Spark and Databricks end the
 * last line with a newline too; delta-rs does not; readers accept both).
 */
export function serializeCommit(actions: readonly Action[]): string {
  let out = '';
  for (const a of actions) out += `${serializeAction(a)}\n`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------------

/**
 * Parses `add.stats`. Stats are optional hints, so invalid JSON or a wrong shape gives `undefined`
 * (or drops the bad part) instead of an error. Numbers are read exactly: an integer beyond 2^53
 * becomes a bigint and a fraction with more than 15 significant digits stays its literal decimal
 * text (a string), so decimal and long bounds keep every digit (see `statsValueToScalar`).
 */
export function parseStats(stats: string | undefined, _where?: Partial<LogLocation>): FileStats | undefined {
  if (stats === undefined || stats === '') return undefined;
  let raw: unknown;
  try {
    raw = parseJsonExact(stats, { inexactFractions: 'text' });
  } catch {
    return undefined;
  }
  if (!isObj(raw)) return undefined;
  const out: FileStats = {};
  const n = raw.numRecords;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) out.numRecords = n;
  else if (typeof n === 'string' && /^\d+$/.test(n) && Number.isSafeInteger(Number(n)))
    out.numRecords = Number(n);
  if (isObj(raw.minValues)) out.minValues = raw.minValues;
  if (isObj(raw.maxValues)) out.maxValues = raw.maxValues;
  if (isObj(raw.nullCount)) out.nullCount = raw.nullCount;
  if (typeof raw.tightBounds === 'boolean') out.tightBounds = raw.tightBounds;
  return out;
}

/** Stats JSON in Spark's key order; bigint values are written as exact JSON integers. */
export function serializeStats(stats: FileStats): string {
  return stringifyJsonExact(
    reorder(stats, ['numRecords', 'minValues', 'maxValues', 'nullCount', 'tightBounds']),
  );
}

// ---------------------------------------------------------------------------------------------
// Exact JSON (numbers JS doubles cannot hold)
// ---------------------------------------------------------------------------------------------

export interface ExactJsonOptions {
  /**
   * How to keep a non-integer number with more than 15 significant digits: its literal text (a
   * string; stats, where decimal bounds need every digit) or the nearest double (default).
   */
  inexactFractions?: 'text' | 'number';
}

/** A number literal that may not survive `JSON.parse`: 16+ digits, possibly with a point. */
const LONG_NUMBER = /\d[\d.]{15}/;
const NUMBER_LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * `JSON.parse` that keeps numbers exact: an integer beyond 2^53 becomes a bigint; a fraction with
 * more than 15 significant digits follows `inexactFractions`. Throws SyntaxError on bad JSON.
 */
export function parseJsonExact(text: string, options: ExactJsonOptions = {}): unknown {
  if (!LONG_NUMBER.test(text)) return JSON.parse(text);
  const fractionsAsText = options.inexactFractions === 'text';
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${i} in JSON`);
  };
  const skip = (): void => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const parseString = (): string => {
    const start = i;
    i++;
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c)) fail('Unterminated string');
      if (c === 0x22) break;
      i += c === 0x5c ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const parseNumber = (): number | bigint | string => {
    NUMBER_LITERAL.lastIndex = i;
    const m = NUMBER_LITERAL.exec(text);
    if (!m) return fail('Unexpected token');
    const lit = m[0];
    i += lit.length;
    const n = Number(lit);
    if (!/[.eE]/.test(lit)) return Number.isSafeInteger(n) ? n : BigInt(lit);
    if (!fractionsAsText) return n;
    const mantissa = lit
      .replace(/^-/, '')
      .replace(/[eE].*$/, '')
      .replace('.', '');
    const significant = mantissa.replace(/^0+/, '').replace(/0+$/, '');
    return significant.length <= 15 ? n : lit;
  };
  const parseValue = (): unknown => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail('Expected property name');
        const key = parseString();
        skip();
        if (text[i] !== ':') fail("Expected ':'");
        i++;
        obj[key] = parseValue();
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("Expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue());
        skip();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("Expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    return parseNumber();
  };
  const value = parseValue();
  skip();
  if (i !== text.length) fail('Unexpected non-whitespace character');
  return value;
}

/** `JSON.stringify` for plain JSON values that also writes a bigint as an exact JSON integer. */
export function stringifyJsonExact(value: unknown): string {
  const out = stringifyValue(value);
  return out === undefined ? 'null' : out;
}

function stringifyValue(v: unknown): string | undefined {
  if (typeof v === 'bigint') return v.toString();
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => stringifyValue(x) ?? 'null').join(',')}]`;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(v);
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    const s = stringifyValue(x);
    if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
  }
  return `{${parts.join(',')}}`;
}
