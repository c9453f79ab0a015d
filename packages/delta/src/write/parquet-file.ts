/**
 * Encodes the Arrow record batches of one data file into Parquet bytes with parquet-wasm.
 *
 * Invariants:
 * - The file's columns are the table's data columns (partition columns live only in
 *   `add.partitionValues`) with physical names at every level when column mapping is on, and
 *   Parquet field ids (from `delta.columnMapping.id`) in 'id' mode. Delta field metadata is not
 *   copied into the file.
 * - Types follow `deltaTypeToArrow`: timestamp is Arrow Timestamp(MICROSECOND, 'UTC') ->
 *   Parquet INT64 TIMESTAMP(isAdjustedToUTC=true, MICROS); timestamp_ntz -> INT64
 *   TIMESTAMP(isAdjustedToUTC=false, MICROS); decimals as Parquet DECIMAL; maps as the standard
 *   3-level MAP group; lists as the standard 3-level LIST.
 * - Writer settings (`encodeSettings` -> `writerProperties`, shared with the encode workers):
 *   format version 1 data pages (what every Parquet reader reads), column-chunk and page
 *   statistics on, ZSTD by default (SNAPPY or none on request), row groups of at most
 *   `maxRowGroupRows` rows (default 1,048,576), fewer when `rowGroupBytes` asks for smaller ones
 *   (estimated from the batches' Arrow size). Dictionary encoding is on except for top-level
 *   columns of types that are rarely low-cardinality (long, float, double, decimal, timestamps,
 *   boolean): building a dictionary there mostly costs time before the writer falls back to
 *   plain pages (measured on the write bench: a third of the encode time, and bigger files).
 * - Batches stream into the writer one at a time (`transformParquetStream`), so WebAssembly
 *   memory holds about one row group, not a second copy of the whole file. Small batches are
 *   first concatenated into batches of ~64K rows: the encoder has a fixed cost per batch.
 * - A parquet-wasm failure is `WeirError('PARQUET_WRITE_FAILED')` naming the table and file.
 */
import { concatBytes, WeirError } from '@weir/storage';
import {
  type DataType as ArrowType,
  type Data,
  type Field,
  type List,
  type Map_,
  makeData,
  RecordBatch,
  type Schema,
  Struct,
  Table,
  Type,
  tableToIPC,
} from 'apache-arrow';
import { parquetModule } from '../parquet/wasm.js';
import { deltaSchemaToArrow } from '../schema/arrow.js';
import { type ColumnMappingMode, columnMappingId, physicalSchema } from '../schema/column-mapping.js';
import { COLUMN_MAPPING_ID_KEY, type DataType, type StructField, type StructType } from '../schema/types.js';
import { concatBatches } from './arrow-concat.js';
import { batchByteSize } from './arrow-size.js';

export type ParquetCompression = 'zstd' | 'snappy' | 'uncompressed';

export const DEFAULT_MAX_ROW_GROUP_ROWS = 1_048_576;
export const COALESCE_ROWS = 65_536;
/** Arrow bytes per row group that data writes and compaction aim for by default. */
export const DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024;
export const COALESCE_BYTES = 16 * 1024 * 1024;

export interface ParquetWriteOptions {
  compression?: ParquetCompression;
  /** At most this many rows per row group (default 1,048,576). */
  maxRowGroupRows?: number;
  /** Aim for row groups of about this many bytes of Arrow data (default: rows only). */
  rowGroupBytes?: number;
}

/** Names the file in errors. */
export interface ParquetFileContext {
  table: string;
  file: string;
}

function stripType(t: DataType, mode: ColumnMappingMode): DataType {
  switch (t.type) {
    case 'struct':
      return { type: 'struct', fields: (t as StructType).fields.map((f) => stripField(f, mode)) };
    case 'array': {
      const a = t as Extract<DataType, { type: 'array' }>;
      return { ...a, elementType: stripType(a.elementType, mode) };
    }
    case 'map': {
      const m = t as Extract<DataType, { type: 'map' }>;
      return { ...m, keyType: stripType(m.keyType, mode), valueType: stripType(m.valueType, mode) };
    }
    default:
      return t;
  }
}

/** The field without Delta metadata, except its column mapping id (as text) in 'id' mode. */
function stripField(f: StructField, mode: ColumnMappingMode): StructField {
  const id = mode === 'id' ? columnMappingId(f) : undefined;
  return {
    name: f.name,
    type: stripType(f.type, mode),
    nullable: f.nullable,
    metadata: id === undefined ? {} : { [COLUMN_MAPPING_ID_KEY]: String(id) },
  };
}

/**
 * The Arrow schema of a data file: the table's data columns (logical schema minus partition
 * columns), with physical names and, in 'id' mode, Parquet field ids.
 */
export function dataFileSchema(dataSchema: StructType, mode: ColumnMappingMode): Schema {
  const physical = physicalSchema(dataSchema, mode);
  return deltaSchemaToArrow(
    { type: 'struct', fields: physical.fields.map((f) => stripField(f, mode)) },
    { parquetFieldIds: mode === 'id' },
  );
}

/** The same data under another (structurally equal) type: nested names change, buffers stay. */
function relabel(data: Data<ArrowType>, target: ArrowType): Data<ArrowType> {
  const children = data.children as Data<ArrowType>[];
  switch (target.typeId) {
    case Type.Struct: {
      const kids = (target as Struct).children.map((f: Field, i) => relabel(children[i]!, f.type));
      return data.clone(target, data.offset, data.length, data.nullCount, undefined, kids);
    }
    case Type.List:
    case Type.Map: {
      const childType = (target as List | Map_).children[0]!.type as ArrowType;
      return data.clone(target, data.offset, data.length, data.nullCount, undefined, [
        relabel(children[0]!, childType),
      ]);
    }
    default:
      return data.type === target ? data : data.clone(target);
  }
}

/** A batch of data columns (logical names, table order) under the data file's schema. */
export function toFileBatch(batch: RecordBatch, fileSchema: Schema): RecordBatch {
  const columns = batch.data.children as Data<ArrowType>[];
  if (columns.length !== fileSchema.fields.length) {
    throw new WeirError(
      'SCHEMA_MISMATCH',
      `data batch has ${columns.length} columns, the data file schema ${fileSchema.fields.length}`,
      { details: { batchColumns: columns.length, fileColumns: fileSchema.fields.length } },
    );
  }
  const children = fileSchema.fields.map((f, i) => relabel(columns[i]!, f.type));
  const type = new Struct(fileSchema.fields);
  const data = makeData({ type, length: batch.numRows, nullCount: 0, children });
  return new RecordBatch(fileSchema, data);
}

/** What the Parquet writer is told for one file: plain data, so it can cross to a worker. */
export interface EncodeSettings {
  compression: ParquetCompression;
  maxRowGroupRows: number;
  /** Top-level columns written without dictionary encoding. */
  plainColumns: string[];
}

/** Arrow types whose values are rarely repeated enough for a dictionary to pay. */
const PLAIN_TYPES: ReadonlySet<Type> = new Set([
  Type.Int,
  Type.Float,
  Type.Decimal,
  Type.Timestamp,
  Type.Bool,
]);

function plainByDefault(type: ArrowType): boolean {
  // 8-, 16- and 32-bit integers (codes, years, counts) often repeat; 64-bit ones (ids) rarely.
  if (type.typeId === Type.Int) return (type as unknown as { bitWidth: number }).bitWidth === 64;
  return PLAIN_TYPES.has(type.typeId);
}

/** The writer settings of a data file with `fileSchema`, for batches like `batches`. */
export function encodeSettings(
  fileSchema: Schema,
  batches: readonly RecordBatch[],
  options: ParquetWriteOptions = {},
): EncodeSettings {
  return {
    compression: options.compression ?? 'zstd',
    maxRowGroupRows: rowGroupRows(batches, options),
    plainColumns: fileSchema.fields.filter((f) => plainByDefault(f.type)).map((f) => f.name),
  };
}

/** parquet-wasm writer properties for `settings` (the same on the main thread and in workers). */
export function writerProperties(pw: ReturnType<typeof parquetModule>, settings: EncodeSettings) {
  const codecs = {
    zstd: pw.Compression.ZSTD,
    snappy: pw.Compression.SNAPPY,
    uncompressed: pw.Compression.UNCOMPRESSED,
  };
  let builder = new pw.WriterPropertiesBuilder()
    .setWriterVersion(pw.WriterVersion.V1)
    .setCompression(codecs[settings.compression])
    .setDictionaryEnabled(true)
    .setStatisticsEnabled(pw.EnabledStatistics.Page)
    .setMaxRowGroupSize(settings.maxRowGroupRows);
  // A string column path is one path element: names with dots are safe.
  for (const name of settings.plainColumns) builder = builder.setColumnDictionaryEnabled(name, false);
  return builder.build();
}

function rowGroupRows(batches: readonly RecordBatch[], options: ParquetWriteOptions): number {
  let rows = options.maxRowGroupRows ?? DEFAULT_MAX_ROW_GROUP_ROWS;
  if (options.rowGroupBytes !== undefined) {
    let total = 0;
    let bytes = 0;
    for (const b of batches) {
      total += b.numRows;
      bytes += batchByteSize(b);
    }
    if (total > 0 && bytes > 0) rows = Math.min(rows, Math.ceil(options.rowGroupBytes / (bytes / total)));
  }
  return Math.max(1, Math.floor(rows));
}

/**
 * Consecutive batches concatenated into ones of about COALESCE_ROWS rows or COALESCE_BYTES (the
 * encoder pays per batch). A batch that would take a group past COALESCE_BYTES ends the group
 * before it, so a batch already that large is passed on as it is, never copied.
 */
export function* coalesced(batches: readonly RecordBatch[]): Generator<RecordBatch> {
  let group: RecordBatch[] = [];
  let rows = 0;
  let bytes = 0;
  for (const b of batches) {
    if (b.numRows === 0) continue;
    const size = batchByteSize(b);
    // The group ends when it is full, or before a batch that would take it past COALESCE_BYTES.
    if (group.length > 0 && (rows >= COALESCE_ROWS || bytes + size > COALESCE_BYTES)) {
      yield concatBatches(group);
      group = [];
      rows = 0;
      bytes = 0;
    }
    group.push(b);
    rows += b.numRows;
    bytes += size;
  }
  if (group.length > 0) yield concatBatches(group);
}

/**
 * Parquet bytes of one data file from its batches (already under `dataFileSchema`, e.g. through
 * `toFileBatch`).
 */
export async function encodeParquet(
  batches: readonly RecordBatch[],
  context: ParquetFileContext,
  options: ParquetWriteOptions = {},
): Promise<Uint8Array> {
  const schema = batches[0]?.schema;
  const settings = schema
    ? encodeSettings(schema, batches, options)
    : {
        compression: options.compression ?? 'zstd',
        maxRowGroupRows: rowGroupRows(batches, options),
        plainColumns: [],
      };
  return encodeWithSettings(batches, context, settings);
}

/** `encodeParquet` with the writer settings decided by the caller. */
export async function encodeWithSettings(
  batches: readonly RecordBatch[],
  context: ParquetFileContext,
  settings: EncodeSettings,
): Promise<Uint8Array> {
  const pw = parquetModule();
  const props = writerProperties(pw, settings);
  const groups = coalesced(batches);
  const input = new ReadableStream<unknown>({
    pull(controller) {
      const { value: batch, done } = groups.next();
      if (done) {
        controller.close();
        return;
      }
      const wasmTable = pw.Table.fromIPCStream(tableToIPC(new Table([batch]), 'stream'));
      try {
        for (const b of wasmTable.recordBatches()) controller.enqueue(b);
      } finally {
        wasmTable.free();
      }
    },
  });
  try {
    const output = await pw.transformParquetStream(input as ReadableStream, props);
    const reader = (output as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Chunks are copies in JS memory; copy anyway should one be a view into wasm memory.
      chunks.push(value.buffer === pw.wasmMemory().buffer ? value.slice() : value);
    }
    return concatBytes(chunks);
  } catch (err) {
    throw new WeirError(
      'PARQUET_WRITE_FAILED',
      `${context.table}: cannot encode data file ${context.file}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { ...context } },
    );
  }
}
