/**
 * `write` — write throughput into a Delta table (rows/s, MB/s of input NDJSON) versus DuckDB
 * writing the same NDJSON to ZSTD Parquet with 2 threads, in the same process and run.
 * ratio.ndjson = Weir NDJSON->table rows/s / DuckDB rows/s (target: >= 0.5); ratio.arrow = Weir
 * Arrow->table rows/s / DuckDB rows/s; see `ratio` below for the rest.
 *
 * Data: 1M rows (quick: 200k) of the fraud-transaction-like schema of `scan` (id, user_id,
 * amount decimal(12,2), currency, country, merchant, category, card_present, event_time
 * timestamp, lat, lon; ~5% null coordinates), generated deterministically (hash of the row
 * index) as NDJSON into a temp file: numbers as JSON numbers, event_time as ISO-8601 text with
 * microseconds and 'Z'. Removed afterwards.
 *
 * Weir, each run into a fresh table directory (LocalStore, ZSTD, default 128 MiB file target):
 * - `ndjson`: what `weir write` does: stream the file (1 MiB reads), split it into line byte
 *   ranges (`NdjsonLines`), decode each straight into a `RecordBatchBuilder` (`tryAppendJson`;
 *   JSON.parse + append for a line it refuses — none here), flush every 65,536 rows, and feed
 *   the batches (an async generator) to `writeTable` with its defaults: parsing, building and
 *   stats on the main thread, Parquet encoding streamed to the library's encode worker(s)
 *   (`defaultEncodeWorkers()`: cores - 1, at most 4). `ndjsonInThread`: the same with `encodeWorkers: 0` (all on the main thread).
 * - `ndjsonPartitioned`: as `ndjson`, `partitionBy: ['country']` (30 partitions).
 * - `ndjsonWorkers`: a prototype of parsing in worker threads too, with the public API only:
 *   WORKERS worker threads (this module loaded again, started and warmed up beforehand) each
 *   parse a line-aligned part of the file and write its data files with `writeDataFiles`
 *   (DataFileWriter, encoding in that thread); the main thread creates the table and commits
 *   every add in one `Transaction` (2 commits, both timed). The pool is warmed up by one untimed
 *   run over the first quarter of the file instead of a full warm-up run.
 * - `arrow` / `arrowInThread` / `arrowPartitioned`: the same batches built beforehand (untimed);
 *   only `writeTable` (default encode workers / `encodeWorkers: 0` / partitioned).
 *   `arrowTwoEncoders`: `encodeWorkers: 2`, so the one file's row groups are encoded as parts
 *   on both workers at once and stitched (parted-encoding.ts).
 * Each is the median of RUNS timed runs after 1 warm-up (quick: variants whose code an earlier
 * variant warmed up skip it). Besides wall time, each run's process CPU time is measured (all
 * threads: main, workers, libuv, DuckDB's); on a shared, loaded machine the CPU-time ratios are
 * the steadier ones, but only wall time shows what DuckDB's second thread buys.
 * An instrumented pass (internal modules, one file, unpartitioned) splits the NDJSON path into
 * read, decode (split + JSON -> columns), conform, stats, Arrow IPC hand-off, Parquet encode
 * (parquet-wasm), upload (fsync'd put) and commit, and encodes the same file with the Parquet
 * dictionary limited to string columns or off (`encodeAlternatives`). `floor`: the CPU of
 * V8's JSON.parse over every line and of one pass over every byte, beside the cheapest encode;
 * `ratio.ndjsonCeiling*` = DuckDB's time / ((that parse + that encode) / 2 threads), what any
 * NDJSON write through parquet-wasm could reach if nothing else cost anything.
 *
 * DuckDB reference: `SET threads=2; COPY (SELECT * FROM read_json(file, columns={explicit
 * types})) TO out.parquet (FORMAT parquet, COMPRESSION zstd)`, and the partitioned analogue
 * (`PARTITION_BY (country)`). DuckDB writes plain Parquet: no Delta log, no per-file stats
 * JSON, and it fsyncs nothing; Weir's LocalStore fsyncs every data file and commit.
 *
 * Invariants: every run's row count is checked; after the runs, a Weir table and DuckDB's file
 * are read back by DuckDB and compared (count, sum(amount), count of non-null lat, distinct
 * countries), so both sides wrote the same data.
 */
import { closeSync, createReadStream, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  type AddAction,
  conformForWrite,
  createTable,
  defaultEncodeWorkers,
  loadSnapshot,
  NdjsonLines,
  RecordBatchBuilder,
  type StructField,
  type StructType,
  Transaction,
  writeDataFiles,
  writeTable,
} from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { type RecordBatch, Table, Type, tableToIPC } from 'apache-arrow';
// Not exported from the package entry point: the steps writeTable runs, for the split pass.
import { parquetModule } from '../packages/delta/src/parquet/wasm.js';
import { dataFileSchema, encodeParquet, toFileBatch } from '../packages/delta/src/write/parquet-file.js';
import { StatsCollector } from '../packages/delta/src/write/stats.js';
import { makeTempDir, removeDir, sqlString } from './lib/fixtures.js';
import {
  type Bench,
  type BenchContext,
  type BenchResult,
  type JsonLike,
  type JsonObject,
  round,
} from './lib/result.js';
import { median, PeakRssSampler, processMaxRssBytes, repeatMedian, startTimer } from './lib/timing.js';

const FULL = { rows: 1_000_000 };
const QUICK = { rows: 200_000 };
const BATCH_ROWS = 65_536;
const READ_CHUNK = 1 << 20;
const RUNS = 3;
const WARMUP = 1;
const DUCKDB_THREADS = 2;
/** Worker threads of the parallel prototype: as many as DuckDB gets. */
const WORKERS = DUCKDB_THREADS;
const TARGET_RATIO = 0.5;
/** The encode workers writeTable uses by default on this machine. */
const ENCODE_WORKERS = defaultEncodeWorkers();

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'BRL', 'INR', 'CNY'];
const COUNTRIES =
  'US GB DE FR ES IT NL SE PL BR MX CA AU JP KR IN CN SG ZA NG AE TR AR CL CO ID TH VN PH EG'.split(' ');
const CATEGORIES = (
  'grocery fuel travel electronics restaurants apparel health gaming utilities ' +
  'entertainment jewelry gift_cards crypto education home'
).split(' ');

const field = (name: string, type: StructField['type']): StructField => ({
  name,
  type,
  nullable: true,
  metadata: {},
});

export const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('id', { type: 'long' }),
    field('user_id', { type: 'long' }),
    field('amount', { type: 'decimal', precision: 12, scale: 2 }),
    field('currency', { type: 'string' }),
    field('country', { type: 'string' }),
    field('merchant', { type: 'string' }),
    field('category', { type: 'string' }),
    field('card_present', { type: 'boolean' }),
    field('event_time', { type: 'timestamp' }),
    field('lat', { type: 'double' }),
    field('lon', { type: 'double' }),
  ],
};

/** DuckDB's types for the same columns (read_json's `columns`). */
const DUCKDB_COLUMNS: Readonly<Record<string, string>> = {
  id: 'BIGINT',
  user_id: 'BIGINT',
  amount: 'DECIMAL(12,2)',
  currency: 'VARCHAR',
  country: 'VARCHAR',
  merchant: 'VARCHAR',
  category: 'VARCHAR',
  card_present: 'BOOLEAN',
  event_time: 'TIMESTAMPTZ',
  lat: 'DOUBLE',
  lon: 'DOUBLE',
};

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

/** A 32-bit hash of (i, seed): deterministic, well mixed (murmur3's finalizer). */
function hash(i: number, seed: number): number {
  let h = Math.imul(i ^ Math.imul(seed, 0x9e3779b1), 0x85ebca6b) ^ (i / 4294967296);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const EPOCH_2024_MS = Date.UTC(2024, 0, 1);

function ndjsonLine(i: number): string {
  const cents = hash(i, 2) % 2_000_000;
  const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  const micros = i * 10_000 + (hash(i, 8) % 10_000);
  const iso = new Date(EPOCH_2024_MS + Math.floor(micros / 1000)).toISOString();
  const eventTime = `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}Z`;
  const noCoords = hash(i, 9) % 20 === 0;
  const lat = noCoords ? 'null' : String(((hash(i, 10) % 18_000_000) - 9_000_000) / 100_000);
  const lon = noCoords ? 'null' : String(((hash(i, 11) % 36_000_000) - 18_000_000) / 100_000);
  return (
    `{"id":${i},"user_id":${hash(i, 1) % 1_000_000},"amount":${amount},` +
    `"currency":"${CURRENCIES[hash(i, 3) % CURRENCIES.length]}",` +
    `"country":"${COUNTRIES[hash(i, 4) % COUNTRIES.length]}",` +
    `"merchant":"merchant_${hash(i, 5) % 50_000}",` +
    `"category":"${CATEGORIES[hash(i, 6) % CATEGORIES.length]}",` +
    `"card_present":${hash(i, 7) % 3 === 0},"event_time":"${eventTime}","lat":${lat},"lon":${lon}}\n`
  );
}

/** Writes `rows` NDJSON lines to `file`; returns its size in bytes. */
export function writeNdjson(file: string, rows: number): number {
  const fd = openSync(file, 'w');
  let bytes = 0;
  try {
    let chunk: string[] = [];
    for (let i = 0; i < rows; i++) {
      chunk.push(ndjsonLine(i));
      if (chunk.length === 10_000 || i === rows - 1) {
        const buf = Buffer.from(chunk.join(''), 'utf8');
        writeSync(fd, buf);
        bytes += buf.byteLength;
        chunk = [];
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** Bytes [start, end) of a file. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A file's bytes (or a byte range of it), streamed in READ_CHUNK reads. */
export function fileChunks(file: string, range?: ByteRange): AsyncIterable<Buffer> {
  if (range && range.end <= range.start) return (async function* () {})();
  const options = range ? { start: range.start, end: range.end - 1 } : {};
  return createReadStream(file, { highWaterMark: READ_CHUNK, ...options });
}

/** One NDJSON line into the builder: the JSON fast path, else JSON.parse + append. */
function appendLine(builder: RecordBatchBuilder, bytes: Buffer, start: number, end: number): void {
  if (!builder.tryAppendJson(bytes, start, end))
    builder.append(JSON.parse(bytes.toString('utf8', start, end)));
}

/**
 * The NDJSON path as `weir write` runs it: file chunks -> NdjsonLines (byte ranges of lines) ->
 * RecordBatchBuilder.tryAppendJson (JSON.parse + append for what it refuses) -> batches of
 * BATCH_ROWS rows. A range must start at a line start and end after a newline. `onBatch` runs
 * per batch (RSS sampling).
 */
export async function* ndjsonBatches(
  file: string,
  onBatch?: () => void,
  range?: ByteRange,
): AsyncGenerator<RecordBatch> {
  const builder = new RecordBatchBuilder(SCHEMA, { table: 'bench-write' });
  const lines = new NdjsonLines();
  const visit = (bytes: Buffer, start: number, end: number) => appendLine(builder, bytes, start, end);
  for await (const chunk of fileChunks(file, range)) {
    lines.push(chunk, visit);
    while (builder.numRows >= BATCH_ROWS) {
      onBatch?.();
      yield builder.flush();
    }
  }
  lines.end(visit);
  if (builder.numRows > 0) yield builder.flush();
}

async function collectBatches(file: string): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of ndjsonBatches(file)) out.push(b);
  return out;
}

function arrowBytes(batches: readonly RecordBatch[]): number {
  let n = 0;
  for (const b of batches) for (const c of b.data.children) n += c.byteLength;
  return n;
}

/**
 * What parsing the input costs at the least in this runtime, on one thread (CPU ms, median of
 * RUNS over the whole file read into memory): V8's JSON.parse of every line (objects built and
 * dropped), and a loop that reads every byte once. With the cheapest Parquet encode of the
 * same rows (`split.encodeAlternatives`, parquet-wasm alone) they bound what any NDJSON write
 * through parquet-wasm can reach here.
 */
interface ParseFloor {
  method: string;
  jsonParseCpuMs: number;
  byteScanCpuMs: number;
  encodeCpuMs: number;
}

function parseFloor(file: string, split: JsonObject): ParseFloor {
  const bytes = readFileSync(file);
  // `fn` returns what it computed, kept in `sink`, so that no loop is optimized away.
  let sink = 0;
  const cpuOf = (fn: () => number): number => {
    const samples: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const start = cpuNowMs();
      sink += fn();
      samples.push(cpuNowMs() - start);
    }
    return median(samples);
  };
  const jsonParseCpuMs = cpuOf(() => {
    let ids = 0;
    for (let p = 0; p < bytes.length; ) {
      const end = bytes.indexOf(0x0a, p);
      const stop = end < 0 ? bytes.length : end;
      ids += (JSON.parse(bytes.toString('latin1', p, stop)) as { id: number }).id;
      p = stop + 1;
    }
    return ids;
  });
  const byteScanCpuMs = cpuOf(() => {
    let quotes = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x22) quotes++;
    return quotes;
  });
  const alternatives = split.encodeAlternatives as Record<string, JsonLike>;
  const encodeCpuMs = Math.min(
    ...Object.values(alternatives)
      .filter((v): v is JsonObject => typeof v === 'object' && v !== null && 'cpuMs' in v)
      .map((v) => v.cpuMs as number),
  );
  if (!Number.isFinite(sink)) throw new Error('write: the parse floor computed nothing');
  return {
    method:
      'one thread, file in memory: JSON.parse of each line (latin1 text; values dropped), a loop reading each byte once, and the cheapest pw.writeParquet of encodeAlternatives',
    jsonParseCpuMs: round(jsonParseCpuMs, 1),
    byteScanCpuMs: round(byteScanCpuMs, 1),
    encodeCpuMs: round(encodeCpuMs, 1),
  };
}

// ---------------------------------------------------------------------------------------------
// Weir
// ---------------------------------------------------------------------------------------------

interface WeirRun {
  rows: number;
  files: number;
  bytes: number;
  minFileBytes: number;
  maxFileBytes: number;
  version: number;
}

function summarizeAdds(rows: number, adds: readonly AddAction[], version: number): WeirRun {
  const sizes = adds.map((a) => a.size);
  return {
    rows,
    files: adds.length,
    bytes: sizes.reduce((a, b) => a + b, 0),
    minFileBytes: Math.min(...sizes),
    maxFileBytes: Math.max(...sizes),
    version,
  };
}

/** Fresh table directories (`table-<n>`) under a base dir; `removeAll` drops the ones made so far. */
class TableDirs {
  private n = 0;
  private made: string[] = [];
  constructor(private readonly base: string) {}
  next(): string {
    const dir = path.join(this.base, `table-${this.n++}`);
    this.made.push(dir);
    return dir;
  }
  async removeAll(): Promise<void> {
    for (const d of this.made.splice(0)) await removeDir(d);
  }
}

async function weirWrite(
  dir: string,
  input: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  partitionBy: readonly string[],
  encodeWorkers?: number,
): Promise<WeirRun> {
  const store = new LocalStore(dir);
  const result = await writeTable(store, input, {
    compression: 'zstd',
    ...(partitionBy.length > 0 ? { partitionBy } : {}),
    ...(encodeWorkers !== undefined ? { encodeWorkers } : {}),
  });
  return summarizeAdds(result.rows, result.files, result.version);
}

// ---------------------------------------------------------------------------------------------
// Prototype: the NDJSON path in worker threads, with the public API only
// ---------------------------------------------------------------------------------------------

/** Set in `workerData` of the bench's own worker threads (this module, loaded again). */
const WORKER_FLAG = 'weirBenchWriteWorker';

interface WorkerTask {
  id: number;
  file: string;
  range: ByteRange;
  dir: string;
  partitionBy: string[];
}

type WorkerReply =
  | { id: number; ok: true; adds: AddAction[]; rows: number }
  | { id: number; ok: false; error: string };

/** In a worker: parse a line-aligned byte range of the file and write its data files (no commit). */
async function workerTask(task: WorkerTask): Promise<WorkerReply> {
  try {
    const store = new LocalStore(task.dir);
    let rows = 0;
    async function* counted(): AsyncGenerator<RecordBatch> {
      for await (const b of ndjsonBatches(task.file, undefined, task.range)) {
        rows += b.numRows;
        yield b;
      }
    }
    const adds = await writeDataFiles(store, counted(), {
      table: store.root,
      schema: SCHEMA,
      partitionColumns: task.partitionBy,
      configuration: {},
      dataChange: true,
      compression: 'zstd',
      // Each of these threads encodes its own files: no nested encode pool.
      encodeWorkers: 0,
    });
    return { id: task.id, ok: true, adds, rows };
  } catch (err) {
    return { id: task.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
}

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[WORKER_FLAG] === true) {
  const port = parentPort!;
  port.on('message', (task: WorkerTask) => {
    void workerTask(task).then((reply) => port.postMessage(reply));
  });
  port.postMessage({ ready: true });
}

/** Worker threads running this module; each takes one task at a time. */
class WriterPool {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on('message', (m: WorkerReply | { ready: true }) => {
        if ('id' in m) {
          this.pending.get(m.id)?.(m);
          this.pending.delete(m.id);
        }
      });
    }
  }

  /** Starts `size` workers and waits until each has loaded the module. */
  static async start(size: number): Promise<WriterPool> {
    const url = import.meta.url;
    // Under tsx (how the runner loads benches) a worker needs the TypeScript loader registered.
    const code = url.endsWith('.ts')
      ? `(async () => { (await import('tsx/esm/api')).register(); await import(${JSON.stringify(url)}); })();`
      : `import(${JSON.stringify(url)});`;
    const workers = Array.from(
      { length: size },
      () => new Worker(code, { eval: true, workerData: { [WORKER_FLAG]: true } }),
    );
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
          }),
      ),
    );
    return new WriterPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  run(worker: number, task: Omit<WorkerTask, 'id'>): Promise<{ adds: AddAction[]; rows: number }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => {
        if (reply.ok) resolve({ adds: reply.adds, rows: reply.rows });
        else reject(new Error(`write: worker ${worker} failed: ${reply.error}`));
      });
      this.workers[worker]!.postMessage({ ...task, id });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** `parts` line-aligned byte ranges covering the file's first `limit` bytes (rounded up to a line end). */
function splitFile(file: string, size: number, parts: number, limit = size): ByteRange[] {
  const cuts = [0];
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 16);
    for (let k = 1; k <= parts; k++) {
      const pos = Math.max(cuts.at(-1)!, Math.floor((k * Math.min(limit, size)) / parts));
      if (pos >= size) {
        cuts.push(size);
        continue;
      }
      const n = readSync(fd, buf, 0, buf.length, pos);
      const nl = buf.subarray(0, n).indexOf(10);
      cuts.push(nl < 0 ? size : pos + nl + 1);
    }
  } finally {
    closeSync(fd);
  }
  return cuts.slice(1).map((end, i) => ({ start: cuts[i]!, end }));
}

/**
 * The NDJSON path spread over the pool: each worker parses a part of the file and writes its own
 * data files (DataFileWriter via writeDataFiles); the main thread creates the table and commits
 * every worker's adds in one Transaction.
 */
async function weirParallelWrite(
  pool: WriterPool,
  file: string,
  fileBytes: number,
  dir: string,
  partitionBy: string[],
  limit = fileBytes,
): Promise<WeirRun> {
  const store = new LocalStore(dir);
  await createTable(store, { schema: SCHEMA, partitionColumns: partitionBy });
  const snapshot = await loadSnapshot(store);
  const ranges = splitFile(file, fileBytes, pool.size, limit);
  const parts = await Promise.all(ranges.map((range, i) => pool.run(i, { file, range, dir, partitionBy })));
  const adds = parts.flatMap((p) => p.adds);
  const result = await new Transaction(store, snapshot, {
    operation: 'WRITE',
    operationParameters: { mode: 'Append', partitionBy: JSON.stringify(partitionBy) },
  })
    .addFiles(adds)
    .commit();
  return summarizeAdds(
    parts.reduce((a, p) => a + p.rows, 0),
    adds,
    result.version,
  );
}

/**
 * One instrumented, unpipelined pass of the NDJSON path doing what writeTable does, step by
 * step: every step's time is summed over the input. One data file, unpartitioned (what
 * writeTable produces at this size: the default 128 MiB target holds all rows).
 */
async function weirSplit(dir: string, file: string) {
  const t = { read: 0, decode: 0, conform: 0, stats: 0, ipc: 0, encode: 0, upload: 0, commit: 0 };
  const builder = new RecordBatchBuilder(SCHEMA, { table: 'bench-write' });
  const batches: RecordBatch[] = [];
  let timer = startTimer();
  const lines = new NdjsonLines();
  const visit = (bytes: Buffer, start: number, end: number) => appendLine(builder, bytes, start, end);
  for await (const chunk of fileChunks(file)) {
    t.read += timer.elapsedMs();
    timer = startTimer();
    lines.push(chunk, visit);
    if (builder.numRows >= BATCH_ROWS) batches.push(builder.flush());
    t.decode += timer.elapsedMs();
    timer = startTimer();
  }
  t.read += timer.elapsedMs();
  timer = startTimer();
  lines.end(visit);
  if (builder.numRows > 0) batches.push(builder.flush());
  t.decode += timer.elapsedMs();

  const store = new LocalStore(dir);
  timer = startTimer();
  await createTable(store, { schema: SCHEMA });
  const snapshot = await loadSnapshot(store);
  const createMs = timer.elapsedMs();

  timer = startTimer();
  const shaped = batches.map((b) => conformForWrite(b, snapshot.schema, 'bench-write'));
  t.conform += timer.elapsedMs();

  timer = startTimer();
  const stats = new StatsCollector({ schema: snapshot.schema, partitionColumns: [], configuration: {} });
  for (const b of shaped) stats.add(b);
  const statsJson = stats.toJson();
  t.stats += timer.elapsedMs();

  const fileSchema = dataFileSchema(snapshot.schema, 'none');
  const fileBatches = shaped.map((b) => toFileBatch(b, fileSchema));
  // The Arrow IPC serialization encodeParquet does per batch before handing it to wasm; timed
  // alone here (and included again inside `encode`, which is the whole encodeParquet call).
  timer = startTimer();
  for (const b of fileBatches) tableToIPC(new Table([b]), 'stream');
  t.ipc += timer.elapsedMs();

  timer = startTimer();
  const bytes = await encodeParquet(
    fileBatches,
    { table: 'bench-write', file: 'split' },
    { compression: 'zstd' },
  );
  t.encode += timer.elapsedMs();

  const key = `part-00000-split.zstd.parquet`;
  timer = startTimer();
  await store.put(key, bytes, { contentLength: bytes.byteLength });
  t.upload += timer.elapsedMs();

  timer = startTimer();
  const rows = shaped.reduce((a, b) => a + b.numRows, 0);
  await new Transaction(store, snapshot, { operation: 'WRITE' })
    .addFiles([
      {
        path: key,
        partitionValues: {},
        size: bytes.byteLength,
        modificationTime: Date.now(),
        dataChange: true,
        stats: statsJson,
      },
    ])
    .commit();
  t.commit += timer.elapsedMs();

  const encodeAlternatives = encodeVariants(fileBatches);

  const total = Object.values(t).reduce((a, b) => a + b, 0) - t.ipc;
  const ms: Record<string, number> = {};
  const share: Record<string, number> = {};
  for (const [k, v] of Object.entries(t)) {
    ms[`${k}Ms`] = round(v, 1);
    share[k] = round(v / total);
  }
  return {
    ...ms,
    totalMs: round(total, 1),
    share,
    note: 'ipc is part of encode (encodeParquet serializes each batch to Arrow IPC for parquet-wasm); total excludes it',
    createTableMs: round(createMs, 1),
    rows,
    parquetBytes: bytes.byteLength,
    encodeAlternatives,
  };
}

/**
 * The same file's batches encoded in one `writeParquet` call with Weir's settings (format v1,
 * zstd, page statistics, dictionary on for every column) and with the dictionary limited to
 * the string columns or off: wall and CPU ms and bytes of each, for the proposals.
 */
function encodeVariants(batches: readonly RecordBatch[]): JsonObject {
  const pw = parquetModule();
  const strings = batches[0]!.schema.fields.filter((f) => f.type.typeId === Type.Utf8).map((f) => f.name);
  const build = (dictionary: 'all' | 'strings' | 'none') => {
    let b = new pw.WriterPropertiesBuilder()
      .setWriterVersion(pw.WriterVersion.V1)
      .setCompression(pw.Compression.ZSTD)
      .setStatisticsEnabled(pw.EnabledStatistics.Page)
      .setMaxRowGroupSize(1_048_576)
      .setDictionaryEnabled(dictionary === 'all');
    if (dictionary === 'strings') for (const c of strings) b = b.setColumnDictionaryEnabled(c, true);
    return b.build();
  };
  const ipc = tableToIPC(new Table([...batches]), 'stream');
  const out: Record<string, JsonObject> = {};
  for (const dictionary of ['all', 'strings', 'none'] as const) {
    const props = build(dictionary);
    const table = pw.Table.fromIPCStream(ipc);
    const cpu = process.cpuUsage();
    const timer = startTimer();
    const bytes = pw.writeParquet(table, props);
    const ms = timer.elapsedMs();
    const used = process.cpuUsage(cpu);
    out[`dictionary_${dictionary}`] = {
      ms: round(ms, 1),
      cpuMs: round((used.user + used.system) / 1000, 1),
      bytes: bytes.byteLength,
    };
  }
  return {
    method:
      'pw.writeParquet of all batches (one row group) with Weir settings; dictionary on every column (Weir today), only on string columns, or off',
    ...out,
  };
}

// ---------------------------------------------------------------------------------------------
// DuckDB
// ---------------------------------------------------------------------------------------------

function readJsonSql(file: string): string {
  const cols = Object.entries(DUCKDB_COLUMNS)
    .map(([k, v]) => `${k}: ${sqlString(v)}`)
    .join(', ');
  return `read_json(${sqlString(file)}, format = 'newline_delimited', columns = {${cols}})`;
}

async function duckdbCopy(conn: DuckDBConnection, file: string, out: string, partitioned: boolean) {
  const target = sqlString(out);
  const opts = partitioned
    ? 'FORMAT parquet, COMPRESSION zstd, PARTITION_BY (country)'
    : 'FORMAT parquet, COMPRESSION zstd';
  const reader = await conn.runAndReadAll(`COPY (SELECT * FROM ${readJsonSql(file)}) TO ${target} (${opts})`);
  return Number(reader.getRowsJS()[0]?.[0] ?? 0);
}

async function filesUnder(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.parquet')) continue;
    files++;
    bytes += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

interface Digest {
  rows: number;
  amount: string;
  lat: number;
  countries: number;
}

async function digest(conn: DuckDBConnection, source: string): Promise<Digest> {
  const r = await conn.runAndReadAll(
    `SELECT count(*), sum(amount)::VARCHAR, count(lat), count(DISTINCT country) FROM ${source}`,
  );
  const row = r.getRowsJS()[0] ?? [];
  return { rows: Number(row[0]), amount: String(row[1]), lat: Number(row[2]), countries: Number(row[3]) };
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

function throughput(rows: number, bytes: number, ms: number) {
  const s = ms / 1000;
  return { rowsPerSec: Math.round(rows / s), mbPerSec: round(bytes / 1e6 / s, 2) };
}

function check(side: string, got: number, want: number): void {
  if (got !== want) throw new Error(`write: ${side} wrote ${got} rows, the input has ${want}`);
}

/** Process CPU time (all threads: main, workers, libuv pool, DuckDB's threads), ms. */
function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Measured<T> {
  value: T;
  cpuMs: number;
}

interface Summary {
  medianMs: number;
  samplesMs: number[];
  cpuMs: number;
  rowsPerSec: number;
  cpuRowsPerSec: number;
  report: Record<string, JsonLike>;
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const size = ctx.quick ? QUICK : FULL;
  const base = await makeTempDir('weir-bench-write');
  ctx.defer(() => removeDir(base));
  const file = path.join(base, 'input.ndjson');

  ctx.log(`generating ${size.rows.toLocaleString('en-US')} NDJSON rows into ${file}`);
  const genTimer = startTimer();
  const inputBytes = writeNdjson(file, size.rows);
  const generateMs = genTimer.elapsedMs();
  ctx.log(`input ready: ${(inputBytes / 1e6).toFixed(1)} MB in ${(generateMs / 1000).toFixed(1)}s`);

  /**
   * Warm-up + RUNS timed runs of `fn`, each also measuring process CPU time; the summary is the
   * median-wall run's. `warmup` is 0 in quick mode for variants whose code an earlier variant
   * already warmed up.
   */
  const measure = async <T extends { rows: number }>(
    label: string,
    warmup: number,
    fn: (sampler: PeakRssSampler) => Promise<T>,
  ): Promise<Summary & { median: T }> => {
    const sampler = new PeakRssSampler().start();
    const r = await repeatMedian(
      async (): Promise<Measured<T>> => {
        const cpu = cpuNowMs();
        const value = await fn(sampler);
        return { value, cpuMs: cpuNowMs() - cpu };
      },
      {
        warmup,
        runs: RUNS,
        onRun: (i, warm) => ctx.log(`${label} ${warm ? 'warm-up' : `run ${i + 1}/${RUNS}`}`),
      },
    );
    const mem = sampler.stop();
    ctx.signal.throwIfAborted();
    for (const v of r.values) check(label, v.value.rows, size.rows);
    const tp = throughput(size.rows, inputBytes, r.medianMs);
    const cpuMs = r.median.cpuMs;
    const cpuRowsPerSec = Math.round(size.rows / (cpuMs / 1000));
    ctx.log(
      `  ${label}: ${tp.rowsPerSec.toLocaleString('en-US')} rows/s (${tp.mbPerSec} MB/s of NDJSON), ${cpuRowsPerSec.toLocaleString('en-US')} rows per CPU-second`,
    );
    return {
      median: r.median.value,
      medianMs: r.medianMs,
      samplesMs: r.samplesMs,
      cpuMs,
      rowsPerSec: tp.rowsPerSec,
      cpuRowsPerSec,
      report: {
        medianMs: round(r.medianMs, 1),
        samplesMs: r.samplesMs.map((x) => round(x, 1)),
        ...tp,
        cpuMs: round(cpuMs, 1),
        cpuSamplesMs: r.values.map((v) => round(v.cpuMs, 1)),
        cpuRowsPerSec,
        peakRssBytes: mem.peakRssBytes,
        peakArrayBuffersBytes: mem.peakArrayBuffersBytes,
      },
    };
  };
  const quickWarmup = ctx.quick ? 0 : WARMUP;

  // Weir: a fresh table directory per run; a variant's tables are removed after its runs.
  const dirs = new TableDirs(base);
  const results: Record<string, JsonObject> = {};
  const weir = async (
    name: string,
    method: string,
    warmup: number,
    fn: (dir: string, sampler: PeakRssSampler) => Promise<WeirRun>,
    extra: Record<string, JsonLike> = {},
  ) => {
    const m = await measure(`weir ${name}`, warmup, (sampler) => fn(dirs.next(), sampler));
    await dirs.removeAll();
    results[name] = {
      method,
      ...m.report,
      ...extra,
      ...(typeof extra.arrowBytes === 'number'
        ? { arrowMbPerSec: round(extra.arrowBytes / 1e6 / (m.medianMs / 1000), 2) }
        : {}),
      files: m.median.files,
      parquetBytes: m.median.bytes,
      minFileBytes: m.median.minFileBytes,
      maxFileBytes: m.median.maxFileBytes,
    };
    return m;
  };

  const ndjson = await weir(
    'ndjson',
    `stream file -> NdjsonLines -> RecordBatchBuilder.tryAppendJson (65,536-row batches) -> writeTable (zstd, unpartitioned) with its default encode workers (${ENCODE_WORKERS}): parsing and building on the main thread, Parquet encoding streamed to the worker`,
    WARMUP,
    (dir, sampler) =>
      weirWrite(
        dir,
        ndjsonBatches(file, () => sampler.sample()),
        [],
      ),
  );
  const ndjsonInThread = await weir(
    'ndjsonInThread',
    'as ndjson, with writeTable encodeWorkers: 0 (everything on the main thread)',
    quickWarmup,
    (dir, sampler) =>
      weirWrite(
        dir,
        ndjsonBatches(file, () => sampler.sample()),
        [],
        0,
      ),
  );
  const ndjsonPart = await weir(
    'ndjsonPartitioned',
    'as ndjson, with writeTable partitionBy [country]',
    quickWarmup,
    (dir, sampler) =>
      weirWrite(
        dir,
        ndjsonBatches(file, () => sampler.sample()),
        ['country'],
      ),
  );

  ctx.log(`starting ${WORKERS} worker threads`);
  const poolTimer = startTimer();
  const pool = await WriterPool.start(WORKERS);
  ctx.defer(() => pool.close());
  const poolStartMs = poolTimer.elapsedMs();
  // The pool's warm-up (parquet-wasm instantiation, JIT) is one untimed run over the first
  // quarter of the file: the workers then stay warm, as a library-owned pool would.
  ctx.log('weir ndjsonWorkers warm-up (first quarter of the file)');
  const poolWarm = startTimer();
  await weirParallelWrite(pool, file, inputBytes, dirs.next(), [], Math.floor(inputBytes / 4));
  const poolWarmupMs = poolWarm.elapsedMs();
  const ndjsonWorkers = await weir(
    'ndjsonWorkers',
    `prototype, public API: ${WORKERS} worker threads (started and warmed up beforehand) each parse a line-aligned part of the file and write its data files (writeDataFiles = DataFileWriter, zstd); the main thread creates the table and commits all adds in one Transaction`,
    0,
    (dir) => weirParallelWrite(pool, file, inputBytes, dir, []),
    { workers: WORKERS, poolStartMs: round(poolStartMs, 1), poolWarmupMs: round(poolWarmupMs, 1) },
  );
  await pool.close();

  ctx.log('building Arrow batches in memory (untimed)');
  const batches = await collectBatches(file);
  const batchBytes = arrowBytes(batches);
  const arrow = await weir(
    'arrow',
    `writeTable of Arrow batches built beforehand (zstd, unpartitioned), default encode workers (${ENCODE_WORKERS})`,
    quickWarmup,
    (dir) => weirWrite(dir, batches, []),
    { arrowBytes: batchBytes },
  );
  const arrowTwoEncoders = await weir(
    'arrowTwoEncoders',
    `as arrow, with writeTable encodeWorkers: ${DUCKDB_THREADS} (as many as DuckDB's threads): the file's row groups (16 MiB of Arrow each) encoded as parts on both workers and stitched into one file`,
    quickWarmup,
    (dir) => weirWrite(dir, batches, [], DUCKDB_THREADS),
    { arrowBytes: batchBytes, encodeWorkers: DUCKDB_THREADS },
  );
  const arrowInThread = await weir(
    'arrowInThread',
    'as arrow, with writeTable encodeWorkers: 0',
    quickWarmup,
    (dir) => weirWrite(dir, batches, [], 0),
    { arrowBytes: batchBytes },
  );
  const arrowPart = await weir(
    'arrowPartitioned',
    'writeTable of Arrow batches built beforehand, partitionBy [country]',
    quickWarmup,
    (dir) => weirWrite(dir, batches, ['country']),
    { arrowBytes: batchBytes },
  );
  batches.length = 0;

  ctx.log('weir instrumented pass (read / decode / conform / stats / encode / upload / commit)');
  const splitDir = dirs.next();
  const split = await weirSplit(splitDir, file);

  const floor = parseFloor(file, split);

  // DuckDB, 2 threads, same file.
  const instance = await DuckDBInstance.create(':memory:', { threads: String(DUCKDB_THREADS) });
  const conn = await instance.connect();
  ctx.defer(() => {
    conn.closeSync();
    instance.closeSync();
  });
  await conn.run(`SET threads = ${DUCKDB_THREADS}`);
  let duckN = 0;
  const duck = async (name: string, partitioned: boolean, warmup: number) => {
    let last = '';
    const m = await measure(`duckdb ${name}`, warmup, async () => {
      last = path.join(base, `duckdb-${duckN++}${partitioned ? '' : '.parquet'}`);
      return { rows: await duckdbCopy(conn, file, last, partitioned) };
    });
    const out = partitioned ? await filesUnder(last) : { files: 1, bytes: (await stat(last)).size };
    return {
      ...m,
      last,
      json: {
        method: `SET threads=${DUCKDB_THREADS}; COPY (SELECT * FROM read_json(file, format='newline_delimited', columns={...})) TO ... (FORMAT parquet, COMPRESSION zstd${partitioned ? ', PARTITION_BY (country)' : ''})`,
        ...m.report,
        files: out.files,
        parquetBytes: out.bytes,
      } satisfies JsonObject,
    };
  };
  const duckdb = await duck('copy', false, WARMUP);
  const duckdbPart = await duck('copyPartitioned', true, quickWarmup);

  // Both sides wrote the same data.
  ctx.log('checking: DuckDB reads back the Weir table and its own file');
  const weirFiles = (await loadSnapshot(new LocalStore(splitDir)))
    .files()
    .map((f) => path.join(splitDir, f.path));
  const weirDigest = await digest(conn, `read_parquet([${weirFiles.map(sqlString).join(', ')}])`);
  const duckDigest = await digest(conn, `read_parquet(${sqlString(duckdb.last)})`);
  if (JSON.stringify(weirDigest) !== JSON.stringify(duckDigest)) {
    throw new Error(
      `write: Weir and DuckDB wrote different data: ${JSON.stringify({ weirDigest, duckDigest })}`,
    );
  }
  if (weirDigest.rows !== size.rows) throw new Error(`write: read back ${weirDigest.rows} rows`);

  const wall = (w: Summary, d: Summary) => round(w.rowsPerSec / d.rowsPerSec);
  const cpu = (w: Summary, d: Summary) => round(w.cpuRowsPerSec / d.cpuRowsPerSec);
  const ratio = {
    ndjson: wall(ndjson, duckdb),
    ndjsonInThread: wall(ndjsonInThread, duckdb),
    ndjsonPartitioned: wall(ndjsonPart, duckdbPart),
    ndjsonWorkers: wall(ndjsonWorkers, duckdb),
    arrow: wall(arrow, duckdb),
    arrowTwoEncoders: wall(arrowTwoEncoders, duckdb),
    arrowInThread: wall(arrowInThread, duckdb),
    arrowPartitioned: wall(arrowPart, duckdbPart),
    ndjsonBestRun: round(Math.min(...duckdb.samplesMs) / Math.min(...ndjson.samplesMs)),
    ndjsonWorkersBestRun: round(Math.min(...duckdb.samplesMs) / Math.min(...ndjsonWorkers.samplesMs)),
    ndjsonCpu: cpu(ndjson, duckdb),
    ndjsonInThreadCpu: cpu(ndjsonInThread, duckdb),
    ndjsonWorkersCpu: cpu(ndjsonWorkers, duckdb),
    arrowCpu: cpu(arrow, duckdb),
    arrowTwoEncodersCpu: cpu(arrowTwoEncoders, duckdb),
    // The most an NDJSON write could reach with DuckDB's threads perfectly busy, if parsing cost
    // no more than V8's JSON.parse (or than reading every byte once) and encoding no more than
    // parquet-wasm alone, with no column building, stats, IO or GC: see `floor`.
    ndjsonCeilingJsonParse: round(
      duckdb.medianMs / ((floor.jsonParseCpuMs + floor.encodeCpuMs) / DUCKDB_THREADS),
    ),
    ndjsonCeilingByteScan: round(
      duckdb.medianMs / ((floor.byteScanCpuMs + floor.encodeCpuMs) / DUCKDB_THREADS),
    ),
    arrowInThreadCpu: cpu(arrowInThread, duckdb),
  };
  ctx.log(`ratios vs duckdb (target ${TARGET_RATIO}): ${JSON.stringify(ratio)}`);

  return {
    params: {
      quick: ctx.quick,
      rows: size.rows,
      columns: SCHEMA.fields.length,
      schema: SCHEMA.fields.map((f) => `${f.name} ${typeName(f.type)}`).join(', '),
      inputBytes,
      inputFormat: 'NDJSON, numbers as JSON numbers, event_time ISO-8601 text with microseconds',
      arrowBytes: batchBytes,
      batchRows: BATCH_ROWS,
      readChunkBytes: READ_CHUNK,
      compression: 'zstd',
      workers: WORKERS,
      encodeWorkers: ENCODE_WORKERS,
      duckdbThreads: DUCKDB_THREADS,
      warmup: WARMUP,
      warmupLaterVariants: quickWarmup,
      runs: RUNS,
      generateMs: round(generateMs, 0),
      targetRatio: TARGET_RATIO,
    },
    results: {
      ...results,
      split,
      floor: { ...floor },
      processMaxRssBytes: processMaxRssBytes(),
      /** The machine is shared: the 1/5/15-minute load averages when the bench ended. */
      loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)),
    },
    reference: { duckdb: duckdb.json, duckdbPartitioned: duckdbPart.json },
    ratio,
  };
}

function typeName(t: StructField['type']): string {
  return t.type === 'decimal' ? `decimal(${t.precision},${t.scale})` : t.type;
}

const bench: Bench = {
  description:
    'write throughput (NDJSON and Arrow -> Delta table, zstd) vs DuckDB NDJSON -> Parquet (2 threads)',
  run,
};
export default bench;
