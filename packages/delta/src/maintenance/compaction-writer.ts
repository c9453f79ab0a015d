/**
 * The output side of a compaction bin: streams the bin's rows into ONE Parquet data file,
 * uploaded while it is encoded, so memory stays bounded by about one row group whatever the
 * file size. (DataFileWriter buffers a whole file before encoding it: fine for appends, but a
 * 128 MiB compacted file would mean ~4x that in Arrow buffers; bins are already sized by their
 * inputs' Parquet bytes, so no size-based cutting is needed here.)
 *
 * Invariants:
 * - Batches are logical rows of one partition (partition columns, if present, are dropped: they
 *   live in `add.partitionValues`); the file has the table's data columns under
 *   `dataFileSchema` (physical names, field ids in 'id' mode), the encoder settings of every
 *   data file (`encodeSettings`/`writerProperties` of parquet-file.ts: format v1 pages, page
 *   statistics, ZSTD by default, no dictionary on columns that rarely repeat).
 * - Row groups hold about `rowGroupBytes` (default 64 MiB) of Arrow data, at most 1,048,576 rows;
 *   small batches are coalesced into ~64K-row batches before they cross into WebAssembly.
 * - Encoding runs on a worker of `encodePool` when one is given and can start (an EncodeSession:
 *   the same writer settings, so the same bytes), else on this thread.
 * - `write` resolves once the encoder has taken the data (backpressure: at most one coalesced
 *   batch waits, two on a worker); the upload (`store.put` of an async iterable) runs
 *   concurrently.
 * - `close()` returns the add (dataChange=false, stats of the rows written) or undefined when no
 *   row was written (nothing is uploaded then); `abort()` cancels both sides: a partly uploaded
 *   object either never appears (LocalStore, S3 multipart) or stays unreferenced (VACUUM).
 */
import { type ObjectStore, WeirError } from '@weir/storage';
import { makeData, RecordBatch, Schema, Struct, Table, tableToIPC } from 'apache-arrow';
import type { AddAction, Configuration } from '../actions/types.js';
import { parquetModule } from '../parquet/wasm.js';
import type { ColumnMappingMode } from '../schema/column-mapping.js';
import type { StructField, StructType } from '../schema/types.js';
import { Slot } from '../util/slot.js';
import { concatBatches } from '../write/arrow-concat.js';
import { batchByteSize } from '../write/arrow-size.js';
import { dataFileName, encodeAddPath } from '../write/data-file-path.js';
import type { EncodePool, EncodeSession } from '../write/encode-pool.js';
import {
  COALESCE_ROWS,
  DEFAULT_MAX_ROW_GROUP_ROWS,
  DEFAULT_ROW_GROUP_BYTES,
  dataFileSchema,
  encodeSettings,
  type ParquetCompression,
  toFileBatch,
  writerProperties,
} from '../write/parquet-file.js';
import { StatsCollector } from '../write/stats.js';

/** Where a data file's rows come from: the table layout, as plain (structured-cloneable) data. */
export interface FileLayout {
  table: string;
  /** The table's logical schema (partition columns included). */
  schema: StructType;
  partitionColumns: readonly string[];
  configuration: Configuration;
  columnMapping: ColumnMappingMode;
}

export interface CompactionWriterOptions extends FileLayout {
  /** Directory (key prefix, '' or ending in '/') of the output file. */
  directory: string;
  /** The partition values of every row, exactly as the log should carry them. */
  partitionValues: Readonly<Record<string, string | null>>;
  compression?: ParquetCompression;
  /** Arrow bytes per row group to aim for (default 64 MiB). */
  rowGroupBytes?: number;
  /** Encode on a worker of this pool (default: on the calling thread). */
  encodePool?: EncodePool;
  now?: () => number;
}

/**
 * Shapes logical rows into the batches of a data file (partition columns dropped, physical
 * names) and collects their stats. Used by the writer, or by a decode worker that sends the
 * shaped batches as IPC (`CompactionFileWriter.writeEncoded`).
 */
export class FileRowShaper {
  private readonly dataIndexes: number[] = [];
  /** The Arrow schema of the data file (physical names). */
  readonly fileSchema: Schema;
  private readonly stats: StatsCollector;

  constructor(layout: FileLayout) {
    const parts = new Set(layout.partitionColumns.map((c) => c.toLowerCase()));
    const dataFields: StructField[] = [];
    layout.schema.fields.forEach((f, i) => {
      if (parts.has(f.name.toLowerCase())) return;
      this.dataIndexes.push(i);
      dataFields.push(f);
    });
    this.fileSchema = dataFileSchema({ type: 'struct', fields: dataFields }, layout.columnMapping);
    this.stats = new StatsCollector({
      schema: layout.schema,
      partitionColumns: layout.partitionColumns,
      configuration: layout.configuration,
      columnMapping: layout.columnMapping,
    });
  }

  get rows(): number {
    return this.stats.numRecords;
  }

  /** The data-file batch of logical rows (the table's columns in table order); stats updated. */
  add(batch: RecordBatch): RecordBatch {
    let data = batch;
    if (this.dataIndexes.length !== batch.schema.fields.length) {
      const fields = this.dataIndexes.map((i) => batch.schema.fields[i]!);
      const children = this.dataIndexes.map((i) => batch.data.children[i]!);
      const struct = makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children });
      data = new RecordBatch(new Schema(fields), struct);
    }
    this.stats.add(data);
    return toFileBatch(data, this.fileSchema);
  }

  statsJson(): string {
    return this.stats.toJson();
  }
}

/** A batch for the encoder: Arrow rows, or the Arrow IPC stream of already shaped rows. */
type Chunk = { batch: RecordBatch } | { ipc: Uint8Array; rows: number };

export class CompactionFileWriter {
  private readonly store: ObjectStore;
  private readonly options: CompactionWriterOptions;
  private readonly shaper: FileRowShaper;
  private readonly key: string;
  private readonly slot = new Slot<Chunk>();
  private pending: RecordBatch[] = [];
  private pendingRows = 0;
  private encodedRows = 0;
  private upload: Promise<void> | undefined;
  private output: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The worker encoding the file, when it runs on one. */
  private session: EncodeSession | undefined;
  private bytes = 0;
  private failure: { err: unknown } | undefined;

  constructor(store: ObjectStore, options: CompactionWriterOptions) {
    this.store = store;
    this.options = options;
    this.shaper = new FileRowShaper(options);
    this.key = options.directory + dataFileName(options.compression ?? 'zstd');
  }

  /** Rows written so far. */
  get rows(): number {
    return this.shaper.rows + this.encodedRows;
  }

  /** Adds logical rows (the table's columns, in table order). */
  async write(batch: RecordBatch): Promise<void> {
    if (this.failure) throw this.failure.err;
    if (batch.numRows === 0) return;
    this.pending.push(this.shaper.add(batch));
    this.pendingRows += batch.numRows;
    if (this.pendingRows >= COALESCE_ROWS) await this.handOver();
  }

  /** Adds rows already shaped by a `FileRowShaper` (an Arrow IPC stream); pass its stats to `close`. */
  async writeEncoded(ipc: Uint8Array, rows: number): Promise<void> {
    if (this.failure) throw this.failure.err;
    if (rows === 0) return;
    await this.handOver();
    this.encodedRows += rows;
    await this.put({ ipc, rows });
  }

  /**
   * Finishes the file; its add, or undefined when no row was written. `stats` (JSON) must be
   * given when rows came through `writeEncoded`.
   */
  async close(stats?: string): Promise<AddAction | undefined> {
    if (this.failure) throw this.failure.err;
    await this.handOver();
    if (!this.upload) return undefined;
    if (this.session) this.session.close();
    else await this.slot.end();
    await this.upload;
    const failed = this.failure as { err: unknown } | undefined;
    if (failed) throw failed.err;
    return {
      path: encodeAddPath(this.key),
      partitionValues: this.options.partitionValues,
      size: this.bytes,
      modificationTime: (this.options.now ?? Date.now)(),
      dataChange: false,
      stats: stats ?? this.shaper.statsJson(),
    };
  }

  /** Stops: the encoder and the upload are cancelled (the object never appears or stays unreferenced). */
  async abort(): Promise<void> {
    this.fail(
      new WeirError('WRITER_ABORTED', `${this.options.table}: compaction into ${this.key} was aborted`),
    );
    this.session?.abort();
    await this.output?.cancel().catch(() => {});
    await this.upload?.catch(() => {});
  }

  private fail(err: unknown): void {
    this.failure ??= { err };
    this.slot.fail(err);
  }

  private async handOver(): Promise<void> {
    if (this.pendingRows === 0) return;
    const batch = this.pending.length === 1 ? this.pending[0]! : concatBatches(this.pending);
    this.pending = [];
    this.pendingRows = 0;
    await this.put({ batch });
  }

  private async put(chunk: Chunk): Promise<void> {
    if (!this.upload) await this.start(chunk);
    const session = this.session;
    if (!session) {
      await this.slot.put(chunk);
      return;
    }
    try {
      if ('batch' in chunk) await session.send(chunk.batch);
      else await session.sendIpc(chunk.ipc);
    } catch (err) {
      // A failed upload aborts the session, and a failed session fails the upload: either way
      // the upload's outcome is the error to report, not the abort.
      await this.upload?.catch(() => {});
      throw this.failure?.err ?? err;
    }
  }

  /** Starts the encoder and the upload (on the first batch: it sizes the row groups). */
  private async start(first: Chunk): Promise<void> {
    const perRow =
      'batch' in first
        ? Math.max(1, batchByteSize(first.batch) / Math.max(1, first.batch.numRows))
        : Math.max(1, first.ipc.byteLength / Math.max(1, first.rows));
    const target = this.options.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES;
    const rowGroupRows = Math.max(
      COALESCE_ROWS,
      Math.min(DEFAULT_MAX_ROW_GROUP_ROWS, Math.floor(target / perRow)),
    );
    const settings = encodeSettings(this.shaper.fileSchema, [], {
      compression: this.options.compression ?? 'zstd',
      maxRowGroupRows: rowGroupRows,
    });
    const { table } = this.options;
    const file = this.key;
    const session = await this.options.encodePool?.open({ table, file }, settings);
    if (session) {
      this.session = session;
      this.startUpload(session.output());
      return;
    }
    const pw = parquetModule();
    const props = writerProperties(pw, settings);
    const slot = this.slot;
    // highWaterMark 0: a batch crosses into WebAssembly only when the encoder asks for it.
    const input = new ReadableStream<unknown>(
      {
        async pull(controller) {
          const chunk = await slot.take();
          if (chunk === undefined) {
            controller.close();
            return;
          }
          const ipc = 'ipc' in chunk ? chunk.ipc : tableToIPC(new Table([chunk.batch]), 'stream');
          const wasmTable = pw.Table.fromIPCStream(ipc);
          try {
            for (const b of wasmTable.recordBatches()) controller.enqueue(b);
          } finally {
            wasmTable.free();
          }
        },
      },
      { highWaterMark: 0 },
    );
    const encoded = pw.transformParquetStream(input as ReadableStream, props);
    const self = this;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      const reader = ((await encoded) as ReadableStream<Uint8Array>).getReader();
      self.output = reader;
      for (;;) {
        const next = await reader.read();
        if (next.done) return;
        const wasm = parquetModule().wasmMemory().buffer;
        yield next.value.buffer === wasm ? next.value.slice() : next.value;
      }
    }
    this.startUpload(chunks());
  }

  /** The encoder's output, counted; after a failure or abort the object must not appear. */
  private async *counted(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      if (this.failure) throw this.failure.err;
      this.bytes += chunk.byteLength;
      yield chunk;
    }
    if (this.failure) throw this.failure.err;
  }

  private startUpload(chunks: AsyncIterable<Uint8Array>): void {
    const { table } = this.options;
    const file = this.key;
    // Either encoder hands over fresh chunks (copies out of WebAssembly memory), never reused.
    this.upload = this.store
      .put(this.key, this.counted(chunks), { chunksOwned: true })
      .catch((err: unknown) => {
        const wrapped =
          this.failure?.err ??
          new WeirError(
            'DATA_FILE_UPLOAD_FAILED',
            `${table}: cannot encode or upload data file ${file}: ${err instanceof Error ? err.message : String(err)}`,
            {
              cause: err,
              retryable: err instanceof WeirError ? err.retryable : false,
              details: { table, file },
            },
          );
        this.fail(wrapped);
        throw wrapped;
      });
    this.upload.catch(() => {});
  }
}
