/**
 * `commit` — commit latency on the local store for small appends (target: p50 under 5 ms),
 * against the raw storage floor measured in the same run.
 * ratio = Weir `Transaction.commit` p50 / raw `LocalStore.putIfAbsent` p50 of the same bytes
 * (lower is better; 1 = the commit costs exactly its conditional write).
 *
 * Phases, each in its own temp table directory (removed afterwards), sequential, one writer:
 * - `transaction`: a table (5 columns) with one tiny data file written by writeTable (100 rows);
 *   the file is hard-linked under N+WARMUP more names (untimed) so every commit adds a distinct
 *   file. Per commit i: `new Transaction(store, snapshot, {operation: 'WRITE'})
 *   .addFiles([add_i]).commit()` is timed (`commit`), then `snapshot.refresh(store)` keeping the
 *   snapshot current (`refresh`, reported separately, with the p50 of the first and last tenth
 *   of the commits: it lists `_delta_log/`, which grows by one file per commit). Interleaved with it, on the same bytes
 *   (`serializeCommit(result.actions)`, untimed): `LocalStore.putIfAbsent` to a fresh key of
 *   another store (`rawPutIfAbsent`: temp file + fsync + link + dir fsync, the floor of a
 *   commit), and `openSync('wx') + writeSync + fsyncSync + closeSync` of a fresh file
 *   (`rawWriteFsync`: no atomic publish, no directory fsync). N = 2000 (quick: 300), after
 *   WARMUP untimed commits. Transactions never checkpoint, so this log has no checkpoint.
 * - `writeTable`: full small appends, `writeTable(store, batch_i, {snapshot})` of a 100-row batch
 *   (Parquet encode + stats, data file put, commit, and the inline checkpoint every 10 versions,
 *   delta.checkpointInterval's default), the snapshot kept current with `refresh` (untimed).
 *   The store is wrapped to time its calls, so each append is split into data-file put, commit
 *   putIfAbsent, checkpoint writes and reads (wall time with at least one such call in flight);
 *   the rest is CPU (encode, stats, replay, checkpoint building).
 * - `writeTableLoadingSnapshot`: the plain call `writeTable(store, batch_i)`, which loads the latest
 *   snapshot itself (list the log, read the newest checkpoint and the commits after it) before
 *   writing. N = 500 (quick: 150).
 * Checkpoint versions are reported apart (`checkpointAppends`) from the others
 * (`plainAppends`), so the inline-checkpoint spikes are visible; the charts
 * (`commit.svg`: commit path and floors; `commit.writetable.svg`: appends) plot latency by index.
 *
 * fsync dominates: LocalStore fsyncs the temp file and the directory of every put (a small
 * write+fsync alone is `reference.rawWriteFsync`). Timings use a monotonic clock around awaited
 * calls; nothing else runs in the process meanwhile, but the machine is shared, so read the
 * interleaved ratio rather than absolute latencies (`results.loadAverageAtEnd`).
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AddAction,
  loadSnapshot,
  RecordBatchBuilder,
  type Snapshot,
  type StructField,
  type StructType,
  serializeCommit,
  Transaction,
  writeTable,
} from '@weir/delta';
import {
  type ListOptions,
  LocalStore,
  type ObjectMeta,
  type ObjectStore,
  type PutOptions,
} from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';
import { makeTempDir, removeDir } from './lib/fixtures.js';
import { type Bench, type BenchContext, type BenchResult, type JsonObject, round } from './lib/result.js';
import { type Series, writeLineChart } from './lib/svg-chart.js';
import { nowMs, type Percentiles, percentiles, processMaxRssBytes, startTimer } from './lib/timing.js';

const FULL = { commits: 2000, appends: 2000, plainAppends: 500 };
const QUICK = { commits: 300, appends: 300, plainAppends: 150 };
const WARMUP = 20;
const BATCH_ROWS = 100;
const CHECKPOINT_INTERVAL = 10;
const TARGET_P50_MS = 5;

const field = (name: string, type: StructField['type']): StructField => ({
  name,
  type,
  nullable: true,
  metadata: {},
});

const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('id', { type: 'long' }),
    field('user_id', { type: 'long' }),
    field('amount', { type: 'decimal', precision: 12, scale: 2 }),
    field('country', { type: 'string' }),
    field('event_time', { type: 'timestamp' }),
  ],
};

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'BR', 'JP', 'IN', 'AU'];
const T0_MS = Date.UTC(2024, 0, 1);

/** Batch `n` of BATCH_ROWS deterministic rows. */
function smallBatch(builder: RecordBatchBuilder, n: number): RecordBatch {
  for (let r = 0; r < BATCH_ROWS; r++) {
    const id = n * BATCH_ROWS + r;
    builder.append({
      id,
      user_id: (id * 7919) % 100_000,
      amount: ((id * 104_729) % 1_000_000) / 100,
      country: COUNTRIES[id % COUNTRIES.length],
      event_time: T0_MS + id * 10,
    });
  }
  return builder.flush();
}

function summary(p: Percentiles): JsonObject {
  return {
    count: p.count,
    min: round(p.min),
    mean: round(p.mean),
    p50: round(p.p50),
    p90: round(p.p90),
    p99: round(p.p99),
    max: round(p.max),
  };
}

const enc = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// A store that times its calls (for the writeTable split)
// ---------------------------------------------------------------------------------------------

interface CallTimes {
  dataPut: number;
  commitPut: number;
  checkpointPut: number;
  reads: number;
  checkpointWritten: boolean;
}

function emptyTimes(): CallTimes {
  return { dataPut: 0, commitPut: 0, checkpointPut: 0, reads: 0, checkpointWritten: false };
}

type CallKind = 'reads' | 'dataPut' | 'commitPut' | 'checkpointPut';

/**
 * Delegates to a store and accumulates, per kind of call, the wall time during which at least
 * one such call was in flight (so concurrent reads are not counted twice).
 */
class TimedStore implements ObjectStore {
  readonly root: string;
  times = emptyTimes();
  private readonly inFlight: Record<CallKind, number> = {
    reads: 0,
    dataPut: 0,
    commitPut: 0,
    checkpointPut: 0,
  };
  private readonly since: Record<CallKind, number> = { reads: 0, dataPut: 0, commitPut: 0, checkpointPut: 0 };
  constructor(private readonly inner: ObjectStore) {
    this.root = inner.root;
  }

  private enter(kind: CallKind): void {
    if (this.inFlight[kind]++ === 0) this.since[kind] = nowMs();
  }
  private leave(kind: CallKind): void {
    if (--this.inFlight[kind] === 0) this.times[kind] += nowMs() - this.since[kind];
  }

  private async timed<T>(kind: CallKind, p: () => Promise<T>): Promise<T> {
    this.enter(kind);
    try {
      return await p();
    } finally {
      this.leave(kind);
    }
  }

  get(key: string): Promise<Uint8Array> {
    return this.timed('reads', () => this.inner.get(key));
  }
  getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return this.timed('reads', () => this.inner.getRange(key, offset, length));
  }
  head(key: string): Promise<ObjectMeta> {
    return this.timed('reads', () => this.inner.head(key));
  }
  put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<void> {
    const log = key.startsWith('_delta_log/');
    if (log) this.times.checkpointWritten = true;
    return this.timed(log ? 'checkpointPut' : 'dataPut', () => this.inner.put(key, data, options));
  }
  putIfAbsent(key: string, data: Uint8Array): Promise<void> {
    return this.timed('commitPut', () => this.inner.putIfAbsent(key, data));
  }
  async *list(prefix: string, options?: ListOptions): AsyncGenerator<ObjectMeta> {
    // Time spent producing entries only (not the consumer's work between them).
    const it = this.inner.list(prefix, options)[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.timed('reads', () => it.next());
      if (next.done) return;
      yield next.value;
    }
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

// ---------------------------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------------------------

interface TxnPhase {
  commit: number[];
  refresh: number[];
  rawPutIfAbsent: number[];
  rawWriteFsync: number[];
  commitBytes: number;
  finalVersion: number;
  liveFiles: number;
}

async function transactionPhase(ctx: BenchContext, base: string, n: number): Promise<TxnPhase> {
  const dir = path.join(base, 'txn');
  const store = new LocalStore(dir);
  const builder = new RecordBatchBuilder(SCHEMA, { table: 'bench-commit' });
  const first = await writeTable(store, smallBatch(builder, 0), { compression: 'zstd' });
  const template: AddAction = first.files[0]!;
  // Distinct file names for every commit (hard links of the tiny file: no data is copied).
  const src = path.join(dir, decodeURIComponent(template.path));
  const names: string[] = [];
  for (let i = 0; i < n + WARMUP; i++) {
    const name = `part-${String(i).padStart(5, '0')}-bench.zstd.parquet`;
    linkSync(src, path.join(dir, name));
    names.push(name);
  }
  const refDir = path.join(base, 'raw-putifabsent');
  const refStore = new LocalStore(refDir);
  const fsDir = path.join(base, 'raw-fs');
  mkdirSync(fsDir, { recursive: true });

  let snapshot: Snapshot = await loadSnapshot(store);
  const out: TxnPhase = {
    commit: [],
    refresh: [],
    rawPutIfAbsent: [],
    rawWriteFsync: [],
    commitBytes: 0,
    finalVersion: 0,
    liveFiles: 0,
  };
  for (let i = 0; i < n + WARMUP; i++) {
    const timedRun = i >= WARMUP;
    const add: AddAction = { ...template, path: names[i]!, modificationTime: Date.now() };

    let t = startTimer();
    const result = await new Transaction(store, snapshot, { operation: 'WRITE' }).addFiles([add]).commit();
    const commitMs = t.elapsedMs();

    t = startTimer();
    snapshot = await snapshot.refresh(store);
    const refreshMs = t.elapsedMs();
    if (snapshot.version !== result.version) {
      throw new Error(`commit: refresh reached version ${snapshot.version}, committed ${result.version}`);
    }

    const bytes = enc.encode(serializeCommit(result.actions));
    const key = `_delta_log/${String(result.version).padStart(20, '0')}.json`;
    t = startTimer();
    await refStore.putIfAbsent(key, bytes);
    const rawPutMs = t.elapsedMs();

    t = startTimer();
    const fd = openSync(path.join(fsDir, `${i}.json`), 'wx');
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const rawFsMs = t.elapsedMs();

    if (timedRun) {
      out.commit.push(commitMs);
      out.refresh.push(refreshMs);
      out.rawPutIfAbsent.push(rawPutMs);
      out.rawWriteFsync.push(rawFsMs);
      out.commitBytes = bytes.byteLength;
    }
    if ((i + 1) % 500 === 0) ctx.log(`  transaction: ${i + 1}/${n + WARMUP} commits`);
    ctx.signal.throwIfAborted();
  }
  out.finalVersion = snapshot.version;
  out.liveFiles = snapshot.files().length;
  return out;
}

interface AppendPhase {
  total: number[];
  versions: number[];
  times: CallTimes[];
  refresh: number[];
  finalVersion: number;
  checkpoints: number;
}

/** `withSnapshot`: pass the current snapshot (kept current by refresh); else writeTable loads it. */
async function appendPhase(
  ctx: BenchContext,
  base: string,
  name: string,
  n: number,
  withSnapshot: boolean,
): Promise<AppendPhase> {
  const store = new TimedStore(new LocalStore(path.join(base, name)));
  const builder = new RecordBatchBuilder(SCHEMA, { table: 'bench-commit' });
  await writeTable(store, smallBatch(builder, 0), { compression: 'zstd' });
  let snapshot = await loadSnapshot(store);
  const out: AppendPhase = {
    total: [],
    versions: [],
    times: [],
    refresh: [],
    finalVersion: 0,
    checkpoints: 0,
  };
  const errors: unknown[] = [];
  for (let i = 0; i < n + WARMUP; i++) {
    const batch = smallBatch(builder, i + 1);
    store.times = emptyTimes();
    const t = startTimer();
    const result = await writeTable(store, batch, {
      compression: 'zstd',
      onCheckpointError: (err) => errors.push(err),
      ...(withSnapshot ? { snapshot } : {}),
    });
    const ms = t.elapsedMs();
    // A copy: the refresh below goes through the same store.
    const times = { ...store.times };
    const r = startTimer();
    if (withSnapshot) snapshot = await snapshot.refresh(store);
    const refreshMs = r.elapsedMs();
    if (times.checkpointWritten) out.checkpoints++;
    if (i >= WARMUP) {
      out.total.push(ms);
      out.versions.push(result.version);
      out.times.push(times);
      out.refresh.push(refreshMs);
    }
    if ((i + 1) % 500 === 0) ctx.log(`  ${name}: ${i + 1}/${n + WARMUP} appends`);
    ctx.signal.throwIfAborted();
    out.finalVersion = result.version;
  }
  if (errors.length > 0)
    throw new Error(`commit: ${errors.length} checkpoint(s) failed: ${String(errors[0])}`);
  return out;
}

function appendReport(phase: AppendPhase): JsonObject {
  const isCheckpoint = (i: number) => phase.versions[i]! % CHECKPOINT_INTERVAL === 0;
  const pick = (f: (i: number) => boolean) => phase.total.filter((_, i) => f(i));
  const mean = (f: (t: CallTimes) => number, only: (i: number) => boolean) => {
    const xs = phase.times.filter((_, i) => only(i)).map(f);
    return round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  };
  const split = (only: (i: number) => boolean) => {
    const totals = pick(only);
    const totalMean = totals.reduce((a, b) => a + b, 0) / Math.max(1, totals.length);
    const dataPut = mean((t) => t.dataPut, only);
    const commitPut = mean((t) => t.commitPut, only);
    const checkpointPut = mean((t) => t.checkpointPut, only);
    const reads = mean((t) => t.reads, only);
    return {
      meanMs: round(totalMean),
      dataFilePutMs: dataPut,
      commitPutIfAbsentMs: commitPut,
      checkpointPutMs: checkpointPut,
      readsMs: reads,
      cpuAndOtherMs: round(totalMean - dataPut - commitPut - checkpointPut - reads),
    };
  };
  const all = () => true;
  const plain = (i: number) => !isCheckpoint(i);
  return {
    all: summary(percentiles(phase.total)),
    plainAppends: summary(percentiles(pick(plain))),
    checkpointAppends: summary(percentiles(pick(isCheckpoint))),
    splitMeanMs: { all: split(all), plainAppends: split(plain), checkpointAppends: split(isCheckpoint) },
    checkpointsWritten: phase.checkpoints,
    finalVersion: phase.finalVersion,
  };
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

async function run(ctx: BenchContext): Promise<BenchResult> {
  const size = ctx.quick ? QUICK : FULL;
  const base = await makeTempDir('weir-bench-commit');
  ctx.defer(() => removeDir(base));

  ctx.log(`transaction commits: ${size.commits} (+${WARMUP} warm-up), interleaved with the raw floors`);
  const txn = await transactionPhase(ctx, base, size.commits);
  const commitP = percentiles(txn.commit);
  const refreshP = percentiles(txn.refresh);
  const rawPutP = percentiles(txn.rawPutIfAbsent);
  const rawFsP = percentiles(txn.rawWriteFsync);
  ctx.log(
    `  commit p50 ${commitP.p50.toFixed(2)} ms p99 ${commitP.p99.toFixed(2)}; refresh p50 ${refreshP.p50.toFixed(2)}; raw putIfAbsent p50 ${rawPutP.p50.toFixed(2)}; raw write+fsync p50 ${rawFsP.p50.toFixed(2)}`,
  );

  ctx.log(`writeTable appends of ${BATCH_ROWS} rows with {snapshot}: ${size.appends} (+${WARMUP} warm-up)`);
  const appends = await appendPhase(ctx, base, 'appends', size.appends, true);
  const appendsP = percentiles(appends.total);
  ctx.log(
    `  writeTable p50 ${appendsP.p50.toFixed(2)} ms p99 ${appendsP.p99.toFixed(2)} max ${appendsP.max.toFixed(1)}`,
  );

  ctx.log(`writeTable appends loading the snapshot: ${size.plainAppends} (+${WARMUP} warm-up)`);
  const plain = await appendPhase(ctx, base, 'appends-nosnapshot', size.plainAppends, false);
  const plainP = percentiles(plain.total);
  ctx.log(`  writeTable (no snapshot) p50 ${plainP.p50.toFixed(2)} ms p99 ${plainP.p99.toFixed(2)}`);

  const index = (xs: readonly number[]): [number, number][] => xs.map((y, i) => [i, y]);
  const commitSeries: Series[] = [
    { name: 'Transaction.commit', points: index(txn.commit) },
    { name: 'snapshot.refresh', points: index(txn.refresh) },
    { name: 'raw LocalStore.putIfAbsent', points: index(txn.rawPutIfAbsent) },
    { name: 'raw write + fsync', points: index(txn.rawWriteFsync) },
  ];
  const chart = await writeLineChart(ctx.artifactPath('svg'), {
    title: `Commit latency by commit index (local store, ${size.commits} sequential commits)`,
    xLabel: 'commit index',
    yLabel: 'latency (ms)',
    series: commitSeries,
  });
  const appendChart = await writeLineChart(ctx.artifactPath('writetable.svg'), {
    title: `writeTable of ${BATCH_ROWS} rows by append index (checkpoint every ${CHECKPOINT_INTERVAL} versions, inline)`,
    xLabel: 'append index',
    yLabel: 'latency (ms)',
    series: [
      { name: 'writeTable {snapshot}', points: index(appends.total) },
      { name: 'writeTable (loads snapshot)', points: index(plain.total) },
      { name: 'refresh after {snapshot} append', points: index(appends.refresh) },
    ],
  });
  ctx.log(`charts: ${path.relative(process.cwd(), chart)}, ${path.relative(process.cwd(), appendChart)}`);

  const ratio = round(commitP.p50 / rawPutP.p50);
  ctx.log(`ratio (commit p50 / raw putIfAbsent p50) = ${ratio}; target commit p50 < ${TARGET_P50_MS} ms`);
  return {
    params: {
      quick: ctx.quick,
      commits: size.commits,
      appends: size.appends,
      appendsLoadingSnapshot: size.plainAppends,
      warmup: WARMUP,
      batchRows: BATCH_ROWS,
      columns: SCHEMA.fields.length,
      checkpointInterval: CHECKPOINT_INTERVAL,
      store: 'LocalStore (temp file + fsync, link/rename, directory fsync)',
      targetP50Ms: TARGET_P50_MS,
      charts: [path.basename(chart), path.basename(appendChart)],
    },
    results: {
      transaction: {
        method:
          "new Transaction(store, snapshot, {operation: 'WRITE'}).addFiles([add]).commit(), sequential, one add with stats",
        commitMs: summary(commitP),
        commitBytes: txn.commitBytes,
        finalVersion: txn.finalVersion,
        liveFiles: txn.liveFiles,
        meetsTarget: commitP.p50 < TARGET_P50_MS,
      },
      refresh: {
        method:
          'snapshot.refresh(store) after each commit (lists _delta_log/ after the current version, reads 1 commit)',
        ms: summary(refreshP),
        firstTenthP50: round(percentiles(txn.refresh.slice(0, Math.ceil(txn.refresh.length / 10))).p50),
        lastTenthP50: round(percentiles(txn.refresh.slice(-Math.ceil(txn.refresh.length / 10))).p50),
      },
      writeTable: {
        method: `writeTable(store, ${BATCH_ROWS}-row batch, {snapshot}) with the snapshot kept current by refresh (untimed); data file + commit + inline checkpoint every ${CHECKPOINT_INTERVAL}`,
        ...appendReport(appends),
        refreshMs: summary(percentiles(appends.refresh)),
      },
      writeTableLoadingSnapshot: {
        method: `writeTable(store, ${BATCH_ROWS}-row batch): loads the latest snapshot itself on every call`,
        ...appendReport(plain),
      },
      processMaxRssBytes: processMaxRssBytes(),
      /** The machine is shared: the 1/5/15-minute load averages when the bench ended. */
      loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)),
    },
    reference: {
      rawPutIfAbsent: {
        method: 'LocalStore.putIfAbsent of the same commit bytes to a fresh _delta_log/ key of another store',
        ms: summary(rawPutP),
      },
      rawWriteFsync: {
        method: "openSync(fresh file, 'wx') + writeSync + fsyncSync + closeSync of the same bytes",
        ms: summary(rawFsP),
      },
    },
    ratio,
  };
}

const bench: Bench = {
  description: 'commit latency p50/p99 of small appends on the local store vs raw putIfAbsent / fsync',
  run,
};
export default bench;
