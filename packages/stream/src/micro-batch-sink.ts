/**
 * MicroBatchSink: the `addBatch(batchId, data)` face engines drive (Spark's foreachBatch
 * style). One commit per batch carries `txn{appId: queryId, version: batchId}`; a batch whose id
 * is at or below the stored version was already committed and is skipped, so replaying batches
 * after a crash writes nothing twice. Output mode `complete` replaces the table's contents in the
 * same commit.
 */

import { type OptimizeResult, RecordBatchBuilder } from '@weir/delta';
import { type ObjectStore, WeirError } from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';
import type { AutoCompactionOptions, CompactionScheduler } from './compaction-scheduler.js';
import { chainAfterCommit, openCompaction, type Positions } from './continuous-sink.js';
import { SinkMetrics } from './metrics.js';
import { TableWriter, type TableWriterOptions } from './table-writer.js';

export interface MicroBatchSinkOptions extends Omit<TableWriterOptions, 'metrics'> {
  queryId: string;
  outputMode?: 'append' | 'complete';
  metrics?: SinkMetrics;
  /**
   * Background auto-compaction after commits (default: on in append mode; always off in
   * complete mode, where every batch rewrites the table and a concurrent rewrite would conflict).
   */
  autoCompaction?: AutoCompactionOptions | false;
  onCompaction?: (result: OptimizeResult) => void;
}

export interface BatchResult {
  batchId: number;
  /** The version holding the batch (the new commit, or the earlier one on a replay). */
  version: number;
  skipped: boolean;
  rows: number;
  files: number;
}

export class MicroBatchSink {
  readonly metrics: SinkMetrics;
  private readonly tw: TableWriter;
  private readonly options: MicroBatchSinkOptions;
  private chain: Promise<unknown> = Promise.resolve();

  private readonly compaction: CompactionScheduler | undefined;

  private constructor(
    tw: TableWriter,
    options: MicroBatchSinkOptions,
    metrics: SinkMetrics,
    compaction: CompactionScheduler | undefined,
  ) {
    this.tw = tw;
    this.options = options;
    this.metrics = metrics;
    this.compaction = compaction;
  }

  static async open(store: ObjectStore, options: MicroBatchSinkOptions): Promise<MicroBatchSink> {
    if (!options.queryId) throw new WeirError('INVALID_ARGUMENT', 'MicroBatchSink needs a queryId');
    const metrics = options.metrics ?? new SinkMetrics();
    const compaction = openCompaction(
      store,
      { ...options, ...(options.outputMode === 'complete' ? { autoCompaction: false } : {}) },
      metrics,
    );
    const tw = await TableWriter.open(store, {
      ...options,
      metrics,
      afterCommit: chainAfterCommit(options.afterCommit, compaction),
    });
    return new MicroBatchSink(tw, options, metrics, compaction);
  }

  /** The last batch id committed for this query, or -1. */
  get lastBatchId(): number {
    return this.tw.current().appTransactionVersion(this.options.queryId) ?? -1;
  }

  storedPositions(prefix = ''): Map<string, number> {
    return this.tw.storedPositions(prefix);
  }

  /** Commits one batch (records or Arrow batches), exactly once per batchId. */
  addBatch(
    batchId: number,
    data: readonly unknown[] | RecordBatch | readonly RecordBatch[],
    positions?: Positions,
  ): Promise<BatchResult> {
    const run = this.chain.then(() => this.add(batchId, data, positions));
    this.chain = run.catch(() => {});
    return run;
  }

  private async add(
    batchId: number,
    data: readonly unknown[] | RecordBatch | readonly RecordBatch[],
    positions?: Positions,
  ): Promise<BatchResult> {
    if (!Number.isInteger(batchId) || batchId < 0) {
      throw new WeirError('INVALID_ARGUMENT', `batchId must be a non-negative integer, got ${batchId}`);
    }
    // Someone else (a previous run) may have committed meanwhile: look at the latest version.
    await this.tw.refresh();
    const stored = this.lastBatchId;
    if (batchId <= stored) {
      return { batchId, version: this.tw.current().version, skipped: true, rows: 0, files: 0 };
    }
    const batches = this.toBatches(data);
    const writer = this.tw.newFileWriter();
    let rows = 0;
    try {
      for (const b of batches) {
        const conformed = this.tw.conform(b);
        await writer.write(conformed);
        rows += conformed.numRows;
      }
    } catch (err) {
      await writer.abort().catch(() => {});
      throw err;
    }
    const adds = await writer.close();
    const all = new Map<string, number>(
      positions instanceof Map ? positions : Object.entries(positions ?? {}),
    );
    all.set(this.options.queryId, batchId);
    const result = await this.tw.commit({
      adds,
      positions: all,
      replaceAll: this.options.outputMode === 'complete',
      operation: 'STREAMING UPDATE',
      operationParameters: {
        outputMode: this.options.outputMode === 'complete' ? 'Complete' : 'Append',
        queryId: this.options.queryId,
        epochId: String(batchId),
      },
    });
    this.metrics.rowsIn.inc(rows);
    this.metrics.epochsCommitted.inc();
    this.metrics.filesPerCommit.observe(adds.length);
    return { batchId, version: result.version, skipped: false, rows, files: adds.length };
  }

  private toBatches(data: readonly unknown[] | RecordBatch | readonly RecordBatch[]): RecordBatch[] {
    if (!Array.isArray(data)) return [data as RecordBatch];
    if (
      data.length > 0 &&
      typeof data[0] === 'object' &&
      data[0] !== null &&
      'schema' in (data[0] as object) &&
      'numRows' in (data[0] as object)
    ) {
      return data as RecordBatch[];
    }
    const builder = new RecordBatchBuilder(this.tw.current().schema, { table: this.tw.table });
    (data as readonly unknown[]).forEach((r, i) => {
      builder.append(r, { recordIndex: i });
    });
    return [builder.flush()];
  }

  /** Waits for pending batches, aborts a running auto-compaction, waits for checkpoints. */
  async close(): Promise<void> {
    await this.chain;
    await this.compaction?.stop();
    await this.tw.idle();
  }

  /** Resolves when no background compaction is running (tests, demos). */
  async compactionIdle(): Promise<void> {
    await this.compaction?.idle();
  }
}
