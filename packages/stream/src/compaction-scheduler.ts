/**
 * Background auto-compaction for a sink: after each commit the sink tells the scheduler the
 * table's new snapshot; the scheduler asks the `AutoCompactionPolicy` (pure, no IO) whether some
 * partition holds enough small files and, if so, runs a bounded OPTIMIZE in the background.
 *
 * Invariants:
 * - at most one compaction runs per sink; a commit while one runs starts nothing;
 * - compaction commits are `dataChange=false` rewrites, which never conflict with the sink's blind
 *   appends (the sink's next commit rebases over them); a group whose inputs another writer
 *   removed is dropped by OPTIMIZE and reported, never retried blindly;
 * - nothing here is awaited on the commit path, and compaction errors are reported through
 *   `onError`, never thrown into the sink;
 * - a bin whose input row groups are big enough (`stitchMinRowGroupBytes`, default 128 KiB: the
 *   epoch files of a fast stream) is stitched, not rewritten: its row groups are copied into the
 *   output under a new footer on the sink's thread, which costs IO, not CPU;
 * - compaction never starves the sink: by default each bin is rewritten wholly on the process's
 *   background worker (decode, stats, encode at a lowered OS priority, so it takes only CPU the
 *   sink, its encoder and its source leave idle; the sink's thread only serves the worker's reads
 *   and uploads). With `background: false` it shares the sink's thread instead, paced by a duty
 *   cycle — after each batch it rewrites it sleeps so that it is busy at most `dutyCycle`
 *   (default 25%) of the time. Either way: small output row groups, one bin at a time, one input
 *   file fetched ahead, small runs. (Measured at 100K rows/s: unpaced on the sink's thread, p99
 *   visibility ~0.3 s -> ~2.3 s and RSS +270 MiB; see the closing notes for the background
 *   worker's numbers);
 * - `stop()` aborts a running compaction: what it had committed stays, the rest is left as
 *   unreferenced files for VACUUM.
 */
import {
  AutoCompactionPolicy,
  type AutoCompactionThresholds,
  AutoCompactor,
  type OptimizeExecuteOptions,
  type OptimizeResult,
  type Snapshot,
} from '@weir/delta';
import { type ObjectStore, WeirError } from '@weir/storage';
import type { SinkMetrics } from './metrics.js';

export interface AutoCompactionOptions extends AutoCompactionThresholds {
  /** Output row group size in Arrow bytes (default 8 MiB): bounds each synchronous encode. */
  rowGroupBytes?: number;
  /** Rewrite bins on the process's low-priority background worker (default true). */
  background?: boolean;
  /** Without `background`: decode inputs on a worker thread (default false: a second WebAssembly heap costs memory). */
  decodeOnWorker?: boolean | 'auto';
  /** Largest share of the thread compaction may keep busy, 0 < d <= 1 (default 0.25). */
  dutyCycle?: number;
  /**
   * Stitch (copy row groups, see `OptimizeExecuteOptions.stitchMinRowGroupBytes`) rather than
   * rewrite a bin whose inputs' row groups average at least this many compressed bytes (default
   * 128 KiB; 0: always when possible; Infinity: never).
   */
  stitchMinRowGroupBytes?: number;
}

/**
 * At high rates each epoch file is a row group big enough to keep: stitching them costs a copy,
 * where a rewrite costs about as much CPU as the ingest itself (measured at 100K msgs/s on 2
 * cores: +57 s of CPU per 2 minutes, and p99 from 0.7 s to 1-7 s). Below this size a rewrite is
 * cheap and makes row groups a reader would rather have.
 */
export const DEFAULT_SINK_STITCH_MIN_ROW_GROUP_BYTES = 128 * 1024;

/** A sink's compactions are small and frequent rather than large and rare. */
const SINK_MAX_BYTES_PER_RUN = 64 * 1024 * 1024;

/**
 * Sleeps after each slice of work so that the work keeps the thread busy at most `duty` of the
 * time. A rest is capped at `maxRestMs`: the first slice of a run is measured from the end of
 * the previous run, and a long idle gap must not become a long sleep.
 */
export function dutyCyclePacer(
  duty: number,
  now: () => number = () => performance.now(),
  maxRestMs = 500,
  rest: (ms: number) => Promise<void> = restFor,
): () => Promise<void> {
  let sliceStart = now();
  return async () => {
    const busy = now() - sliceStart;
    await rest(duty >= 1 ? 0 : Math.min(maxRestMs, (busy * (1 - duty)) / duty));
    sliceStart = now();
  };
}

/** A timer for a rest of a millisecond or more; below that, one turn of the event loop. */
function restFor(ms: number): Promise<void> {
  return new Promise<void>((resolve) => (ms >= 1 ? setTimeout(resolve, ms) : setImmediate(resolve)));
}

export interface CompactionSchedulerOptions {
  metrics: SinkMetrics;
  onResult?: (result: OptimizeResult) => void;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** The small-file gauge is recomputed at most this often (it walks every live file). */
const SMALL_FILE_GAUGE_INTERVAL_MS = 1000;

export class CompactionScheduler {
  readonly policy: AutoCompactionPolicy;
  private readonly compactor: AutoCompactor;
  private readonly abort = new AbortController();
  private readonly metrics: SinkMetrics;
  private lastGaugeAt = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(store: ObjectStore, options: AutoCompactionOptions, scheduler: CompactionSchedulerOptions) {
    const { rowGroupBytes, background, decodeOnWorker, dutyCycle, stitchMinRowGroupBytes, ...thresholds } =
      options;
    if (dutyCycle !== undefined && !(dutyCycle > 0 && dutyCycle <= 1)) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `auto-compaction: dutyCycle must be in (0, 1], not ${dutyCycle}`,
        {
          details: { option: 'dutyCycle', value: dutyCycle },
        },
      );
    }
    this.policy = new AutoCompactionPolicy({ maxBytesPerRun: SINK_MAX_BYTES_PER_RUN, ...thresholds });
    this.metrics = scheduler.metrics;
    const execute: OptimizeExecuteOptions = {
      maxConcurrentBins: 1,
      rowGroupBytes: rowGroupBytes ?? 8 * 1024 * 1024,
      decodeOnWorker: decodeOnWorker ?? false,
      background: background ?? true,
      ...(stitchMinRowGroupBytes === Number.POSITIVE_INFINITY
        ? {}
        : { stitchMinRowGroupBytes: stitchMinRowGroupBytes ?? DEFAULT_SINK_STITCH_MIN_ROW_GROUP_BYTES }),
      prefetch: 1,
      pace: dutyCyclePacer(dutyCycle ?? 0.25),
      signal: this.abort.signal,
      ...(scheduler.now ? { now: scheduler.now } : {}),
      ...(scheduler.onError ? { onCheckpointError: scheduler.onError } : {}),
    };
    this.compactor = new AutoCompactor(store, this.policy, {
      ...execute,
      onResult: (result) => {
        if (result.commits.length > 0) this.metrics.compactions.inc();
        scheduler.onResult?.(result);
      },
      onError: (err) => {
        if (!this.abort.signal.aborted) scheduler.onError?.(err);
      },
    });
  }

  /** Whether a compaction is running now. */
  get running(): boolean {
    return this.compactor.running;
  }

  /** Called after each sink commit, with the table as that commit left it. Never throws. */
  afterCommit(snapshot: Snapshot): void {
    if (this.stopped) return;
    const now = performance.now();
    if (now - this.lastGaugeAt >= SMALL_FILE_GAUGE_INTERVAL_MS) {
      this.lastGaugeAt = now;
      let small = 0;
      for (const n of this.policy.smallFilesByPartition(snapshot).values()) small += n;
      this.metrics.smallFiles.set(small);
    }
    this.compactor.afterCommit(snapshot);
  }

  /** Resolves when no compaction is running. */
  idle(): Promise<void> {
    return this.compactor.idle();
  }

  /** Aborts a running compaction and starts no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.compactor.idle();
  }
}
