/**
 * Compaction planning (OPTIMIZE bin-packing), pure and synchronous: which live files of a
 * snapshot to rewrite together, as bins of one partition each.
 *
 * Rules:
 * - Only files of partitions matching `where` (a predicate on partition columns only; a NULL
 *   result excludes the partition, as SQL WHERE does) are considered.
 * - A file is a candidate when it is smaller than `minFileSize` (default: the target size) or
 *   carries a deletion vector (rewriting it drops the deleted rows for good).
 * - Per partition, candidates in stream order (modificationTime, then path) are packed next-fit
 *   into bins whose input bytes stay within the target size (default `delta.targetFileSize`,
 *   else 128 MiB); stream order keeps time-clustered data together, so the output's min/max
 *   stats stay selective. A file larger than the target gets a bin of its own.
 * - With `tierRatio` (continuous compaction), candidates are instead taken smallest first and a
 *   file joins the open bin only while it is at most `tierRatio` times the bin's bytes so far:
 *   a file that earlier runs already grew waits until enough new bytes have gathered, instead
 *   of being rewritten with every handful of new files (each row is rewritten a logarithmic,
 *   not linear, number of times as a partition grows); a bin's files are then put in stream order.
 * - A bin with fewer than `minInputFiles` files (default 2) is dropped, unless a file in it has
 *   a deletion vector; a partition with fewer than `minFilesPerPartition` candidates is skipped.
 * - With `maxBytesPerRun`, bins are chosen by most input files first until the budget is spent
 *   (the first one always, so a run makes progress); the rest are deferred (counted).
 * Invariants: every bin's files share one partition (identical `partitionValues`); a file is in at
 * most one bin; bins come in a deterministic order (partition, then stream order, or size order
 * with `tierRatio`); the plan never
 * reads storage.
 */
import { WeirError } from '@weir/storage';
import { parseStats } from '../actions/codec.js';
import type { AddAction } from '../actions/types.js';
import { type Expr, formatExpr } from '../expr/ast.js';
import { type BoundPredicate, bindPredicate } from '../expr/bind.js';
import { parsePredicate } from '../expr/parse.js';
import { evaluateOnValues } from '../expr/row.js';
import { columnMappingMode, physicalSchema } from '../schema/column-mapping.js';
import { parsePartitionValue, type ScalarValue } from '../schema/partition-values.js';
import type { DataType } from '../schema/types.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { DEFAULT_TARGET_FILE_SIZE, TARGET_FILE_SIZE_KEY } from '../write/data-file-writer.js';

export interface OptimizePlanOptions {
  /** Only partitions matching this predicate on partition columns, e.g. `day >= '2024-05-01'`. */
  where?: string | Expr;
  /** Bytes per output file to aim for (default `delta.targetFileSize`, else 128 MiB). */
  targetSize?: number;
  /** Files at least this big are left alone unless they have a deletion vector (default: targetSize). */
  minFileSize?: number;
  /** Bins with fewer files are not rewritten (default 2; a file with a deletion vector always is). */
  minInputFiles?: number;
  /** Partitions with fewer candidate files are skipped (default 1). */
  minFilesPerPartition?: number;
  /** At most this many input bytes per run (bins with the most files first). */
  maxBytesPerRun?: number;
  /** Size-tiered bins: a file joins a bin only while at most this many times its bytes (>= 1). */
  tierRatio?: number;
}

export interface OptimizeBin {
  /** Position in the plan (0-based). */
  id: number;
  /** `col=value/...` of the partition ('' for an unpartitioned table), for display. */
  partition: string;
  /** The partition values every file of the bin has, exactly as in the log. */
  partitionValues: Readonly<Record<string, string | null>>;
  files: readonly AddAction[];
  inputBytes: number;
  /** Rows the bin holds (numRecords minus deleted rows), when every file has numRecords. */
  inputRows?: number;
  /** Files of the bin with a deletion vector. */
  deletionVectors: number;
}

export interface OptimizePlanMetrics {
  /** Live files and bytes of the snapshot. */
  totalFiles: number;
  totalBytes: number;
  /** Files in partitions matching `where`. */
  filesConsidered: number;
  /** Files small enough (or with a deletion vector) to be rewritten. */
  candidateFiles: number;
  partitionsConsidered: number;
  filesInBins: number;
  bytesInBins: number;
  /** Bins (and their input bytes) left for a later run by `maxBytesPerRun`. */
  binsDeferred: number;
  bytesDeferred: number;
}

export interface OptimizePlan {
  table: string;
  /** The snapshot version planned on. */
  version: number;
  targetSize: number;
  minFileSize: number;
  minInputFiles: number;
  /** The partition predicate as given (text), if any. */
  predicate?: string;
  bins: OptimizeBin[];
  metrics: OptimizePlanMetrics;
}

export const DEFAULT_MIN_INPUT_FILES = 2;

function invalid(table: string, option: string, value: unknown, why: string): WeirError {
  return new WeirError('INVALID_ARGUMENT', `${table}: ${option} ${why}, not ${String(value)}`, {
    details: { table, option, value: String(value) },
  });
}

function positiveInt(table: string, option: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw invalid(table, option, v, 'must be a positive integer');
  return v;
}

/** The target file size of a table: `delta.targetFileSize` when valid, else 128 MiB. */
export function tableTargetFileSize(snapshot: Snapshot): number {
  const raw = snapshot.configuration[TARGET_FILE_SIZE_KEY];
  if (raw !== undefined && /^\s*\d+\s*$/.test(raw) && Number(raw) > 0) return Number(raw);
  return DEFAULT_TARGET_FILE_SIZE;
}

/** Binds a predicate that may use partition columns only (OPTIMIZE's WHERE). */
export function bindPartitionPredicate(snapshot: Snapshot, where: string | Expr): BoundPredicate {
  const table = snapshot.table;
  const bound = bindPredicate(typeof where === 'string' ? parsePredicate(where) : where, snapshot.schema);
  const partitions = new Set(snapshot.partitionColumns);
  const others = bound.columns.filter((p) => p.length !== 1 || !partitions.has(p[0]!));
  if (others.length > 0) {
    const names = others.map((p) => p.join('.'));
    throw new WeirError(
      'INVALID_OPTIMIZE_PREDICATE',
      `${table}: OPTIMIZE's predicate may only use partition columns (${snapshot.partitionColumns.join(', ') || 'the table has none'}); it uses ${names.join(', ')}`,
      { details: { table, columns: names } },
    );
  }
  return bound;
}

/** Typed partition values of a file by logical column name (column mapping resolved). */
export function partitionValueGetter(snapshot: Snapshot): (add: AddAction) => Map<string, ScalarValue> {
  const physical = physicalSchema(snapshot.schema, columnMappingMode(snapshot.configuration));
  const columns: { name: string; physical: string; type: DataType }[] = [];
  snapshot.schema.fields.forEach((f, i) => {
    if (snapshot.partitionColumns.includes(f.name)) {
      columns.push({ name: f.name, physical: physical.fields[i]!.name, type: f.type });
    }
  });
  return (add) => {
    const out = new Map<string, ScalarValue>();
    for (const c of columns) {
      const raw = add.partitionValues[c.physical] ?? add.partitionValues[c.name] ?? null;
      out.set(
        c.name,
        parsePartitionValue(raw, c.type, { table: snapshot.table, file: add.path, column: c.name }),
      );
    }
    return out;
  };
}

function partitionKey(add: AddAction): string {
  const keys = Object.keys(add.partitionValues).sort();
  return JSON.stringify(keys.map((k) => [k, add.partitionValues[k] ?? null]));
}

function partitionLabel(add: AddAction): string {
  return Object.entries(add.partitionValues)
    .map(([k, v]) => `${k}=${v ?? 'null'}`)
    .join('/');
}

/** Rows a file holds after its deletion vector, or undefined without numRecords. */
export function liveRows(add: AddAction): number | undefined {
  const n = (add.statsParsed ?? parseStats(add.stats))?.numRecords;
  if (n === undefined) return undefined;
  return n - (add.deletionVector?.cardinality ?? 0);
}

function makeBin(files: AddAction[], id: number): OptimizeBin {
  let rows: number | undefined = 0;
  for (const f of files) {
    const n = liveRows(f);
    rows = rows === undefined || n === undefined ? undefined : rows + n;
  }
  return {
    id,
    partition: partitionLabel(files[0]!),
    partitionValues: files[0]!.partitionValues,
    files,
    inputBytes: files.reduce((n, f) => n + f.size, 0),
    ...(rows !== undefined ? { inputRows: rows } : {}),
    deletionVectors: files.filter((f) => f.deletionVector !== undefined).length,
  };
}

const streamOrder = (a: AddAction, b: AddAction) =>
  a.modificationTime - b.modificationTime || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

const bySize = (a: AddAction, b: AddAction) => a.size - b.size || streamOrder(a, b);

/** Plans the bins of an OPTIMIZE over `snapshot`. Pure. */
export function planOptimize(snapshot: Snapshot, options: OptimizePlanOptions = {}): OptimizePlan {
  const table = snapshot.table;
  const targetSize = positiveInt(table, 'targetSize', options.targetSize, tableTargetFileSize(snapshot));
  const minFileSize = positiveInt(table, 'minFileSize', options.minFileSize, targetSize);
  const minInputFiles = positiveInt(table, 'minInputFiles', options.minInputFiles, DEFAULT_MIN_INPUT_FILES);
  const minFilesPerPartition = positiveInt(table, 'minFilesPerPartition', options.minFilesPerPartition, 1);
  const maxBytes =
    options.maxBytesPerRun === undefined
      ? Number.POSITIVE_INFINITY
      : positiveInt(table, 'maxBytesPerRun', options.maxBytesPerRun, 1);
  const tierRatio = options.tierRatio;
  if (tierRatio !== undefined && !(tierRatio >= 1)) {
    throw invalid(table, 'tierRatio', tierRatio, 'must be a number >= 1');
  }
  const predicate = options.where !== undefined ? bindPartitionPredicate(snapshot, options.where) : undefined;
  const valuesOf = predicate ? partitionValueGetter(snapshot) : undefined;

  const files = snapshot.files();
  let totalBytes = 0;
  let filesConsidered = 0;
  let candidateFiles = 0;
  const byPartition = new Map<string, AddAction[]>();
  const matches = new Map<string, boolean>();
  for (const f of files) {
    totalBytes += f.size;
    const key = partitionKey(f);
    let match = matches.get(key);
    if (match === undefined) {
      const values = valuesOf?.(f);
      match = !predicate || evaluateOnValues(predicate, (p) => values!.get(p[0]!)) === true;
      matches.set(key, match);
    }
    if (!match) continue;
    filesConsidered++;
    if (f.size >= minFileSize && f.deletionVector === undefined) continue;
    candidateFiles++;
    const list = byPartition.get(key);
    if (list) list.push(f);
    else byPartition.set(key, [f]);
  }

  let bins: OptimizeBin[] = [];
  const partitionKeys = [...byPartition.keys()].sort();
  for (const key of partitionKeys) {
    const candidates = byPartition.get(key)!.sort(streamOrder);
    if (candidates.length < minFilesPerPartition) continue;
    let current: AddAction[] = [];
    let bytes = 0;
    const close = () => {
      const keep = current.length >= minInputFiles || current.some((f) => f.deletionVector !== undefined);
      if (current.length > 0 && keep) bins.push(makeBin(current.sort(streamOrder), bins.length));
      current = [];
      bytes = 0;
    };
    const order = tierRatio === undefined ? candidates : [...candidates].sort(bySize);
    for (const f of order) {
      const full = bytes + f.size > targetSize;
      const outgrown = tierRatio !== undefined && f.size > tierRatio * bytes;
      if (current.length > 0 && (full || outgrown)) close();
      current.push(f);
      bytes += f.size;
    }
    close();
  }

  let binsDeferred = 0;
  let bytesDeferred = 0;
  if (Number.isFinite(maxBytes)) {
    const chosen = new Set<OptimizeBin>();
    let budget = 0;
    const byBenefit = [...bins].sort((a, b) => b.files.length - a.files.length || a.id - b.id);
    for (const bin of byBenefit) {
      if (chosen.size === 0 || budget + bin.inputBytes <= maxBytes) {
        chosen.add(bin);
        budget += bin.inputBytes;
      } else {
        binsDeferred++;
        bytesDeferred += bin.inputBytes;
      }
    }
    bins = bins.filter((b) => chosen.has(b)).map((b, id) => ({ ...b, id }));
  }

  const predicateText =
    options.where === undefined
      ? undefined
      : typeof options.where === 'string'
        ? options.where
        : formatExpr(options.where);
  return {
    table,
    version: snapshot.version,
    targetSize,
    minFileSize,
    minInputFiles,
    ...(predicateText !== undefined ? { predicate: predicateText } : {}),
    bins,
    metrics: {
      totalFiles: files.length,
      totalBytes,
      filesConsidered,
      candidateFiles,
      partitionsConsidered: [...matches.values()].filter(Boolean).length,
      filesInBins: bins.reduce((n, b) => n + b.files.length, 0),
      bytesInBins: bins.reduce((n, b) => n + b.inputBytes, 0),
      binsDeferred,
      bytesDeferred,
    },
  };
}
