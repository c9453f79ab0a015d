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
 * - the encoder's synchronous work per call is kept small (small output row groups, one bin at a
 *   time, decoding on a worker thread when the machine has a second core), so an epoch commit
 *   waiting for the event loop is not held up for long;
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
import type { ObjectStore } from '@weir/storage';
import type { SinkMetrics } from './metrics.js';

export interface AutoCompactionOptions extends AutoCompactionThresholds {
  /** Output row group size in Arrow bytes (default 8 MiB): bounds each synchronous encode. */
  rowGroupBytes?: number;
  /** Decode inputs on a worker thread (default 'auto'). */
  decodeOnWorker?: boolean | 'auto';
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
    const { rowGroupBytes, decodeOnWorker, ...thresholds } = options;
    this.policy = new AutoCompactionPolicy(thresholds);
    this.metrics = scheduler.metrics;
    const execute: OptimizeExecuteOptions = {
      maxConcurrentBins: 1,
      rowGroupBytes: rowGroupBytes ?? 8 * 1024 * 1024,
      decodeOnWorker: decodeOnWorker ?? 'auto',
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
