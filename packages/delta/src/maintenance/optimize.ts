/**
 * Compaction (OPTIMIZE) execution: rewrites the bins of an `OptimizePlan` and commits them in
 * groups, safely beside live writers.
 *
 * - Each bin is read with `executeScan` restricted to its files (deletion vectors applied,
 *   partition values as constants, one row group at a time) and streamed into one output file
 *   (`CompactionFileWriter`, dataChange=false, uploaded while encoded: bins are sized by their
 *   inputs' bytes, so the file lands near the target); bins run on a bounded queue (p-queue), so
 *   memory is bounded by `maxConcurrentBins` x (scan prefetch + one row group). For large plans
 *   the reading (decode, deletion vectors, shaping, stats) runs on a worker thread
 *   (scan-offload.ts); encoding runs on the process's encode pool (encode-pool.ts, the workers
 *   data writes use; `encodeWorkers: 0` keeps it on this thread), so reading and encoding use
 *   different cores even for the small plans of auto-compaction.
 * - Finished bins are committed in groups (every `binsPerCommit` bins, `bytesPerCommit` input
 *   bytes or `commitIntervalMs`, and at the end), one commit at a time: `OPTIMIZE` with
 *   `readsFiles(inputs)` + `removeAdds(inputs, dataChange=false)` + `addFiles(outputs)`. Blind
 *   appends never conflict with it; streaming readers skip `dataChange=false` changes.
 * - Before a group commits, the snapshot is refreshed: a bin whose input was removed meanwhile is
 *   dropped and reported (never retried blindly); a schema/partitioning/protocol change drops
 *   the group. A `CommitConflictError` in the commit drops the whole group, reported with its
 *   reason. Dropped bins' output files stay unreferenced (VACUUM removes them).
 * - Output adds keep the exact `partitionValues` of their inputs; stats are recomputed from the
 *   rows written; a bin whose written row count differs from its inputs' numRecords minus deleted
 *   rows is an error and is never committed.
 * - A failure stops scheduling; bins already finished are still committed (unless aborted), so
 *   the table is either unchanged or holds the finished groups; the error carries the partial
 *   result. A crash leaves only unreferenced files.
 */
import { availableParallelism } from 'node:os';
import { type ObjectStore, WeirError } from '@weir/storage';
import PQueue from 'p-queue';
import type { AddAction } from '../actions/types.js';
import { executeScan } from '../scan/scan.js';
import { planScan, type ScanFile, type ScanPlan } from '../scan/scan-plan.js';
import { columnMappingMode } from '../schema/column-mapping.js';
import { fileIdentity } from '../snapshot/replay.js';
import { loadSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import { assertWritable } from '../table/table-config.js';
import { maybeCheckpoint } from '../table/write-table.js';
import { CommitConflictError, Transaction } from '../txn/transaction.js';
import { encodeWorkerCount, sharedEncodePool } from '../write/encode-pool.js';
import type { ParquetCompression } from '../write/parquet-file.js';
import { CompactionFileWriter, type FileLayout } from './compaction-writer.js';
import {
  type OptimizeBin,
  type OptimizePlan,
  type OptimizePlanOptions,
  planOptimize,
} from './optimize-plan.js';
import {
  type DropReason,
  emptyResult,
  type OptimizeCommit,
  OptimizeFailedError,
  type OptimizeProgress,
  type OptimizeResult,
} from './optimize-result.js';
import { backgroundOffload, type RewriteOutput, ScanOffload } from './scan-offload.js';
import { stitchBin } from './stitch-bin.js';

export interface OptimizeExecuteOptions {
  /** Bins rewritten at the same time (default 2). */
  maxConcurrentBins?: number;
  /** Commit when this many bins are finished (default 16). */
  binsPerCommit?: number;
  /** ... or when finished bins hold this many input bytes (default 2 GiB). */
  bytesPerCommit?: number;
  /** ... or when the oldest uncommitted finished bin is this old (default 60 s). */
  commitIntervalMs?: number;
  /** Arrow bytes per row group of the output files (default 64 MiB): bounds memory per bin. */
  rowGroupBytes?: number;
  compression?: ParquetCompression;
  /** Data files fetched ahead per bin (default 4). */
  prefetch?: number;
  /**
   * Decode the inputs on a worker thread while this thread encodes (two cores at work). 'auto'
   * (default): when the plan rewrites at least 32 MiB and the machine has more than one core.
   * Falls back to this thread when no worker can be started.
   */
  decodeOnWorker?: boolean | 'auto';
  /**
   * Worker threads that encode the output files (the process-wide pool data writes use;
   * default one fewer than the cores, at most 4); 0 encodes on this thread.
   */
  encodeWorkers?: number;
  /**
   * Rewrite each bin wholly on the process's background worker (`backgroundOffload`: decoding,
   * stats and encoding on one thread at a lowered OS priority; this thread only serves its reads
   * and pipes its uploads). For compaction beside a latency-bound writer: it takes only CPU the
   * writer leaves idle, never queues the writer's encodes behind its own, and adds no
   * WebAssembly heap to the writer's thread. `decodeOnWorker` and `encodeWorkers` are then
   * ignored; without a worker (none can start here) the bin is rewritten as without this option.
   */
  background?: boolean;
  /**
   * Stitch a bin instead of rewriting it when its inputs' row groups average at least this many
   * compressed bytes (and share one Parquet schema, carry no deletion vectors...; see
   * stitch-bin.ts): their row groups are copied into the output byte for byte, with a new footer
   * and stats merged from theirs. Orders of magnitude cheaper than a rewrite, but the output keeps
   * the inputs' row groups. Default: never (every bin is rewritten).
   */
  stitchMinRowGroupBytes?: number;
  /** 'inline' (default): checkpoint (and clean up the log) after a commit when due. */
  checkpoint?: 'inline' | 'off';
  onCheckpointError?: (err: unknown) => void;
  onProgress?: (progress: OptimizeProgress) => void;
  onCommit?: (commit: OptimizeCommit) => void;
  /** `operationParameters.auto` (true when run by an auto-compaction policy). */
  auto?: boolean;
  /**
   * Awaited after every batch a bin rewrites: a caller sharing the thread with latency-bound
   * work (a streaming sink) yields here, so compaction takes only a share of the thread.
   */
  pace?: () => Promise<void>;
  signal?: AbortSignal;
  now?: () => number;
}

export interface OptimizeOptions extends OptimizePlanOptions, OptimizeExecuteOptions {
  /** The snapshot to plan on (default: the latest). */
  snapshot?: Snapshot;
  /** Plan only: report what would be rewritten, change nothing. */
  dryRun?: boolean;
}

interface BinOutput {
  bin: OptimizeBin;
  adds: AddAction[];
  rows: number;
  finishedAt: number;
}

const OFFLOAD_MIN_BYTES = 32 * 1024 * 1024;

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function sameLayout(a: Snapshot, b: Snapshot): boolean {
  return (
    a.metadata.id === b.metadata.id &&
    a.metadata.schemaString === b.metadata.schemaString &&
    a.partitionColumns.join('\u0000') === b.partitionColumns.join('\u0000') &&
    (a.configuration['delta.columnMapping.mode'] ?? 'none') ===
      (b.configuration['delta.columnMapping.mode'] ?? 'none') &&
    JSON.stringify(a.protocol) === JSON.stringify(b.protocol)
  );
}

/** Plans and runs an OPTIMIZE on the latest snapshot (or `options.snapshot`). */
export async function optimize(store: ObjectStore, options: OptimizeOptions = {}): Promise<OptimizeResult> {
  const started = performance.now();
  const snapshot = options.snapshot ?? (await loadSnapshot(store));
  const plan = planOptimize(snapshot, options);
  if (options.dryRun) {
    const result = emptyResult(plan, snapshot, true);
    result.metrics.durationMs = performance.now() - started;
    return result;
  }
  return executeOptimize(store, snapshot, plan, options);
}

/** Rewrites and commits the bins of `plan` (made on `snapshot`). */
export async function executeOptimize(
  store: ObjectStore,
  snapshot: Snapshot,
  plan: OptimizePlan,
  options: OptimizeExecuteOptions = {},
): Promise<OptimizeResult> {
  const started = performance.now();
  const table = snapshot.table;
  const workers = encodeWorkerCount(table, options.encodeWorkers);
  const result = emptyResult(plan, snapshot, false);
  const m = result.metrics;
  const finish = () => {
    m.filesAfter = m.filesBefore - m.numRemovedFiles + m.numAddedFiles;
    m.durationMs = performance.now() - started;
    return result;
  };
  if (plan.version !== snapshot.version || plan.table !== table) {
    throw new WeirError(
      'INVALID_ARGUMENT',
      `${table}: the optimize plan was made on version ${plan.version}, not on the snapshot given (version ${snapshot.version})`,
      { details: { table, planVersion: plan.version, version: snapshot.version } },
    );
  }
  if (plan.bins.length === 0) return finish();
  assertWritable(table, snapshot.protocol, snapshot.schema, snapshot.configuration, { deletesData: false });

  const concurrency = Math.max(1, Math.floor(options.maxConcurrentBins ?? 2));
  const binsPerCommit = Math.max(1, Math.floor(options.binsPerCommit ?? 16));
  const bytesPerCommit = options.bytesPerCommit ?? 2 * 1024 ** 3;
  const commitIntervalMs = options.commitIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;

  // One scan plan for the whole table; each bin reads a subset of its files.
  const base = planScan(snapshot);
  const scanFiles = new Map<string, ScanFile>();
  for (const f of base.files) scanFiles.set(fileIdentity(f.add.path, f.add.deletionVector), f);

  const progress: OptimizeProgress = {
    binsDone: 0,
    binsTotal: plan.bins.length,
    filesDone: 0,
    filesTotal: plan.metrics.filesInBins,
    bytesDone: 0,
    bytesTotal: plan.metrics.bytesInBins,
    rowsDone: 0,
    commits: 0,
  };
  const running = new Map<number, number>(); // bin id -> estimated input bytes read so far
  const report = () => {
    if (!options.onProgress) return;
    let partial = 0;
    for (const b of running.values()) partial += b;
    options.onProgress({ ...progress, bytesDone: progress.bytesDone + partial });
  };

  const layout: FileLayout = {
    table,
    schema: snapshot.schema,
    partitionColumns: snapshot.partitionColumns,
    configuration: snapshot.configuration,
    columnMapping: columnMappingMode(snapshot.configuration),
  };
  const offloadWanted =
    options.decodeOnWorker === 'auto' || options.decodeOnWorker === undefined
      ? plan.metrics.bytesInBins >= OFFLOAD_MIN_BYTES && availableParallelism() > 1
      : options.decodeOnWorker;
  // The background worker is asked for by the first bin rewritten on it: a run whose bins are
  // all stitched starts no thread.
  let backgroundStart: Promise<ScanOffload | undefined> | undefined;
  const backgroundWorker = () =>
    (backgroundStart ??= backgroundOffload().then((worker) => {
      if (worker) {
        m.background = true;
        m.encodeWorkers = 1;
        m.decodeWorkers = 1;
      }
      return worker;
    }));
  const offload = offloadWanted && !options.background ? await ScanOffload.start() : undefined;
  const encodePool = sharedEncodePool(workers);
  m.encodeWorkers = encodePool?.size ?? 0;
  m.decodeWorkers = offload ? 1 : 0;
  const rewriteBin = async (bin: OptimizeBin): Promise<BinOutput> => {
    const scan: ScanPlan = {
      ...base,
      files: bin.files.map((f) => scanFiles.get(fileIdentity(f.path, f.deletionVector))!),
    };
    // The output goes where the bin's first input lives (its partition directory or prefix).
    const first = scan.files[0]!.key;
    const output: RewriteOutput = {
      directory: first.slice(0, first.lastIndexOf('/') + 1),
      partitionValues: bin.partitionValues,
      ...(options.compression ? { compression: options.compression } : {}),
      ...(options.rowGroupBytes !== undefined ? { rowGroupBytes: options.rowGroupBytes } : {}),
    };
    let rows = 0;
    const advance = (n: number) => {
      rows += n;
      progress.rowsDone += n;
      if (bin.inputRows) running.set(bin.id, Math.min(1, rows / bin.inputRows) * bin.inputBytes);
      report();
    };
    running.set(bin.id, 0);
    let adds: AddAction[];
    try {
      const stitched =
        options.stitchMinRowGroupBytes === undefined
          ? undefined
          : await stitchBin(store, scan.files, layout, output.directory, bin.partitionValues, {
              minRowGroupBytes: options.stitchMinRowGroupBytes,
              ...(options.compression ? { compression: options.compression } : {}),
              ...(options.signal ? { signal: options.signal } : {}),
              now,
            });
      if (stitched && 'add' in stitched) {
        m.binsStitched++;
        advance(stitched.rows);
        adds = [stitched.add];
      } else {
        options.signal?.throwIfAborted();
        adds = await rewriteFiles(scan, output, advance);
      }
    } finally {
      running.delete(bin.id);
    }
    if (bin.inputRows !== undefined && rows !== bin.inputRows) {
      throw new WeirError(
        'OPTIMIZE_ROW_COUNT_MISMATCH',
        `${table}: bin ${bin.id} (${bin.partition || 'unpartitioned'}) read ${rows} rows from ${bin.files.length} files whose stats say ${bin.inputRows}; nothing of it was committed`,
        { details: { table, version: snapshot.version, bin: bin.id, rows, expected: bin.inputRows } },
      );
    }
    progress.binsDone++;
    progress.filesDone += bin.files.length;
    progress.bytesDone += bin.inputBytes;
    report();
    return { bin, adds, rows, finishedAt: performance.now() };
  };
  /** Decodes and re-encodes a bin's files into one output file (its add, none without rows). */
  const rewriteFiles = async (
    scan: ScanPlan,
    output: RewriteOutput,
    advance: (rows: number) => void,
  ): Promise<AddAction[]> => {
    const background = options.background ? await backgroundWorker() : undefined;
    const writer = background
      ? undefined
      : new CompactionFileWriter(store, {
          ...layout,
          ...output,
          ...(encodePool ? { encodePool } : {}),
          now,
        });
    try {
      const scanOptions = {
        ...(options.prefetch !== undefined ? { prefetch: options.prefetch } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      };
      if (!writer) {
        // The background worker reads, encodes and uploads the whole file.
        const add = await background!.rewrite(store, scan, layout, output, {
          ...scanOptions,
          onRows: advance,
        });
        return add ? [{ ...add, modificationTime: now() }] : [];
      }
      let stats: string | undefined;
      if (offload) {
        // Decoded, conformed and shaped on the worker; this thread only encodes.
        const chunks = offload.scan(store, scan, layout, scanOptions);
        for (;;) {
          const next = await chunks.next();
          if (next.done) {
            stats = next.value.stats;
            break;
          }
          await writer.writeEncoded(next.value.ipc, next.value.rows);
          advance(next.value.rows);
          await options.pace?.();
        }
      } else {
        for await (const batch of executeScan(store, scan, scanOptions)) {
          await writer.write(batch);
          advance(batch.numRows);
          await options.pace?.();
        }
      }
      const add = await writer.close(stats);
      return add ? [add] : [];
    } catch (err) {
      await writer?.abort().catch(() => {});
      throw err;
    }
  };

  let current = snapshot;
  const operationParameters = {
    predicate: JSON.stringify(plan.predicate !== undefined ? [plan.predicate] : []),
    zOrderBy: '[]',
    clusterBy: '[]',
    auto: options.auto ?? false,
  };
  const drop = (
    bin: OptimizeBin,
    reason: DropReason,
    extra: { subject?: string; winningVersion?: number },
  ) => {
    result.droppedBins.push({
      bin: bin.id,
      partition: bin.partition,
      files: bin.files.length,
      reason,
      ...extra,
    });
    m.binsDropped++;
  };

  const commitGroup = async (group: BinOutput[]): Promise<void> => {
    current = await current.refresh(store);
    if (!sameLayout(snapshot, current)) {
      const reason: DropReason =
        JSON.stringify(snapshot.protocol) !== JSON.stringify(current.protocol)
          ? 'PROTOCOL_CHANGED'
          : 'METADATA_CHANGED';
      for (const g of group) drop(g.bin, reason, { winningVersion: current.version });
      return;
    }
    const live = current.tableState.files;
    const ready = group.filter((g) => {
      const gone = g.bin.files.find((f) => !live.has(fileIdentity(f.path, f.deletionVector)));
      if (gone)
        drop(g.bin, 'CONCURRENT_DELETE_READ', { subject: gone.path, winningVersion: current.version });
      return !gone;
    });
    if (ready.length === 0) return;
    const inputs = ready.flatMap((g) => g.bin.files);
    const outputs = ready.flatMap((g) => g.adds);
    const removedBytes = inputs.reduce((n, f) => n + f.size, 0);
    const addedBytes = outputs.reduce((n, f) => n + f.size, 0);
    const sizes = outputs.map((a) => a.size).sort((a, b) => a - b);
    const rows = ready.reduce((n, g) => n + g.rows, 0);
    const txn = new Transaction(store, current, {
      operation: 'OPTIMIZE',
      operationParameters,
      operationMetrics: {
        numRemovedFiles: String(inputs.length),
        numAddedFiles: String(outputs.length),
        numRemovedBytes: String(removedBytes),
        numAddedBytes: String(addedBytes),
        minFileSize: String(sizes[0] ?? 0),
        p25FileSize: String(percentile(sizes, 0.25)),
        p50FileSize: String(percentile(sizes, 0.5)),
        p75FileSize: String(percentile(sizes, 0.75)),
        maxFileSize: String(sizes.at(-1) ?? 0),
        numBatches: String(ready.length),
        totalConsideredFiles: String(plan.metrics.filesConsidered),
        numDeletionVectorsRemoved: String(ready.reduce((n, g) => n + g.bin.deletionVectors, 0)),
        numOutputRows: String(rows),
      },
      now,
    });
    txn.readsFiles(inputs).removeAdds(inputs, false).addFiles(outputs);
    let version: number;
    try {
      version = (await txn.commit()).version;
    } catch (err) {
      if (!(err instanceof CommitConflictError)) throw err;
      const subject = typeof err.details.subject === 'string' ? err.details.subject : undefined;
      for (const g of ready) {
        drop(g.bin, err.reason, { ...(subject ? { subject } : {}), winningVersion: err.winningVersion });
      }
      return;
    }
    const commit: OptimizeCommit = {
      version,
      bins: ready.length,
      removedFiles: inputs.length,
      addedFiles: outputs.length,
      removedBytes,
      addedBytes,
    };
    result.commits.push(commit);
    m.numRemovedFiles += inputs.length;
    m.numAddedFiles += outputs.length;
    m.numRemovedBytes += removedBytes;
    m.numAddedBytes += addedBytes;
    m.rowsRewritten += rows;
    m.binsCommitted += ready.length;
    progress.commits++;
    options.onCommit?.(commit);
    report();
    if (options.checkpoint !== 'off') {
      await maybeCheckpoint(store, version, current.configuration, undefined, options.onCheckpointError);
    }
  };

  // A bin failure stops scheduling bins; a commit failure also stops committing.
  let binFailure: { err: unknown } | undefined;
  let commitFailure: { err: unknown } | undefined;
  const pending: BinOutput[] = [];
  let commits: Promise<void> = Promise.resolve();
  const queueCommit = (force: boolean) => {
    if (pending.length === 0 || commitFailure) return;
    const bytes = pending.reduce((n, p) => n + p.bin.inputBytes, 0);
    const age = performance.now() - pending[0]!.finishedAt;
    if (!force && pending.length < binsPerCommit && bytes < bytesPerCommit && age < commitIntervalMs) return;
    const group = pending.splice(0);
    commits = commits.then(async () => {
      if (commitFailure) return;
      try {
        await commitGroup(group);
      } catch (err) {
        commitFailure ??= { err };
      }
    });
  };

  const queue = new PQueue({ concurrency });
  try {
    await runBins();
  } finally {
    await offload?.close();
  }
  const failure = commitFailure ?? binFailure;
  if (failure) throw new OptimizeFailedError(finish(), failure.err);
  return finish();

  async function runBins(): Promise<void> {
    for (const bin of plan.bins) {
      queue
        .add(async () => {
          if (binFailure || commitFailure) return;
          const out = await rewriteBin(bin);
          pending.push(out);
          queueCommit(false);
        })
        .catch((err: unknown) => {
          binFailure ??= { err };
          queue.clear();
        });
    }
    await queue.onIdle();
    // Finished bins are committed even after another bin failed (their work is independent),
    // but not after an abort: the caller asked to stop.
    if (!options.signal?.aborted) queueCommit(true);
    await commits;
  }
}
