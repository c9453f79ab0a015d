/**
 * Synthetic Delta tables for benches, built without Weir's writer: DuckDB writes the Parquet
 * data files (`COPY (SELECT ...) TO ... (FORMAT parquet, ...)`) into a table directory as
 * `part-<uuid>.<codec>.parquet`, and the Delta log is written by hand as one commit,
 * `_delta_log/00000000000000000000.json` (commitInfo, protocol, metaData, one add per file).
 *
 * Invariants: the Delta schema is derived from DuckDB's own description of the SELECT, so it
 * matches the Parquet columns exactly; tables use protocol (1, 2) unless a column needs a table
 * feature (TIMESTAMP without time zone -> timestamp_ntz -> (3, 7)); `add.size` is the file's size
 * on disk; stats always carry `numRecords` and, when asked, min/max/nullCount that are safe for
 * data skipping (timestamps widened to whole milliseconds, long strings' max left out).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** A Delta primitive type name as the protocol writes it ('long', 'decimal(12,2)', ...). */
export type DeltaPrimitive = string;

export interface DeltaField {
  name: string;
  type: DeltaPrimitive;
  nullable: boolean;
  /** DuckDB's type, kept for stats queries. */
  duckdbType: string;
}

export interface FixtureFile {
  /** Path relative to the table root, as written in `add.path`. */
  path: string;
  size: number;
  numRecords: number;
  modificationTime: number;
  /** Row groups in the file, from its footer (DuckDB treats ROW_GROUP_SIZE as a target). */
  rowGroups: number;
}

export interface SyntheticTable {
  /** Absolute path of the table root. */
  dir: string;
  schema: DeltaField[];
  files: FixtureFile[];
  totalRows: number;
  /** Sum of data file sizes on disk. */
  totalBytes: number;
}

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'uncompressed';

export interface SyntheticTableOptions {
  /** Table root; created if missing. */
  dir: string;
  totalRows: number;
  files: number;
  /**
   * A SELECT producing rows [offset, offset + count) of the table, e.g.
   * `SELECT i AS id, ... FROM range(${offset}, ${offset + count}) t(i)`.
   */
  select: (offset: number, count: number) => string;
  /** Rows per Parquet row group. Default 122 880 (DuckDB's default). */
  rowGroupSize?: number;
  compression?: ParquetCompression;
  /** 'numRecords' (default) or full min/max/nullCount stats (one extra DuckDB query per file). */
  stats?: 'numRecords' | 'minmax';
  /** An open DuckDB connection to use; by default an in-memory instance is created and closed. */
  connection?: DuckDBConnection;
  onFile?: (done: number, total: number) => void;
}

/** A fresh directory under the OS temp dir. */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

const SIMPLE_TYPES: Readonly<Record<string, DeltaPrimitive>> = {
  BIGINT: 'long',
  INTEGER: 'integer',
  SMALLINT: 'short',
  TINYINT: 'byte',
  DOUBLE: 'double',
  FLOAT: 'float',
  BOOLEAN: 'boolean',
  VARCHAR: 'string',
  BLOB: 'binary',
  DATE: 'date',
  'TIMESTAMP WITH TIME ZONE': 'timestamp',
  TIMESTAMP: 'timestamp_ntz',
};

/** Maps a DuckDB column type to a Delta primitive type; throws for types Delta lacks. */
export function duckdbTypeToDelta(duckdbType: string, column: string): DeltaPrimitive {
  const simple = SIMPLE_TYPES[duckdbType];
  if (simple) return simple;
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(duckdbType);
  if (dec) return `decimal(${dec[1]},${dec[2]})`;
  throw new Error(
    `fixtures: column ${column} has DuckDB type ${duckdbType}, which has no Delta equivalent here ` +
      `(use ${Object.keys(SIMPLE_TYPES).join(', ')} or DECIMAL(p,s))`,
  );
}

/** The Delta schema of a SELECT, from DuckDB's DESCRIBE. */
export async function describeSelect(conn: DuckDBConnection, select: string): Promise<DeltaField[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE ${select}`);
  return reader.getRowObjectsJS().map((row) => {
    const name = String(row.column_name);
    const duckdbType = String(row.column_type);
    return { name, type: duckdbTypeToDelta(duckdbType, name), nullable: row.null !== 'NO', duckdbType };
  });
}

export async function writeParquetFile(
  conn: DuckDBConnection,
  file: string,
  select: string,
  options: { compression?: ParquetCompression; rowGroupSize?: number } = {},
): Promise<void> {
  const compression = options.compression ?? 'zstd';
  const rowGroupSize = options.rowGroupSize ?? 122_880;
  await conn.run(
    `COPY (${select}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION ${compression}, ROW_GROUP_SIZE ${rowGroupSize})`,
  );
}

function codecSuffix(compression: ParquetCompression): string {
  return compression === 'uncompressed' ? '' : `.${compression}`;
}

/** Delta's JSON schema string for the fields. */
export function deltaSchemaString(schema: readonly DeltaField[]): string {
  return JSON.stringify({
    type: 'struct',
    fields: schema.map((f) => ({ name: f.name, type: f.type, nullable: f.nullable, metadata: {} })),
  });
}

export interface DeltaLogOptions {
  schema: readonly DeltaField[];
  files: readonly FixtureFile[];
  /** Per-file stats JSON objects, parallel to `files` (numRecords only when absent). */
  stats?: readonly Record<string, unknown>[];
  configuration?: Readonly<Record<string, string>>;
  createdTime?: number;
}

/** Writes `_delta_log/00000000000000000000.json` for a table made of `files`. */
export async function writeDeltaLog(dir: string, options: DeltaLogOptions): Promise<string> {
  const createdTime = options.createdTime ?? Date.now();
  const needsNtz = options.schema.some((f) => f.type === 'timestamp_ntz');
  const protocol = needsNtz
    ? {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['timestampNtz'],
        writerFeatures: ['timestampNtz'],
      }
    : { minReaderVersion: 1, minWriterVersion: 2 };
  const actions: unknown[] = [
    {
      commitInfo: {
        timestamp: createdTime,
        operation: 'WRITE',
        operationParameters: { mode: 'Append', partitionBy: '[]' },
        isBlindAppend: true,
        engineInfo: 'weir-bench-fixtures',
      },
    },
    { protocol },
    {
      metaData: {
        id: randomUUID(),
        format: { provider: 'parquet', options: {} },
        schemaString: deltaSchemaString(options.schema),
        partitionColumns: [],
        configuration: options.configuration ?? {},
        createdTime,
      },
    },
    ...options.files.map((f, i) => ({
      add: {
        path: f.path,
        partitionValues: {},
        size: f.size,
        modificationTime: f.modificationTime,
        dataChange: true,
        stats: JSON.stringify(options.stats?.[i] ?? { numRecords: f.numRecords }),
      },
    })),
  ];
  const logDir = path.join(dir, '_delta_log');
  await mkdir(logDir, { recursive: true });
  const file = path.join(logDir, '00000000000000000000.json');
  await writeFile(file, `${actions.map((a) => JSON.stringify(a)).join('\n')}\n`);
  return file;
}

/** Splits `total` rows into `parts` counts differing by at most one. */
export function splitRows(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

const STRING_STATS_PREFIX = 32;

/** min/max/nullCount of one Parquet file, in Delta's stats JSON shape, safe for data skipping. */
export async function fileStats(
  conn: DuckDBConnection,
  file: string,
  schema: readonly DeltaField[],
  numRecords: number,
): Promise<Record<string, unknown>> {
  const exprs: string[] = [];
  schema.forEach((f, i) => {
    const c = `"${f.name.replace(/"/g, '""')}"`;
    exprs.push(`count(*) - count(${c}) AS n${i}`);
    if (f.type === 'boolean' || f.type === 'binary') return;
    if (f.type === 'timestamp' || f.type === 'timestamp_ntz') {
      exprs.push(`epoch_us(min(${c})) AS lo${i}`, `epoch_us(max(${c})) AS hi${i}`);
    } else if (f.type.startsWith('decimal') || f.type === 'date') {
      exprs.push(`min(${c})::VARCHAR AS lo${i}`, `max(${c})::VARCHAR AS hi${i}`);
    } else {
      exprs.push(`min(${c}) AS lo${i}`, `max(${c}) AS hi${i}`);
    }
  });
  const reader = await conn.runAndReadAll(`SELECT ${exprs.join(', ')} FROM read_parquet(${sqlString(file)})`);
  const row = reader.getRowObjectsJS()[0] ?? {};
  const minValues: Record<string, unknown> = {};
  const maxValues: Record<string, unknown> = {};
  const nullCount: Record<string, unknown> = {};
  schema.forEach((f, i) => {
    nullCount[f.name] = Number(row[`n${i}`] ?? 0);
    const lo = row[`lo${i}`];
    const hi = row[`hi${i}`];
    if (lo === null || lo === undefined || hi === null || hi === undefined) return;
    const pair = statsPair(f, lo, hi);
    if (pair.min !== undefined) minValues[f.name] = pair.min;
    if (pair.max !== undefined) maxValues[f.name] = pair.max;
  });
  return { numRecords, minValues, maxValues, nullCount };
}

function statsPair(f: DeltaField, lo: unknown, hi: unknown): { min?: unknown; max?: unknown } {
  if (f.type === 'timestamp' || f.type === 'timestamp_ntz') {
    // Stats are written with millisecond precision: round the min down and the max up.
    const loMs = Math.floor(Number(lo) / 1000);
    const hiMs = Math.ceil(Number(hi) / 1000);
    const iso = (ms: number) => {
      const s = new Date(ms).toISOString();
      return f.type === 'timestamp' ? s : s.slice(0, -1);
    };
    return { min: iso(loMs), max: iso(hiMs) };
  }
  if (f.type.startsWith('decimal')) {
    const digits = Number(/^decimal\((\d+)/.exec(f.type)?.[1] ?? 38);
    return digits <= 15 ? { min: Number(lo), max: Number(hi) } : {};
  }
  if (f.type === 'string') {
    const s = String(lo);
    const t = String(hi);
    return {
      min: s.length > STRING_STATS_PREFIX ? s.slice(0, STRING_STATS_PREFIX) : s,
      ...(t.length <= STRING_STATS_PREFIX ? { max: t } : {}),
    };
  }
  if (typeof lo === 'bigint' || typeof hi === 'bigint') {
    const safe = (v: unknown) =>
      typeof v !== 'bigint' || (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER));
    return safe(lo) && safe(hi) ? { min: Number(lo), max: Number(hi) } : {};
  }
  if (typeof lo === 'number' && (Number.isNaN(lo) || Number.isNaN(hi as number))) return {};
  return { min: lo, max: hi };
}

/** Row groups in a Parquet file, from its footer. */
export async function rowGroupCount(conn: DuckDBConnection, file: string): Promise<number> {
  const reader = await conn.runAndReadAll(
    `SELECT num_row_groups FROM parquet_file_metadata(${sqlString(file)})`,
  );
  return Number(reader.getRowsJS()[0]?.[0] ?? 0);
}

/**
 * Builds a table: `files` Parquet files holding `totalRows` rows from `select`, then the log.
 * Use `removeDir(table.dir)` when done.
 */
export async function buildSyntheticTable(options: SyntheticTableOptions): Promise<SyntheticTable> {
  const compression = options.compression ?? 'zstd';
  const counts = splitRows(options.totalRows, Math.max(1, options.files));
  await mkdir(options.dir, { recursive: true });
  const instance = options.connection ? undefined : await DuckDBInstance.create(':memory:');
  const conn = options.connection ?? (await instance!.connect());
  try {
    const schema = await describeSelect(conn, options.select(0, Math.max(1, counts[0] ?? 1)));
    const files: FixtureFile[] = [];
    const stats: Record<string, unknown>[] = [];
    let offset = 0;
    for (let i = 0; i < counts.length; i++) {
      const count = counts[i]!;
      const name = `part-${randomUUID()}${codecSuffix(compression)}.parquet`;
      const abs = path.join(options.dir, name);
      await writeParquetFile(conn, abs, options.select(offset, count), {
        compression,
        ...(options.rowGroupSize !== undefined ? { rowGroupSize: options.rowGroupSize } : {}),
      });
      const info = await stat(abs);
      files.push({
        path: name,
        size: info.size,
        numRecords: count,
        modificationTime: Math.floor(info.mtimeMs),
        rowGroups: await rowGroupCount(conn, abs),
      });
      if (options.stats === 'minmax') stats.push(await fileStats(conn, abs, schema, count));
      offset += count;
      options.onFile?.(i + 1, counts.length);
    }
    await writeDeltaLog(options.dir, { schema, files, ...(options.stats === 'minmax' ? { stats } : {}) });
    return {
      dir: options.dir,
      schema,
      files,
      totalRows: offset,
      totalBytes: files.reduce((a, f) => a + f.size, 0),
    };
  } finally {
    if (instance) {
      conn.closeSync();
      instance.closeSync();
    }
  }
}
