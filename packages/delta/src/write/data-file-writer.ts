/**
 * DataFileWriter: turns a table's rows (Arrow batches) into Parquet data files on an ObjectStore
 * and returns their `add` actions, ready for a Transaction to commit. It never writes the log.
 *
 * Invariants:
 * - Each partition has one open buffer (its batches, Arrow byte estimate and a StatsCollector
 *   fed as batches arrive). A buffer becomes a file when its estimated Parquet size reaches the
 *   target (delta.targetFileSize, else 128 MiB); a batch that would overshoot is sliced (no copy)
 *   so files land near the target.
 * - Parquet size = buffered Arrow bytes x a compression ratio learned from the files written so
 *   far (files far below the target, cut by close() or memory pressure, are mostly fixed overhead
 *   and do not count). Before the first file the ratio is measured once by encoding (not
 *   uploading) the first buffer that reaches min(4 MiB, target); until then it is assumed to be 1
 *   (no compression), so an early file can only come out smaller than the target, never larger.
 *   `compressionRatio` seeds it (e.g. from a previous writer), skipping the measurement.
 * - Memory is bounded: after each batch, while the Arrow bytes buffered over all partitions
 *   exceed `maxBufferedBytes` (default 256 MiB), the largest buffer is flushed. So the buffered
 *   bytes never exceed the bound by more than one incoming batch.
 * - Encoding runs on worker threads where there is a core for them (`encodeWorkers`, default
 *   one fewer than the cores, at most 4; 0 = on the calling thread). A buffer starts streaming
 *   to an encode session (encode-pool.ts) once it holds ~64K rows or 16 MiB not yet sent: its
 *   batches are sent (coalesced, as the in-thread encoder would) and dropped, so the encoder
 *   works on the file while later batches are parsed and buffered. A file cut before that is
 *   encoded on a worker too (off this thread, beside the other files being finished) when it
 *   holds at least 1 MiB, else in-thread (the round trip would cost more than it saves). The
 *   first calibration runs on a worker too, off the calling thread. With more than one worker a
 *   file's row groups are encoded as parts on different workers and stitched into the one file
 *   (parted-encoding.ts), so even a single file uses every encoder. The bytes are the same
 *   either way (same writer properties, same batch grouping).
 * - Row groups hold about `rowGroupBytes` (default 64 MiB, 16 MiB when files are encoded in
 *   parts on several workers) of Arrow data, sized per file from its rows when its encoding
 *   starts.
 * - Uploads (`store.put`, which may go multipart) run while later batches buffer, at most
 *   `maxConcurrentUploads` (default 4) files being finished or uploaded at a time. A file
 *   encoded on a worker is uploaded as a stream of its row groups while the worker is still
 *   encoding the rest (`chunksOwned`: the store may keep the chunks as parts, uncopied); an
 *   encoder failure mid-stream aborts the upload and stays PARQUET_WRITE_FAILED. `close()`
 *   flushes every buffer, waits for every upload, and returns the adds in the order the files
 *   were cut.
 * - `add.path` is the URI-encoded relative path (data-file-path.ts); partition values are
 *   serialized per the protocol (partition-split.ts); stats JSON per stats.ts;
 *   modificationTime = `now()` when the upload completed.
 * - Calls are serialized internally; after the first failure every call rethrows that failure.
 *   `abort()` drops the buffers and waits for uploads to settle: files already uploaded stay
 *   unreferenced, for VACUUM to remove.
 */
import { type ObjectStore, type PutOptions, WeirError } from '@weir/storage';
import type { RecordBatch, Schema } from 'apache-arrow';
import type { AddAction, Configuration } from '../actions/types.js';
import { type ColumnMappingMode, columnMappingMode } from '../schema/column-mapping.js';
import type { StructType } from '../schema/types.js';
import { batchByteSize } from './arrow-size.js';
import { checkBatch } from './batch-checks.js';
import { dataFileName, encodeAddPath } from './data-file-path.js';
import { type EncodePool, encodeWorkerCount, sharedEncodePool } from './encode-pool.js';
import {
  COALESCE_BYTES,
  COALESCE_ROWS,
  coalesced,
  DEFAULT_ROW_GROUP_BYTES,
  dataFileSchema,
  type EncodeSettings,
  encodeSettings,
  encodeWithSettings,
  type ParquetCompression,
  type ParquetWriteOptions,
  toFileBatch,
} from './parquet-file.js';
import { PartedEncoding } from './parted-encoding.js';
import { PartitionSplitter } from './partition-split.js';
import { StatsCollector } from './stats.js';

export const DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024 * 1024;
export const TARGET_FILE_SIZE_KEY = 'delta.targetFileSize';
const CALIBRATION_BYTES = 4 * 1024 * 1024;
/** Arrow bytes from which a file is worth encoding on a worker even if it never streamed. */
const OFFLOAD_MIN_BYTES = 1024 * 1024;
const INITIAL_RATIO = 1;
/**
 * Row groups when a file's parts are encoded on several workers: smaller ones keep the workers
 * evenly loaded (a 1M-row write of the bench schema makes ~6 parts of ~170K rows instead of one
 * of 680K and one of 320K: 1.11-1.16 s instead of 1.26-1.49 s with 2 workers on 2 cores) at
 * about 2% more bytes. DuckDB writes row groups of 122,880 rows.
 */
const PARTED_ROW_GROUP_BYTES = 16 * 1024 * 1024;

export interface DataFileWriterOptions {
  /** The table's name or location, for errors. */
  table: string;
  /** The table's logical schema (partition columns included). */
  schema: StructType;
  partitionColumns: readonly string[];
  /** Table properties: stats columns, column mapping mode, delta.targetFileSize. */
  configuration: Configuration;
  /** Overrides the mode read from `configuration` (e.g. 'none' when the protocol lacks it). */
  columnMapping?: ColumnMappingMode;
  /** Bytes per data file to aim for (default delta.targetFileSize, else 128 MiB). */
  targetFileSize?: number;
  compression?: ParquetCompression;
  dataChange: boolean;
  /** Bound on Arrow bytes buffered across all partitions (default 256 MiB). */
  maxBufferedBytes?: number;
  maxConcurrentUploads?: number;
  maxRowGroupRows?: number;
  /**
   * Arrow bytes per row group to aim for (default 64 MiB; 16 MiB with more than one encode
   * worker), so that encoder memory stays about one row group and a file's upload starts with its
   * first row group.
   */
  rowGroupBytes?: number;
  /** Parquet bytes per Arrow byte to start from (e.g. a previous writer's `compressionRatio`). */
  compressionRatio?: number;
  /** Worker threads that encode Parquet (shared per process); 0 encodes on the calling thread. */
  encodeWorkers?: number;
  /** A pool of its own instead of the shared one (`encodeWorkers` is then ignored). */
  encodePool?: EncodePool;
  now?: () => number;
}

interface Buffer {
  directory: string;
  /** The data file's path relative to the table root (not yet URI-encoded). */
  file: string;
  partitionValues: Record<string, string | null>;
  /** Rows not yet sent to `session` (every row while there is none). */
  batches: RecordBatch[];
  unsentRows: number;
  unsentBytes: number;
  bytes: number;
  rows: number;
  stats: StatsCollector;
  session?: PartedEncoding;
}

function targetFromConfig(table: string, configuration: Configuration): number | undefined {
  const raw = configuration[TARGET_FILE_SIZE_KEY];
  if (raw === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(raw) && Number(raw) > 0) return Number(raw);
  throw new WeirError(
    'INVALID_TABLE_PROPERTY',
    `${table}: ${TARGET_FILE_SIZE_KEY} must be a positive number of bytes, not '${raw}'`,
    { details: { table, key: TARGET_FILE_SIZE_KEY, value: raw } },
  );
}

function positive(table: string, name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) {
    throw new WeirError('INVALID_ARGUMENT', `${table}: ${name} must be a positive number, not ${v}`, {
      details: { table, option: name, value: v },
    });
  }
  return v;
}

export class DataFileWriter {
  private readonly store: ObjectStore;
  private readonly options: DataFileWriterOptions;
  private readonly splitter: PartitionSplitter;
  private readonly fileSchema: Schema;
  private readonly mode: ColumnMappingMode;
  private readonly target: number;
  private readonly maxBuffered: number;
  private readonly maxUploads: number;
  private readonly buffers = new Map<string, Buffer>();
  private readonly adds: (AddAction | undefined)[] = [];
  private readonly uploads = new Set<Promise<void>>();
  private buffered = 0;
  private parquetWritten = 0;
  private arrowWritten = 0;
  private ratio: number;
  private calibrated: boolean;
  private calibration: Promise<void> | undefined;
  private pool: EncodePool | undefined;
  private readonly parquetOptions: ParquetWriteOptions;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  private state: 'open' | 'closed' | 'aborted' = 'open';

  constructor(store: ObjectStore, options: DataFileWriterOptions) {
    const { table } = options;
    this.store = store;
    this.options = options;
    this.mode = options.columnMapping ?? columnMappingMode(options.configuration);
    this.splitter = new PartitionSplitter({
      table,
      schema: options.schema,
      partitionColumns: options.partitionColumns,
      columnMapping: this.mode,
    });
    const parts = new Set(options.partitionColumns.map((c) => c.toLowerCase()));
    const dataSchema: StructType = {
      type: 'struct',
      fields: options.schema.fields.filter((f) => !parts.has(f.name.toLowerCase())),
    };
    this.fileSchema = dataFileSchema(dataSchema, this.mode);
    this.target = positive(
      table,
      'targetFileSize',
      options.targetFileSize,
      targetFromConfig(table, options.configuration) ?? DEFAULT_TARGET_FILE_SIZE,
    );
    this.maxBuffered = positive(
      table,
      'maxBufferedBytes',
      options.maxBufferedBytes,
      DEFAULT_MAX_BUFFERED_BYTES,
    );
    this.maxUploads = Math.floor(positive(table, 'maxConcurrentUploads', options.maxConcurrentUploads, 4));
    this.ratio = positive(table, 'compressionRatio', options.compressionRatio, INITIAL_RATIO);
    this.calibrated = options.compressionRatio !== undefined;
    const workers = encodeWorkerCount(table, options.encodeWorkers);
    this.pool = options.encodePool ?? sharedEncodePool(workers);
    this.parquetOptions = {
      ...(options.compression ? { compression: options.compression } : {}),
      ...(options.maxRowGroupRows ? { maxRowGroupRows: options.maxRowGroupRows } : {}),
      rowGroupBytes: positive(
        table,
        'rowGroupBytes',
        options.rowGroupBytes,
        this.pool && this.pool.size > 1 ? PARTED_ROW_GROUP_BYTES : DEFAULT_ROW_GROUP_BYTES,
      ),
    };
  }

  /** Arrow bytes buffered (not yet encoded) over all partitions. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Parquet bytes per Arrow byte as learned so far (pass it to the next writer). */
  get compressionRatio(): number {
    return this.ratio;
  }

  /** Adds rows (already conformed to the table's logical schema, partition columns included). */
  write(batch: RecordBatch): Promise<void> {
    return this.serialize(() => this.doWrite(batch));
  }

  /** Flushes everything, waits for the uploads, and returns one add per data file written. */
  close(): Promise<AddAction[]> {
    return this.serialize(async () => {
      for (const buffer of [...this.buffers.values()]) await this.flush(buffer);
      await this.drain();
      this.state = 'closed';
      return this.adds.filter((a): a is AddAction => a !== undefined);
    });
  }

  /** Drops what is buffered and waits for started uploads to settle (their files stay orphaned). */
  async abort(): Promise<void> {
    this.state = 'aborted';
    await this.queue.catch(() => {});
    for (const b of this.buffers.values()) b.session?.abort();
    this.buffers.clear();
    this.buffered = 0;
    await Promise.allSettled([...this.uploads]);
    await this.calibration;
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.failure !== undefined) throw this.failure;
      if (this.state !== 'open') {
        throw new WeirError('WRITER_CLOSED', `${this.options.table}: the data file writer is ${this.state}`, {
          details: { table: this.options.table },
        });
      }
      return op();
    });
    this.queue = run.catch((err: unknown) => {
      if (this.failure === undefined && this.state === 'open') this.failure = err;
    });
    return run;
  }

  private async doWrite(batch: RecordBatch): Promise<void> {
    if (batch.numRows === 0) return;
    checkBatch(batch, this.options.schema, this.options.table);
    for (const group of this.splitter.split(batch)) {
      await this.append(group.directory, group.partitionValues, group.batch);
    }
    while (this.buffered > this.maxBuffered && this.buffers.size > 0) {
      let largest: Buffer | undefined;
      for (const b of this.buffers.values()) if (!largest || b.bytes > largest.bytes) largest = b;
      await this.flush(largest!);
    }
  }

  /** The open buffer of a partition, created when there is none. */
  private bufferFor(directory: string, partitionValues: Record<string, string | null>): Buffer {
    let buffer = this.buffers.get(directory);
    if (buffer === undefined) {
      const { schema, partitionColumns, configuration } = this.options;
      const stats = new StatsCollector({ schema, partitionColumns, configuration, columnMapping: this.mode });
      const file = directory + dataFileName(this.options.compression ?? 'zstd');
      buffer = {
        directory,
        file,
        partitionValues,
        batches: [],
        unsentRows: 0,
        unsentBytes: 0,
        bytes: 0,
        rows: 0,
        stats,
      };
      this.buffers.set(directory, buffer);
    }
    return buffer;
  }

  /** Adds a partition's rows to its buffer, cutting files whenever the estimate reaches the target. */
  private async append(
    directory: string,
    partitionValues: Record<string, string | null>,
    batch: RecordBatch,
  ): Promise<void> {
    let rest = batch;
    while (rest.numRows > 0) {
      const buffer = this.bufferFor(directory, partitionValues);
      const bytes = batchByteSize(rest);
      const room = this.target / this.ratio - buffer.bytes;
      let take = rest.numRows;
      if (bytes > room && rest.numRows > 1) {
        take = Math.max(1, Math.min(rest.numRows, Math.floor((room / bytes) * rest.numRows)));
      }
      const whole = take === rest.numRows;
      const part = whole ? rest : rest.slice(0, take);
      const partBytes = whole ? bytes : batchByteSize(part);
      rest = whole ? rest.slice(0, 0) : rest.slice(take);
      buffer.batches.push(part);
      buffer.unsentRows += part.numRows;
      buffer.unsentBytes += partBytes;
      buffer.bytes += partBytes;
      buffer.rows += part.numRows;
      buffer.stats.add(part);
      this.buffered += partBytes;
      if (!this.calibrated && buffer.bytes >= Math.min(CALIBRATION_BYTES, this.target))
        await this.calibrate(buffer);
      if (buffer.bytes * this.ratio >= this.target) await this.flush(buffer);
      else if (this.pool && (buffer.unsentRows >= COALESCE_ROWS || buffer.unsentBytes >= COALESCE_BYTES))
        await this.stream(buffer);
    }
  }

  /**
   * Measures the compression ratio on (about CALIBRATION_BYTES of) a buffer: encoded, not
   * uploaded. With workers it runs there, and the ratio is learned when it is done.
   */
  private async calibrate(buffer: Buffer): Promise<void> {
    this.calibrated = true;
    let batches = buffer.batches;
    let arrowBytes = buffer.bytes;
    if (this.pool && buffer.unsentBytes > CALIBRATION_BYTES && buffer.unsentRows > 1) {
      const first = [...coalesced(buffer.batches)][0]!;
      const rows = Math.ceil((first.numRows * CALIBRATION_BYTES) / batchByteSize(first));
      const sample = first.slice(0, Math.max(1, Math.min(first.numRows, rows)));
      batches = [sample];
      arrowBytes = batchByteSize(sample);
    }
    const context = { table: this.options.table, file: 'calibration' };
    const fileBatches = batches.map((b) => toFileBatch(b, this.fileSchema));
    const settings = this.settingsFor(batches);
    if (this.pool) {
      this.calibration = this.pool
        .encode(fileBatches, context, settings)
        .then((bytes) => {
          if (bytes) this.learn(bytes.byteLength, arrowBytes);
        })
        .catch(() => {
          // A failed measurement only leaves the ratio as it is; the files themselves report errors.
        });
      return;
    }
    const bytes = await encodeWithSettings(fileBatches, context, settings);
    this.learn(bytes.byteLength, arrowBytes);
  }

  /**
   * Whether a buffer that never streamed is encoded on a worker when it is flushed: when it is
   * big enough for the round trip to pay (the many mid-size files of a partitioned write, cut
   * together at close, then encode beside each other and beside this thread).
   */
  private offloads(buffer: Buffer): boolean {
    return this.pool !== undefined && buffer.session === undefined && buffer.bytes >= OFFLOAD_MIN_BYTES;
  }

  /** Sends a buffer's unsent rows to its encode session (opened on first use). */
  private async stream(buffer: Buffer): Promise<void> {
    if (!buffer.session) {
      const session = await PartedEncoding.open(
        this.pool!,
        { table: this.options.table, file: buffer.file },
        this.settingsFor(buffer.batches),
      );
      if (!session) {
        // No worker can run here: encode in-thread from now on.
        this.pool = undefined;
        return;
      }
      buffer.session = session;
    }
    const batches = buffer.batches;
    buffer.batches = [];
    buffer.unsentRows = 0;
    buffer.unsentBytes = 0;
    for (const b of coalesced(batches)) await buffer.session.send(toFileBatch(b, this.fileSchema));
  }

  private learn(parquetBytes: number, arrowBytes: number): void {
    this.parquetWritten += parquetBytes;
    this.arrowWritten += arrowBytes;
    this.ratio = Math.max(this.parquetWritten / this.arrowWritten, 1e-6);
  }

  /** Writer settings for a file whose rows look like `batches` (row groups sized from them). */
  private settingsFor(batches: readonly RecordBatch[]): EncodeSettings {
    return encodeSettings(this.fileSchema, batches, this.parquetOptions);
  }

  /**
   * The file's bytes: encoded here (whole), or the output of its encode session (the rest of its
   * rows sent, then a chunk per row group as the worker finishes it).
   */
  private async encodeFile(buffer: Buffer): Promise<Uint8Array | AsyncIterable<Uint8Array>> {
    const context = { table: this.options.table, file: buffer.file };
    let session = buffer.session;
    const batches = buffer.batches;
    if (!session && this.offloads(buffer)) {
      session = await PartedEncoding.open(this.pool!, context, this.settingsFor(batches));
      if (!session) this.pool = undefined; // no worker can run here
    }
    if (!session) {
      const settings = this.settingsFor(batches);
      return encodeWithSettings(
        batches.map((b) => toFileBatch(b, this.fileSchema)),
        context,
        settings,
      );
    }
    buffer.batches = [];
    try {
      for (const b of coalesced(batches)) await session.send(toFileBatch(b, this.fileSchema));
    } catch (err) {
      session.abort();
      throw err;
    }
    session.close();
    return session.output();
  }

  /** Encodes a buffer into a file, starts its upload, and empties the buffer. */
  private async flush(buffer: Buffer): Promise<void> {
    this.buffers.delete(buffer.directory);
    this.buffered -= buffer.bytes;
    if (buffer.rows === 0) {
      buffer.session?.abort();
      return;
    }
    const relative = buffer.file;
    // A file far below the target (a forced flush) is mostly fixed Parquet overhead: it would
    // inflate the ratio, so it only teaches the ratio when nothing better is known.
    const teaches = !this.calibrated || buffer.bytes * this.ratio >= this.target / 8;
    this.calibrated = true;
    // In-thread encoding happens now; a worker finishes the file while this thread goes on.
    const encoded =
      buffer.session || this.offloads(buffer)
        ? this.encodeFile(buffer)
        : Promise.resolve(await this.encodeFile(buffer));
    const slot = this.adds.length;
    this.adds.push(undefined);
    const stats = buffer.stats.toJson();
    const upload = encoded.then(async (data) => {
      const size = await this.upload(relative, data, (bytes) => {
        if (teaches) this.learn(bytes, buffer.bytes);
      });
      this.adds[slot] = {
        path: encodeAddPath(relative),
        partitionValues: buffer.partitionValues,
        size,
        modificationTime: (this.options.now ?? Date.now)(),
        dataChange: this.options.dataChange,
        stats,
      };
    });
    const tracked = upload.finally(() => this.uploads.delete(tracked));
    this.uploads.add(tracked);
    // A failed upload fails the writer at once (the next call rethrows it); drain() reports it too.
    tracked.catch((err: unknown) => {
      if (this.failure === undefined && this.state === 'open') this.failure = err;
    });
    while (this.uploads.size >= this.maxUploads) await Promise.race(this.uploads);
  }

  /**
   * Stores one data file and returns its size. A streamed file goes up as the encoder produces
   * it; `encoded` learns the size once the last byte is out. An encoding failure mid-stream stays
   * PARQUET_WRITE_FAILED (the store aborts the upload), anything else is the upload's failure.
   */
  private async upload(
    key: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    encoded: (bytes: number) => void,
  ): Promise<number> {
    let size = 0;
    let encodeFailure: unknown;
    let body: Uint8Array | AsyncIterable<Uint8Array>;
    let options: PutOptions;
    if (data instanceof Uint8Array) {
      size = data.byteLength;
      encoded(size);
      body = data;
      options = { contentLength: size };
    } else {
      body = (async function* () {
        try {
          for await (const chunk of data) {
            size += chunk.byteLength;
            yield chunk;
          }
        } catch (err) {
          encodeFailure = err;
          throw err;
        }
        encoded(size);
      })();
      // Streamed chunks come fresh from the encoder (transferred, never reused): no copies needed.
      options = { chunksOwned: true };
    }
    try {
      await this.store.put(key, body, options);
      return size;
    } catch (err) {
      if (encodeFailure !== undefined) throw encodeFailure;
      const { table } = this.options;
      throw new WeirError(
        'DATA_FILE_UPLOAD_FAILED',
        `${table}: cannot upload data file ${key}: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
          retryable: err instanceof WeirError ? err.retryable : false,
          details: { table, file: key },
        },
      );
    }
  }

  private async drain(): Promise<void> {
    await this.calibration;
    const results = await Promise.allSettled([...this.uploads]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** Writes all batches through one DataFileWriter and returns the adds (aborts on failure). */
export async function writeDataFiles(
  store: ObjectStore,
  batches: Iterable<RecordBatch> | AsyncIterable<RecordBatch>,
  options: DataFileWriterOptions,
): Promise<AddAction[]> {
  const writer = new DataFileWriter(store, options);
  try {
    for await (const batch of batches) await writer.write(batch);
    return await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
