/**
 * ContinuousSink: records flow in without batch boundaries; every `epochMs` (or when an epoch
 * reaches `maxEpochRows` / `maxEpochBytes`) the open epoch is sealed — its Parquet files are
 * written — and committed together with the source positions it covers, as one version.
 *
 * Invariants:
 * - commits are strictly ordered by epoch; with `pipelined` (the default) sealing epoch N+1
 *   overlaps committing epoch N, otherwise an epoch is sealed only after the previous commit
 *   (microbatch behaviour);
 * - an epoch with no rows and no position change commits nothing;
 * - positions passed with a write are committed only with (or after) every row of that write;
 * - buffered bytes are bounded: `write` waits while sealed-but-uncommitted epochs plus the open
 *   one exceed `maxBufferedBytes`;
 * - after a commit fails for good, the sink is failed: every later call rejects with that error
 *   and nothing more is committed (the source must not advance past `storedPositions`).
 */

import {
  type CommitResult,
  type DataFileWriter,
  type OptimizeResult,
  RecordBatchBuilder,
  type Snapshot,
} from '@weir/delta';
import { type ObjectStore, WeirError } from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';
import { type AutoCompactionOptions, CompactionScheduler } from './compaction-scheduler.js';
import { SinkMetrics } from './metrics.js';
import { TableWriter, type TableWriterOptions } from './table-writer.js';

export type Positions = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

export interface ContinuousSinkOptions extends Omit<TableWriterOptions, 'metrics'> {
  epochMs?: number;
  maxEpochRows?: number;
  maxEpochBytes?: number;
  maxBufferedBytes?: number;
  /** Overlap sealing epoch N+1 with committing epoch N (default true). */
  pipelined?: boolean;
  /** Also commit `txn{queryId, epoch sequence number}` with every epoch (the microbatch face). */
  queryId?: string;
  /** A timestamp column holding each record's event time: feeds the visibility-latency histogram. */
  eventTimeColumn?: string;
  operation?: string;
  /**
   * Runs before each epoch's commit, after its files are written, with the positions the
   * commit will store: a source commits side outputs (dead letters) here so they are durable
   * before the positions that cover them. A rejection fails the sink.
   */
  beforeCommit?: (epoch: { epoch: number; positions: ReadonlyMap<string, number> }) => Promise<void>;
  /** Records that do not fit the schema go here (dead letters) instead of failing the write. */
  onInvalidRecord?: (record: unknown, error: WeirError, index: number) => void;
  metrics?: SinkMetrics;
  /**
   * Background auto-compaction after commits (default: on, with the policy's default
   * thresholds); `false` turns it off.
   */
  autoCompaction?: AutoCompactionOptions | false;
  /** Each finished auto-compaction run (committed groups, dropped bins). */
  onCompaction?: (result: OptimizeResult) => void;
}

export interface EpochCommitted {
  epoch: number;
  version: number;
  rows: number;
  files: number;
  timestamp: number;
  /** The source positions this commit stored. */
  positions: ReadonlyMap<string, number>;
}

interface Epoch {
  id: number;
  writer: DataFileWriter;
  positions: Map<string, number>;
  rows: number;
  bytes: number;
  eventTimesMs: number[];
}

function toMap(p: Positions | undefined): Map<string, number> {
  if (!p) return new Map();
  return p instanceof Map ? new Map(p) : new Map(Object.entries(p as Record<string, number>));
}

function batchBytes(batch: RecordBatch): number {
  let n = 0;
  for (const child of batch.data.children) n += child.byteLength;
  return n;
}

export class ContinuousSink {
  readonly metrics: SinkMetrics;
  private readonly tw: TableWriter;
  private readonly options: ContinuousSinkOptions;
  private readonly builder: RecordBatchBuilder;
  private current: Epoch | undefined;
  private nextEpochId = 0;
  private lastCommit: Promise<unknown> = Promise.resolve();
  private inflightBytes = 0;
  private waiters: (() => void)[] = [];
  private writeChain: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private nextBatchId = 0;
  private readonly listeners: ((e: EpochCommitted) => void)[] = [];
  private failedListeners: ((err: unknown) => void)[] = [];
  /** appId -> the version this sink believes the table stores (compare-and-set on commit). */
  private readonly claims = new Map<string, number | undefined>();

  private readonly compaction: CompactionScheduler | undefined;

  private constructor(
    tw: TableWriter,
    options: ContinuousSinkOptions,
    metrics: SinkMetrics,
    compaction: CompactionScheduler | undefined,
  ) {
    this.tw = tw;
    this.options = options;
    this.metrics = metrics;
    this.compaction = compaction;
    this.builder = new RecordBatchBuilder(tw.current().schema, { table: tw.table });
    if (options.queryId) this.nextBatchId = (tw.current().appTransactionVersion(options.queryId) ?? -1) + 1;
    const epochMs = options.epochMs ?? 250;
    this.timer = setInterval(() => this.sealIfDue(), epochMs);
    this.timer.unref();
  }

  static async open(store: ObjectStore, options: ContinuousSinkOptions = {}): Promise<ContinuousSink> {
    const metrics = options.metrics ?? new SinkMetrics();
    const compaction = openCompaction(store, options, metrics);
    const tw = await TableWriter.open(store, {
      ...options,
      metrics,
      afterCommit: chainAfterCommit(options.afterCommit, compaction),
    });
    return new ContinuousSink(tw, options, metrics, compaction);
  }

  /** The positions committed in the table whose appId starts with `prefix` (resume from these). */
  storedPositions(prefix = ''): Map<string, number> {
    return this.tw.storedPositions(prefix);
  }

  /** The writer's current view of the table. */
  snapshot(): Snapshot {
    return this.tw.current();
  }

  /**
   * Declares that this sink resumes these source partitions from these stored versions
   * (`undefined`: none stored). Every later commit of a claimed appId checks that the table
   * still stores what this sink last knew, and fails with POSITION_CONFLICT otherwise: after a
   * rebalance the old owner can never commit over the new one.
   */
  claim(positions: ReadonlyMap<string, number | undefined>): void {
    for (const [appId, version] of positions) this.claims.set(appId, version);
  }

  /** Forgets claims (after the partitions were flushed and handed over). */
  release(appIds: Iterable<string>): void {
    for (const appId of appIds) this.claims.delete(appId);
  }

  onEpochCommitted(listener: (e: EpochCommitted) => void): void {
    this.listeners.push(listener);
  }

  /** Called once when the sink fails for good (a commit that could not be made). */
  onFailed(listener: (err: unknown) => void): void {
    if (this.failure) listener(this.failure);
    else this.failedListeners.push(listener);
  }

  /** The error that failed the sink, if it failed. */
  get failed(): unknown {
    return this.failure;
  }

  /**
   * Accepts records (plain objects, coerced to the table schema) or an Arrow batch, with the
   * source positions after them. Resolves when accepted (buffered), not when committed.
   */
  write(input: readonly unknown[] | RecordBatch, positions?: Positions): Promise<void> {
    const run = this.writeChain.then(() => this.writeNow(input, positions));
    this.writeChain = run.catch(() => {});
    return run;
  }

  private async writeNow(input: readonly unknown[] | RecordBatch, positions?: Positions): Promise<void> {
    this.assertUsable();
    await this.waitForCapacity();
    const batch = Array.isArray(input) ? this.build(input as readonly unknown[]) : (input as RecordBatch);
    const epoch = this.openEpoch();
    if (batch && batch.numRows > 0) {
      const conformed = this.tw.conform(batch);
      await epoch.writer.write(conformed);
      const bytes = batchBytes(conformed);
      epoch.rows += conformed.numRows;
      epoch.bytes += bytes;
      this.metrics.rowsIn.inc(conformed.numRows);
      this.metrics.bytesIn.inc(bytes);
      this.collectEventTimes(epoch, conformed);
    }
    for (const [appId, version] of toMap(positions)) {
      const prev = epoch.positions.get(appId);
      if (prev === undefined || version > prev) epoch.positions.set(appId, version);
    }
    this.metrics.bufferedBytes.set(this.inflightBytes + epoch.bytes);
    if (
      epoch.rows >= (this.options.maxEpochRows ?? 1_000_000) ||
      epoch.bytes >= (this.options.maxEpochBytes ?? 64 * 1024 * 1024)
    ) {
      this.seal();
    }
  }

  private build(records: readonly unknown[]): RecordBatch | undefined {
    for (let i = 0; i < records.length; i++) {
      try {
        this.builder.append(records[i], { recordIndex: i });
      } catch (err) {
        if (!(err instanceof WeirError) || !this.options.onInvalidRecord) {
          this.builder.flush(); // drop this call's rows: the write is all-or-nothing
          throw err;
        }
        this.metrics.invalidRecords.inc();
        this.options.onInvalidRecord(records[i], err, i);
      }
    }
    return this.builder.numRows > 0 ? this.builder.flush() : undefined;
  }

  private collectEventTimes(epoch: Epoch, batch: RecordBatch): void {
    const column = this.options.eventTimeColumn;
    if (!column) return;
    const data = batch.getChild(column)?.data[0];
    if (!data) return;
    const values = data.values as BigInt64Array;
    for (let i = 0; i < data.length; i++)
      if (data.getValid(i)) epoch.eventTimesMs.push(Number(values[i]! / 1000n));
  }

  private openEpoch(): Epoch {
    if (!this.current) {
      this.current = {
        id: this.nextEpochId++,
        writer: this.tw.newFileWriter(),
        positions: new Map(),
        rows: 0,
        bytes: 0,
        eventTimesMs: [],
      };
    }
    return this.current;
  }

  private sealIfDue(): void {
    if (this.failure || this.closed) return;
    // Seal between writes, never in the middle of one.
    this.writeChain = this.writeChain.then(() => this.seal());
  }

  /** Seals the open epoch and schedules its commit after the previous one. */
  private seal(): void {
    const epoch = this.current;
    if (!epoch) return;
    this.current = undefined;
    if (epoch.rows === 0 && epoch.positions.size === 0) {
      void epoch.writer.abort();
      return;
    }
    this.inflightBytes += epoch.bytes;
    const previous = this.lastCommit;
    const sealed =
      this.options.pipelined === false ? previous.then(() => epoch.writer.close()) : epoch.writer.close();
    sealed.catch(() => {}); // surfaced through the commit chain
    const committed = Promise.all([previous, sealed]).then(([, adds]) => this.commitEpoch(epoch, adds));
    this.lastCommit = committed.catch((err: unknown) => this.fail(err));
  }

  private async commitEpoch(epoch: Epoch, adds: Awaited<ReturnType<DataFileWriter['close']>>): Promise<void> {
    if (this.failure) throw this.failure;
    const positions = new Map(epoch.positions);
    if (this.options.queryId) positions.set(this.options.queryId, this.nextBatchId);
    if (this.options.beforeCommit) await this.options.beforeCommit({ epoch: epoch.id, positions });
    const expectedPositions = new Map<string, number | undefined>();
    for (const appId of positions.keys())
      if (this.claims.has(appId)) expectedPositions.set(appId, this.claims.get(appId));
    const result: CommitResult = await this.tw.commit({
      adds,
      positions,
      ...(expectedPositions.size > 0 ? { expectedPositions } : {}),
      operation: this.options.operation ?? 'STREAMING UPDATE',
      operationParameters: {
        outputMode: 'Append',
        ...(this.options.queryId ? { queryId: this.options.queryId, epochId: String(this.nextBatchId) } : {}),
      },
    });
    if (this.options.queryId) this.nextBatchId++;
    for (const appId of expectedPositions.keys()) this.claims.set(appId, positions.get(appId));
    this.inflightBytes -= epoch.bytes;
    this.metrics.epochsCommitted.inc();
    this.metrics.filesPerCommit.observe(adds.length);
    for (const t of epoch.eventTimesMs)
      this.metrics.visibilityLatency.observe(Math.max(0, result.timestamp - t) / 1000);
    this.metrics.bufferedBytes.set(this.inflightBytes + (this.current?.bytes ?? 0));
    const event: EpochCommitted = {
      epoch: epoch.id,
      version: result.version,
      rows: epoch.rows,
      files: adds.length,
      timestamp: result.timestamp,
      positions,
    };
    for (const l of this.listeners) l(event);
    this.wake();
  }

  private fail(err: unknown): void {
    if (!this.failure) {
      this.failure = err;
      const listeners = this.failedListeners;
      this.failedListeners = [];
      for (const l of listeners) l(err);
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async waitForCapacity(): Promise<void> {
    const max = this.options.maxBufferedBytes ?? 256 * 1024 * 1024;
    while (!this.failure && this.inflightBytes + (this.current?.bytes ?? 0) > max) {
      // The open epoch alone is over budget: seal it so it can drain.
      if (this.current && this.current.bytes > 0 && this.inflightBytes === 0) this.seal();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.assertUsable();
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed)
      throw new WeirError('SINK_CLOSED', `${this.tw.table}: the sink is closed`, {
        details: { table: this.tw.table },
      });
  }

  /** Seals the open epoch and waits until everything written so far is committed. */
  async flush(): Promise<void> {
    await this.writeChain;
    this.assertUsableForFlush();
    this.seal();
    await this.lastCommit;
    if (this.failure) throw this.failure;
  }

  private assertUsableForFlush(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * Flushes and releases the sink: timers, background checkpoints, and a running
   * auto-compaction (aborted: its committed groups stay, the rest is left for VACUUM).
   */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      if (!this.closed) await this.flush();
    } finally {
      this.closed = true;
      await this.compaction?.stop();
      await this.tw.idle();
    }
  }

  /** Resolves when no background compaction is running (tests, demos). */
  async compactionIdle(): Promise<void> {
    await this.compaction?.idle();
  }

  /** The table writer (for the compaction scheduler and tests). */
  get tableWriter(): TableWriter {
    return this.tw;
  }
}

/** The sink's compaction scheduler, unless turned off. */
export function openCompaction(
  store: ObjectStore,
  options: Pick<ContinuousSinkOptions, 'autoCompaction' | 'onBackgroundError' | 'onCompaction' | 'now'>,
  metrics: SinkMetrics,
): CompactionScheduler | undefined {
  if (options.autoCompaction === false) return undefined;
  return new CompactionScheduler(store, options.autoCompaction ?? {}, {
    metrics,
    onError: (err) => options.onBackgroundError?.(err, 'compaction'),
    ...(options.onCompaction ? { onResult: options.onCompaction } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

/** The user's afterCommit hook followed by the compaction scheduler's. */
export function chainAfterCommit(
  user: TableWriterOptions['afterCommit'],
  compaction: CompactionScheduler | undefined,
): TableWriterOptions['afterCommit'] {
  if (!compaction) return user;
  return (result, snapshot) => {
    user?.(result, snapshot);
    compaction.afterCommit(snapshot);
  };
}
