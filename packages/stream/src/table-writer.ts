/**
 * The one table writer under both sink faces. It owns the writer's view of the table (a
 * snapshot advanced by its own commits without re-reading the log, refreshed when others
 * commit), turns Arrow batches into data files, and commits files together with source
 * positions (`txn` actions) in one atomic step.
 *
 * Invariants:
 * - commits are made one at a time, in call order (callers chain them);
 * - a position (appId -> version) is committed only together with the data up to it, and
 *   never goes backwards: a stored version >= the new one means another writer owns that
 *   source partition, and the commit fails loudly (POSITION_REGRESSION);
 * - post-commit work (checkpoints, expired log cleanup, compaction hooks) runs off the commit path and never
 *   fails or delays a commit.
 */

import {
  type AddAction,
  CommitConflictError,
  type CommitResult,
  checkpointInterval,
  cleanupExpiredLogs,
  conformForWrite,
  DataFileWriter,
  expiredLogCleanupEnabled,
  loadSnapshot,
  type Snapshot,
  Transaction,
  writeCheckpoint,
} from '@weir/delta';
import { type ObjectStore, WeirError } from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';
import type { SinkMetrics } from './metrics.js';

export interface TableWriterOptions {
  /** Compression of data files (default zstd). */
  compression?: 'zstd' | 'snappy' | 'uncompressed';
  /** Called after each commit, off the commit path (auto-compaction hooks). */
  afterCommit?: ((result: CommitResult, snapshot: Snapshot) => void) | undefined;
  /** Errors of background work (checkpoints, hooks); they never fail a commit. */
  onBackgroundError?: (err: unknown, what: string) => void;
  metrics?: SinkMetrics;
  now?: () => number;
}

export interface CommitRequest {
  adds: readonly AddAction[];
  /** Source positions: appId -> version (the position after the last row included). */
  positions?: ReadonlyMap<string, number>;
  operation: string;
  operationParameters?: Record<string, unknown>;
  /**
   * Compare-and-set on positions: for each appId here, the table must currently store exactly
   * this version (`undefined`: no position stored yet), or the commit fails with
   * POSITION_CONFLICT. A source that resumed from `storedPositions` passes what it resumed
   * from, so a writer that lost a source partition to another (a rebalance) can never commit
   * rows the new owner also writes.
   */
  expectedPositions?: ReadonlyMap<string, number | undefined>;
  /** Replace the table's contents (complete output mode). */
  replaceAll?: boolean;
}

export class TableWriter {
  readonly store: ObjectStore;
  private snapshot: Snapshot;
  private readonly options: TableWriterOptions;
  private checkpointing: Promise<void> = Promise.resolve();
  private checkpointPending = false;

  private constructor(store: ObjectStore, snapshot: Snapshot, options: TableWriterOptions) {
    this.store = store;
    this.snapshot = snapshot;
    this.options = options;
  }

  /** Opens a writer on an existing table (create it first with createTable / writeTable). */
  static async open(store: ObjectStore, options: TableWriterOptions = {}): Promise<TableWriter> {
    return new TableWriter(store, await loadSnapshot(store), options);
  }

  get table(): string {
    return this.snapshot.table;
  }

  current(): Snapshot {
    return this.snapshot;
  }

  async refresh(): Promise<Snapshot> {
    this.snapshot = await this.snapshot.refresh(this.store);
    return this.snapshot;
  }

  /** A data-file writer for the table's current schema and partitioning. */
  newFileWriter(): DataFileWriter {
    const s = this.snapshot;
    return new DataFileWriter(this.store, {
      table: s.table,
      schema: s.schema,
      partitionColumns: s.partitionColumns,
      configuration: s.configuration,
      dataChange: true,
      ...(this.options.compression ? { compression: this.options.compression } : {}),
    });
  }

  /** Shapes an input batch to the table schema (types, order, nullability). */
  conform(batch: RecordBatch): RecordBatch {
    return conformForWrite(batch, this.snapshot.schema, this.snapshot.table);
  }

  /** Committed positions whose appId starts with `prefix`. */
  storedPositions(prefix = ''): Map<string, number> {
    const out = new Map<string, number>();
    for (const [appId, txn] of this.snapshot.appTransactions()) {
      if (appId.startsWith(prefix)) out.set(appId, txn.version);
    }
    return out;
  }

  /** Commits files and positions as one version. */
  async commit(request: CommitRequest): Promise<CommitResult> {
    const started = performance.now();
    const base = this.snapshot;
    const txn = new Transaction(this.store, base, {
      operation: request.operation,
      ...(request.operationParameters ? { operationParameters: request.operationParameters } : {}),
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    for (const [appId, expected] of request.expectedPositions ?? []) {
      const stored = txn.readAppTransaction(appId);
      if (stored !== expected) throw positionConflict(base.table, appId, stored, expected);
    }
    for (const [appId, version] of request.positions ?? []) {
      const stored = txn.readAppTransaction(appId);
      if (stored !== undefined && stored >= version) {
        throw new WeirError(
          'POSITION_REGRESSION',
          `${base.table}: source position ${appId} is already at ${stored} in the table; refusing to commit ${version} (another writer owns it, or the source replayed without resuming from storedPositions)`,
          { details: { table: base.table, appId, stored, attempted: version } },
        );
      }
      txn.setAppTransaction(appId, version);
    }
    if (request.replaceAll) txn.readsWholeTable().removeAdds(base.files());
    txn.addFiles(request.adds);
    let result: CommitResult;
    try {
      result = await txn.commit();
    } catch (err) {
      // Another writer committed a position this commit also sets: with compare-and-set
      // positions that is a lost source partition, reported as such.
      const appId = err instanceof CommitConflictError ? String(err.details.subject ?? '') : '';
      if (err instanceof CommitConflictError && request.expectedPositions?.has(appId)) {
        const now = await this.refresh();
        throw positionConflict(
          base.table,
          appId,
          now.appTransactionVersion(appId),
          request.expectedPositions.get(appId),
        );
      }
      throw err;
    }
    // Our own commit on top of what we knew: apply it locally; otherwise re-read the log.
    this.snapshot =
      result.rebasedOver.length === 0
        ? base.withCommit(result.version, result.actions, result.timestamp)
        : await base.refresh(this.store);
    this.options.metrics?.commitLatency.observe((performance.now() - started) / 1000);
    this.afterCommit(result);
    return result;
  }

  private afterCommit(result: CommitResult): void {
    const interval = checkpointInterval(this.snapshot.configuration);
    if (result.version % interval === 0 && !this.checkpointPending) {
      this.checkpointPending = true;
      const at = this.snapshot;
      this.checkpointing = this.checkpointing
        .then(() => writeCheckpoint(this.store, at))
        // Expired log cleanup runs only below a fresh checkpoint, as Delta does.
        .then(() => (expiredLogCleanupEnabled(at.configuration) ? cleanupExpiredLogs(this.store) : undefined))
        .then(() => undefined)
        .catch((err: unknown) => this.options.onBackgroundError?.(err, 'checkpoint'))
        .finally(() => {
          this.checkpointPending = false;
        });
    }
    if (this.options.afterCommit) {
      try {
        this.options.afterCommit(result, this.snapshot);
      } catch (err) {
        this.options.onBackgroundError?.(err, 'afterCommit');
      }
    }
  }

  /** Waits for background checkpoints (for close and tests). */
  async idle(): Promise<void> {
    await this.checkpointing;
  }
}

function positionConflict(
  table: string,
  appId: string,
  stored: number | undefined,
  expected: number | undefined,
): WeirError {
  return new WeirError(
    'POSITION_CONFLICT',
    `${table}: source position ${appId} is ${stored ?? 'not stored'} in the table, but this writer resumed from ${expected ?? 'nothing stored'} (another writer took over that source partition)`,
    { details: { table, appId, stored: stored ?? null, expected: expected ?? null } },
  );
}
