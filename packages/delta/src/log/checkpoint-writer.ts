/**
 * Writes classic (V1 spec) checkpoints: `_delta_log/<version>.checkpoint.parquet` and then
 * `_delta_log/_last_checkpoint` (PROTOCOL.md "Checkpoints", "Last Checkpoint File Schema").
 *
 * `buildCheckpoint` is pure: table state -> one Arrow row per action, in a deterministic order
 * (protocol, metaData, txn by appId, domainMetadata by domain, add by path, remove by path).
 * It keeps every live add, every txn, every non-removed domain and the tombstones whose
 * `deletionTimestamp` is newer than `now - delta.deletedFileRetentionDuration` (default
 * 'interval 1 week'; a remove without a timestamp counts as expired, as in Spark); commitInfo and
 * cdc never reach a checkpoint. `add.stats` stays the JSON string unless
 * `delta.checkpoint.writeStatsAsJson` is 'false'; `delta.checkpoint.writeStatsAsStruct` = 'true'
 * adds `stats_parsed` and (partitioned tables) `partitionValues_parsed`.
 *
 * `writeCheckpoint` is the IO step. The checkpoint is written with `put`: rewriting a classic
 * checkpoint is allowed (every writer produces the same content) and `put` is atomic, so no
 * reader sees a partial file. `_last_checkpoint` is written after it, only when it does not
 * already point at a newer version (it is a hint; a lost race leaves an older, still valid one).
 * Its `checksum` is the protocol's MD5 over the canonicalized JSON (verified against Spark's
 * files). `checkpointSchema` is not written (optional; readers then use the Parquet footer).
 */
import { createHash } from 'node:crypto';
import { type ObjectStore, WeirError } from '@weir/storage';
import { type Field, makeData, RecordBatch, Struct, Table, tableToIPC } from 'apache-arrow';
import { parseStats } from '../actions/codec.js';
import type {
  AddAction,
  Configuration,
  DeletionVectorDescriptor,
  FileStats,
  RemoveAction,
} from '../actions/types.js';
import { parquetModule } from '../parquet/wasm.js';
import { columnMappingMode, physicalSchema } from '../schema/column-mapping.js';
import { parseSchema } from '../schema/parse.js';
import { parsePartitionValue } from '../schema/partition-values.js';
import { statsValueToScalar } from '../schema/stats-values.js';
import type { StructType } from '../schema/types.js';
import type { TableState } from '../snapshot/replay.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { WEIR_VERSION } from '../txn/engine-info.js';
import {
  CHECKPOINT_COLUMNS,
  type CheckpointColumn,
  checkpointSchema,
  encodeColumn,
  partitionFields,
  partitionValuesParsedType,
  statsColumns,
  statsParsedType,
  type TableLayout,
} from './checkpoint-schema.js';
import { classicCheckpointKey, LAST_CHECKPOINT_KEY } from './log-files.js';
import { readLastCheckpointHint } from './log-segment.js';

export const DELETED_FILE_RETENTION_KEY = 'delta.deletedFileRetentionDuration';
export const DEFAULT_DELETED_FILE_RETENTION = 'interval 1 week';
export const WRITE_STATS_AS_JSON_KEY = 'delta.checkpoint.writeStatsAsJson';
export const WRITE_STATS_AS_STRUCT_KEY = 'delta.checkpoint.writeStatsAsStruct';

// ---------------------------------------------------------------------------------------------
// Table properties
// ---------------------------------------------------------------------------------------------

const UNIT_MS: Readonly<Record<string, number>> = {
  microsecond: 0.001,
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/**
 * Milliseconds of a Spark interval string: 'interval 1 week', '7 days', 'interval 1 day 12 hours'
 * (units microsecond .. week, singular or plural, case-insensitive). Months and years have no
 * fixed length and are refused, as Delta refuses them. Returns undefined for anything else.
 */
export function parseIntervalMs(text: string): number | undefined {
  const words = text.trim().toLowerCase().split(/\s+/);
  if (words[0] === 'interval') words.shift();
  if (words.length === 0 || words.length % 2 !== 0) return undefined;
  let total = 0;
  for (let i = 0; i < words.length; i += 2) {
    const n = words[i]!;
    const unit = words[i + 1]!.replace(/s$/, '');
    if (!/^\d+$/.test(n)) return undefined;
    const ms = UNIT_MS[unit];
    if (ms === undefined) return undefined;
    total += Number(n) * ms;
  }
  return Number.isSafeInteger(Math.floor(total)) ? Math.floor(total) : undefined;
}

interface Where {
  table: string;
  version: number;
}

/** `delta.deletedFileRetentionDuration` in ms; a bad value is INVALID_TABLE_PROPERTY. */
export function tombstoneRetentionMs(configuration: Configuration, where: Where): number {
  const raw = configuration[DELETED_FILE_RETENTION_KEY] ?? DEFAULT_DELETED_FILE_RETENTION;
  const ms = parseIntervalMs(raw);
  if (ms === undefined) {
    throw new WeirError(
      'INVALID_TABLE_PROPERTY',
      `${where.table}: version ${where.version}: ${DELETED_FILE_RETENTION_KEY} = '${raw}' is not an interval such as 'interval 1 week' (units up to weeks)`,
      { details: { ...where, key: DELETED_FILE_RETENTION_KEY, value: raw } },
    );
  }
  return ms;
}

function flag(configuration: Configuration, key: string, fallback: boolean): boolean {
  const v = configuration[key]?.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : fallback;
}

// ---------------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------------

type Plain = Record<string, unknown>;

const isObj = (v: unknown): v is Plain => v !== null && typeof v === 'object' && !Array.isArray(v);

function countOf(v: unknown): bigint | null {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  return null;
}

function boundsRow(raw: unknown, schema: StructType): Plain | null {
  if (!isObj(raw)) return null;
  const out: Plain = {};
  for (const fl of schema.fields) {
    out[fl.name] =
      fl.type.type === 'struct'
        ? boundsRow(raw[fl.name], fl.type as StructType)
        : (statsValueToScalar(raw[fl.name], fl.type) ?? null);
  }
  return out;
}

function nullCountRow(raw: unknown, schema: StructType): Plain | null {
  if (!isObj(raw)) return null;
  const out: Plain = {};
  for (const fl of schema.fields) {
    out[fl.name] =
      fl.type.type === 'struct' ? nullCountRow(raw[fl.name], fl.type as StructType) : countOf(raw[fl.name]);
  }
  return out;
}

/** One file's stats as a `stats_parsed` row over the physical stats columns. */
function statsParsedRow(stats: FileStats | undefined, columns: StructType): Plain | null {
  if (!stats) return null;
  return {
    numRecords: stats.numRecords ?? null,
    minValues: boundsRow(stats.minValues, columns),
    maxValues: boundsRow(stats.maxValues, columns),
    nullCount: nullCountRow(stats.nullCount, columns),
    tightBounds: stats.tightBounds ?? null,
  };
}

const DECIMAL_LITERAL = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Stats JSON from `statsParsed` (an add read from a checkpoint that had only `stats_parsed`):
 * decimal bounds go back to JSON numbers (their exact text), the rest as read.
 */
function statsJsonFromParsed(stats: FileStats, columns: StructType): string {
  const value = (v: unknown): string =>
    typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? 'null');
  const bounds = (raw: Plain, schema: StructType | undefined): string => {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(raw)) {
      const fl = schema?.fields.find((x) => x.name === k);
      let text: string;
      if (isObj(v)) text = bounds(v, fl?.type.type === 'struct' ? (fl.type as StructType) : undefined);
      else if (fl?.type.type === 'decimal' && typeof v === 'string' && DECIMAL_LITERAL.test(v)) text = v;
      else text = value(v);
      parts.push(`${JSON.stringify(k)}:${text}`);
    }
    return `{${parts.join(',')}}`;
  };
  const parts: string[] = [];
  if (stats.numRecords !== undefined) parts.push(`"numRecords":${stats.numRecords}`);
  if (stats.minValues) parts.push(`"minValues":${bounds(stats.minValues as Plain, columns)}`);
  if (stats.maxValues) parts.push(`"maxValues":${bounds(stats.maxValues as Plain, columns)}`);
  if (stats.nullCount) parts.push(`"nullCount":${bounds(stats.nullCount as Plain, undefined)}`);
  if (stats.tightBounds !== undefined) parts.push(`"tightBounds":${stats.tightBounds}`);
  return `{${parts.join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

function dvRow(dv: DeletionVectorDescriptor | undefined): Plain | null {
  if (!dv) return null;
  return {
    storageType: dv.storageType,
    pathOrInlineDv: dv.pathOrInlineDv,
    offset: dv.offset ?? null,
    sizeInBytes: dv.sizeInBytes,
    cardinality: dv.cardinality,
    maxRowIndex: null,
  };
}

function byString<T>(key: (x: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

const fileKey = (a: AddAction | RemoveAction) =>
  `${a.path}\u0000${a.deletionVector ? `${a.deletionVector.storageType}${a.deletionVector.pathOrInlineDv}@${a.deletionVector.offset ?? ''}` : ''}`;

export interface BuildCheckpointOptions {
  /** The current time (ms since epoch), for tombstone expiry. */
  now: number;
  /** The table's location, for error messages. */
  table?: string;
}

export interface BuiltCheckpoint {
  table: Table;
  /** Rows with an `add` (= live files). */
  numOfAddFiles: number;
  /** Rows in all (= actions, `_last_checkpoint.size`). */
  numActions: number;
}

/** The checkpoint of a table state as an Arrow table, one row per action. Pure. */
export function buildCheckpoint(state: TableState, options: BuildCheckpointOptions): BuiltCheckpoint {
  const where: Where = { table: options.table ?? 'table', version: state.version };
  const { protocol, metadata } = state;
  if (!protocol || !metadata) {
    throw new WeirError(
      'CORRUPT_LOG',
      `${where.table}: version ${where.version} has no ${protocol ? 'metaData' : 'protocol'} action; cannot checkpoint it`,
      { details: { ...where } },
    );
  }
  const configuration = metadata.configuration;
  const statsAsJson = flag(configuration, WRITE_STATS_AS_JSON_KEY, true);
  const statsAsStruct = flag(configuration, WRITE_STATS_AS_STRUCT_KEY, false);
  // The typed parts need the (physical) schema; a table without them does not depend on it.
  const needsSchema =
    statsAsStruct ||
    (statsAsJson && [...state.files.values()].some((a) => a.stats === undefined && a.statsParsed));
  let layout: TableLayout | undefined;
  let statsPhysical: StructType = { type: 'struct', fields: [] };
  let partitionsPhysical: StructType = { type: 'struct', fields: [] };
  if (needsSchema) {
    const schema = parseSchema(metadata.schemaString, where);
    const columnMapping = columnMappingMode(configuration, protocol);
    layout = { schema, partitionColumns: metadata.partitionColumns, configuration, columnMapping };
    statsPhysical = physicalSchema(
      statsColumns(schema, metadata.partitionColumns, configuration),
      columnMapping,
    );
    partitionsPhysical = physicalSchema(
      { type: 'struct', fields: partitionFields(schema, metadata.partitionColumns) },
      columnMapping,
    );
  }
  const statsParsed = statsAsStruct && layout ? statsParsedType(layout) : undefined;
  const partitionValuesParsed = statsAsStruct && layout ? partitionValuesParsedType(layout) : undefined;
  const arrowSchema = checkpointSchema({
    statsAsJson,
    ...(statsParsed ? { statsParsed } : {}),
    ...(partitionValuesParsed ? { partitionValuesParsed } : {}),
  });

  const columns: Record<CheckpointColumn, unknown[]> = {
    txn: [],
    add: [],
    remove: [],
    metaData: [],
    protocol: [],
    domainMetadata: [],
  };
  const push = (column: CheckpointColumn, row: Plain) => {
    for (const c of CHECKPOINT_COLUMNS) columns[c].push(c === column ? row : null);
  };

  push('protocol', {
    minReaderVersion: protocol.minReaderVersion,
    minWriterVersion: protocol.minWriterVersion,
    readerFeatures: protocol.readerFeatures ?? null,
    writerFeatures: protocol.writerFeatures ?? null,
  });
  push('metaData', {
    id: metadata.id,
    name: metadata.name ?? null,
    description: metadata.description ?? null,
    format: { provider: metadata.format.provider, options: metadata.format.options },
    schemaString: metadata.schemaString,
    partitionColumns: metadata.partitionColumns,
    configuration,
    createdTime: metadata.createdTime ?? null,
  });
  for (const txn of [...state.txns.values()].sort(byString((t) => t.appId))) {
    push('txn', { appId: txn.appId, version: txn.version, lastUpdated: txn.lastUpdated ?? null });
  }
  for (const d of [...state.domains.values()].sort(byString((x) => x.domain))) {
    if (!d.removed)
      push('domainMetadata', { domain: d.domain, configuration: d.configuration, removed: false });
  }

  let numOfAddFiles = 0;
  for (const add of [...state.files.values()].sort(byString(fileKey))) {
    const row: Plain = {
      path: add.path,
      partitionValues: add.partitionValues,
      size: add.size,
      modificationTime: add.modificationTime,
      dataChange: add.dataChange,
      tags: add.tags ?? null,
      deletionVector: dvRow(add.deletionVector),
      baseRowId: add.baseRowId ?? null,
      defaultRowCommitVersion: add.defaultRowCommitVersion ?? null,
      clusteringProvider: add.clusteringProvider ?? null,
    };
    if (statsAsJson) {
      row.stats = add.stats ?? (add.statsParsed ? statsJsonFromParsed(add.statsParsed, statsPhysical) : null);
    }
    if (statsParsed) {
      const stats = add.stats !== undefined ? (parseStats(add.stats) ?? add.statsParsed) : add.statsParsed;
      row.stats_parsed = statsParsedRow(stats, statsPhysical);
    }
    if (partitionValuesParsed) {
      const parsed: Plain = {};
      for (const fl of partitionsPhysical.fields) {
        parsed[fl.name] = parsePartitionValue(add.partitionValues[fl.name] ?? null, fl.type, {
          column: fl.name,
          table: where.table,
          file: add.path,
          version: where.version,
        });
      }
      row.partitionValues_parsed = parsed;
    }
    push('add', row);
    numOfAddFiles++;
  }

  const retention = tombstoneRetentionMs(configuration, where);
  const cutoff = options.now - retention;
  for (const rm of [...state.tombstones.values()].sort(byString(fileKey))) {
    if ((rm.deletionTimestamp ?? 0) <= cutoff) continue;
    push('remove', {
      path: rm.path,
      deletionTimestamp: rm.deletionTimestamp ?? null,
      dataChange: rm.dataChange,
      extendedFileMetadata: rm.extendedFileMetadata ?? null,
      partitionValues: rm.partitionValues ?? null,
      size: rm.size ?? null,
      tags: rm.tags ?? null,
      deletionVector: dvRow(rm.deletionVector),
      baseRowId: rm.baseRowId ?? null,
      defaultRowCommitVersion: rm.defaultRowCommitVersion ?? null,
    });
  }

  const numActions = columns.txn.length;
  const children = arrowSchema.fields.map((fl) =>
    encodeColumn(fl.type, columns[fl.name as CheckpointColumn], fl.name),
  );
  const data = makeData({
    type: new Struct(arrowSchema.fields as Field[]),
    length: numActions,
    nullCount: 0,
    children,
  });
  const table = new Table([new RecordBatch(arrowSchema, data)]);
  return { table, numOfAddFiles, numActions };
}

// ---------------------------------------------------------------------------------------------
// Parquet and storage
// ---------------------------------------------------------------------------------------------

/** Parquet bytes of a checkpoint table (SNAPPY, as Spark writes checkpoints). */
export function checkpointToParquet(table: Table): Uint8Array {
  const pw = parquetModule();
  const wasmTable = pw.Table.fromIPCStream(tableToIPC(table, 'stream'));
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression.SNAPPY)
    .setCreatedBy(`weir version ${WEIR_VERSION}`)
    .build();
  return pw.writeParquet(wasmTable, props);
}

/** Percent-encodes everything but A-Z a-z 0-9 - . _ ~ (uppercase hex), per the protocol. */
function checksumEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalPairs(value: unknown, path: string, out: [string, string][]): void {
  if (value === null || typeof value !== 'object') {
    const text =
      typeof value === 'string'
        ? `"${checksumEncode(value)}"`
        : typeof value === 'bigint'
          ? value.toString()
          : String(value);
    out.push([path, text]);
    return;
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value).map(([k, v]) => [`"${checksumEncode(k)}"`, v]);
  for (const [k, v] of entries) canonicalPairs(v, path === '' ? k : `${path}+${k}`, out);
}

/**
 * The protocol's canonical form of a `_last_checkpoint` object ("JSON checksum"): leaf
 * path=value pairs, names and strings percent-encoded and quoted, paths joined by '+', sorted by
 * the UTF-8 bytes of the path, joined by ','; the top-level `checksum` is left out.
 */
export function canonicalizeLastCheckpoint(obj: Readonly<Record<string, unknown>>): string {
  const pairs: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'checksum') continue;
    canonicalPairs(v, `"${checksumEncode(k)}"`, pairs);
  }
  pairs.sort((a, b) => Buffer.compare(Buffer.from(a[0], 'utf8'), Buffer.from(b[0], 'utf8')));
  return pairs.map(([p, v]) => `${p}=${v}`).join(',');
}

/** MD5 (hex) of the canonical form: the `checksum` field of `_last_checkpoint`. */
export function lastCheckpointChecksum(obj: Readonly<Record<string, unknown>>): string {
  return createHash('md5').update(canonicalizeLastCheckpoint(obj), 'utf8').digest('hex');
}

export interface LastCheckpointInfo {
  version: number;
  /** Actions (rows) in the checkpoint. */
  size: number;
  sizeInBytes: number;
  numOfAddFiles: number;
}

/** The `_last_checkpoint` JSON text, fields in Spark's order, with its checksum. */
export function lastCheckpointJson(info: LastCheckpointInfo): string {
  const body = {
    version: info.version,
    size: info.size,
    sizeInBytes: info.sizeInBytes,
    numOfAddFiles: info.numOfAddFiles,
  };
  return JSON.stringify({ ...body, checksum: lastCheckpointChecksum(body) });
}

export interface WriteCheckpointOptions {
  /** The current time (ms since epoch) for tombstone expiry; default `Date.now()`. */
  now?: number;
}

export interface CheckpointWritten extends LastCheckpointInfo {
  /** Whether `_last_checkpoint` now points at this checkpoint (false: it already named a newer one). */
  lastCheckpointUpdated: boolean;
}

/** Writes the classic checkpoint of `snapshot`'s version, then moves `_last_checkpoint` forward. */
export async function writeCheckpoint(
  store: ObjectStore,
  snapshot: Snapshot,
  options: WriteCheckpointOptions = {},
): Promise<CheckpointWritten> {
  const state = snapshot.tableState;
  const built = buildCheckpoint(state, { now: options.now ?? Date.now(), table: snapshot.table });
  if (built.numOfAddFiles !== state.files.size) {
    throw new WeirError(
      'CHECKPOINT_MISMATCH',
      `${snapshot.table}: version ${snapshot.version}: checkpoint has ${built.numOfAddFiles} files, the snapshot ${state.files.size}`,
      { details: { table: snapshot.table, version: snapshot.version } },
    );
  }
  const bytes = checkpointToParquet(built.table);
  await store.put(classicCheckpointKey(snapshot.version), bytes, { contentLength: bytes.length });
  const info: LastCheckpointInfo = {
    version: snapshot.version,
    size: built.numActions,
    sizeInBytes: bytes.length,
    numOfAddFiles: built.numOfAddFiles,
  };
  const current = await readLastCheckpointHint(store);
  const updated = current === undefined || current.version <= snapshot.version;
  if (updated) await store.put(LAST_CHECKPOINT_KEY, new TextEncoder().encode(lastCheckpointJson(info)));
  return { ...info, lastCheckpointUpdated: updated };
}
