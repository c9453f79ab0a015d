/**
 * Scan planning, pure and synchronous: which live files of a snapshot a scan must read, with
 * their typed partition values, after partition pruning and min/max/null-count data skipping.
 *
 * Invariants: a file is skipped only when its partition values or stats prove that no row can
 * match; missing or unparsable stats never skip a file; column mapping is resolved here (the
 * plan speaks logical names, the files physical ones).
 */
import { WeirError } from '@weir/storage';
import { parseStats } from '../actions/codec.js';
import type { AddAction, FileStats } from '../actions/types.js';
import type { Expr } from '../expr/ast.js';
import { mayMatchStats } from '../expr/evaluate.js';
import { type BoundPredicate, bindPredicate, parsePredicate } from '../expr/parse.js';
import { type ColumnMappingMode, columnMappingMode, physicalSchema } from '../schema/column-mapping.js';
import { parsePartitionValue, type ScalarValue } from '../schema/partition-values.js';
import { statsValueToScalar } from '../schema/stats-values.js';
import type { DataType, StructField, StructType } from '../schema/types.js';
import { decodeLogPath } from '../snapshot/replay.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { keyUnderStoreRoot } from './deletion-vector-path.js';

export interface ScanOptions {
  /** Top-level logical column names, in output order. All columns when absent. */
  columns?: readonly string[];
  /** A predicate (text like `a > 1 AND b IN ('x','y')`, or a parsed expression). */
  where?: string | Expr;
  /** Stop after this many rows. */
  limit?: number;
}

export interface ScanFile {
  add: AddAction;
  /** Store key of the data file (URI-decoded, relative to the table root). */
  key: string;
  /** Typed partition values by logical column name. */
  partitionValues: ReadonlyMap<string, ScalarValue>;
  numRecords?: number;
}

export interface ScanPlan {
  table: string;
  version: number;
  /** The logical table schema (all columns). */
  tableSchema: StructType;
  /** The physical schema (names as in files), structurally parallel to `tableSchema`. */
  physicalSchema: StructType;
  /** Column mapping mode: in 'id' mode data-file columns are matched by Parquet field id. */
  columnMapping: ColumnMappingMode;
  /** Output columns, in order. */
  outputColumns: readonly string[];
  /** Columns to materialize: the output plus those the predicate needs. */
  readColumns: readonly string[];
  partitionColumns: ReadonlySet<string>;
  predicate?: BoundPredicate;
  files: ScanFile[];
  limit?: number;
  metrics: { totalFiles: number; prunedByPartition: number; skippedByStats: number };
}

/**
 * Maps a data file's path (`add.path`: a URI-encoded relative path, or an absolute URI or path)
 * to a store key relative to the table root, decoding it exactly once. An absolute one must lie
 * under the table root (`tableRoot` is the store's root URI): Weir reads through that store only.
 */
export function dataFileKey(path: string, tableRoot: string): string {
  // A scheme has 2+ characters (a Windows drive letter is not one).
  if (/^[a-z][a-z0-9+.-]+:/i.test(path) || path.startsWith('/')) {
    const key = keyUnderStoreRoot(path, tableRoot);
    if (key !== undefined) return key;
    throw new WeirError('UNSUPPORTED_PATH', `${tableRoot}: data file ${path} is outside the table location`, {
      details: { table: tableRoot, path },
    });
  }
  return decodeLogPath(path);
}

function lookup(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Resolves a logical column path to its physical path and Delta type. */
function physicalPathOf(
  logical: StructType,
  physical: StructType,
  path: readonly string[],
): { path: string[]; type: DataType } | undefined {
  let l: StructType = logical;
  let p: StructType = physical;
  const out: string[] = [];
  let type: DataType | undefined;
  for (let i = 0; i < path.length; i++) {
    const idx = l.fields.findIndex((f: StructField) => f.name === path[i]);
    if (idx < 0) return undefined;
    out.push(p.fields[idx]!.name);
    type = l.fields[idx]!.type;
    if (i < path.length - 1) {
      if (type.type !== 'struct') return undefined;
      l = type as StructType;
      p = p.fields[idx]!.type as StructType;
    }
  }
  return type ? { path: out, type } : undefined;
}

export function planScan(snapshot: Snapshot, options: ScanOptions = {}): ScanPlan {
  const table = snapshot.table;
  const tableSchema = snapshot.schema;
  const mode = columnMappingMode(snapshot.configuration);
  const physical = physicalSchema(tableSchema, mode);
  const allColumns = tableSchema.fields.map((f) => f.name);
  const outputColumns = options.columns ? [...options.columns] : allColumns;
  for (const c of outputColumns) {
    if (!allColumns.includes(c)) {
      throw new WeirError('UNKNOWN_COLUMN', `${table}: no column ${c} (columns: ${allColumns.join(', ')})`, {
        details: { table, column: c, available: allColumns },
      });
    }
  }
  const partitionColumns = new Set(snapshot.partitionColumns);
  let predicate: BoundPredicate | undefined;
  if (options.where !== undefined) {
    const expr = typeof options.where === 'string' ? parsePredicate(options.where) : options.where;
    predicate = bindPredicate(expr, tableSchema);
  }
  const readColumns = [...outputColumns];
  if (predicate) {
    for (const path of predicate.columns) {
      const top = path[0]!;
      if (!readColumns.includes(top)) readColumns.push(top);
    }
  }

  const partitionTypes = new Map<string, { type: DataType; physicalName: string }>();
  tableSchema.fields.forEach((f, i) => {
    if (partitionColumns.has(f.name))
      partitionTypes.set(f.name, { type: f.type, physicalName: physical.fields[i]!.name });
  });

  const files: ScanFile[] = [];
  let prunedByPartition = 0;
  let skippedByStats = 0;
  const live = snapshot.files();
  for (const add of live) {
    const partitionValues = new Map<string, ScalarValue>();
    for (const [name, { type, physicalName }] of partitionTypes) {
      const raw = add.partitionValues[physicalName] ?? add.partitionValues[name] ?? null;
      partitionValues.set(name, parsePartitionValue(raw, type, { table, file: add.path, column: name }));
    }
    const stats: FileStats | undefined =
      add.statsParsed ?? parseStats(add.stats, { file: add.path, version: snapshot.version });
    if (predicate) {
      const keep = mayMatchStats(predicate, {
        ...(stats?.numRecords !== undefined ? { numRecords: stats.numRecords } : {}),
        partitionValue: (path) =>
          path.length === 1 && partitionValues.has(path[0]!) ? partitionValues.get(path[0]!) : undefined,
        min: (path) => statValue(stats?.minValues, path, 'min'),
        max: (path) => statValue(stats?.maxValues, path, 'max'),
        nullCount: (path) => {
          const resolved = physicalPathOf(tableSchema, physical, path);
          const v = resolved ? lookup(stats?.nullCount, resolved.path) : undefined;
          return typeof v === 'number' ? v : undefined;
        },
      });
      if (!keep) {
        if (predicate.columns.every((p: readonly string[]) => partitionColumns.has(p[0]!)))
          prunedByPartition++;
        else skippedByStats++;
        continue;
      }
    }
    files.push({
      add,
      key: dataFileKey(add.path, table),
      partitionValues,
      ...(stats?.numRecords !== undefined ? { numRecords: stats.numRecords } : {}),
    });
  }

  function statValue(
    values: Readonly<Record<string, unknown>> | undefined,
    path: readonly string[],
    bound: 'min' | 'max',
  ): ScalarValue | undefined {
    if (!values) return undefined;
    const resolved = physicalPathOf(tableSchema, physical, path);
    if (!resolved) return undefined;
    const raw = lookup(values, resolved.path);
    if (raw === undefined || raw === null) return undefined;
    return statsValueToScalar(raw, resolved.type, bound);
  }

  return {
    table,
    version: snapshot.version,
    tableSchema,
    physicalSchema: physical,
    columnMapping: mode,
    outputColumns,
    readColumns,
    partitionColumns,
    ...(predicate ? { predicate } : {}),
    files,
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    metrics: { totalFiles: live.length, prunedByPartition, skippedByStats },
  };
}
