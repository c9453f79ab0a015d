/**
 * The dead-letter table writer: messages that could not be decoded or did not fit the table
 * schema are kept (raw bytes, error, topic/partition/offset) and committed to a second Delta
 * table *before* the main table commit whose positions cover them.
 *
 * Invariants:
 * - each dead-letter commit stores, per topic-partition, the position after the last dead
 *   letter it holds (`txn`); a pending dead letter below the stored position is already in the
 *   table (a replay after a crash or a rebalance) and is dropped, so every bad message lands
 *   exactly once whatever order the two tables' commits and crashes happen in;
 * - commits race other ingest processes only on the same topic-partition (a rebalance): a lost
 *   race re-reads the table, re-filters and retries.
 */
import { RecordBatchBuilder } from '@weir/delta';
import { type ObjectStore, WeirError } from '@weir/storage';
import { TableWriter } from '@weir/stream';
import { deadLetterRecord } from '../decode/dead-letter.js';
import { positionAppId, type SourceMessage } from '../source/message.js';

interface Pending {
  message: SourceMessage;
  error: WeirError;
  failedAt: number;
}

export class DeadLetterWriter {
  private pending: Pending[] = [];
  private committed = 0;

  private constructor(
    private readonly tw: TableWriter,
    private readonly appIdPrefix: string,
  ) {}

  static async open(store: ObjectStore, appIdPrefix: string): Promise<DeadLetterWriter> {
    return new DeadLetterWriter(await TableWriter.open(store), appIdPrefix);
  }

  get table(): string {
    return this.tw.table;
  }

  /** Dead letters committed by this writer. */
  get count(): number {
    return this.committed;
  }

  add(message: SourceMessage, error: WeirError): void {
    this.pending.push({ message, error, failedAt: Date.now() });
  }

  /** Drops pending dead letters of these partitions (their rows will be replayed). */
  discard(keep: (m: SourceMessage) => boolean = () => false): void {
    this.pending = this.pending.filter((p) => keep(p.message));
  }

  /** Commits every pending dead letter not already in the table. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    for (let attempt = 0; ; attempt++) {
      try {
        this.committed += await this.commitOnce(batch);
        return;
      } catch (err) {
        const lostRace =
          err instanceof WeirError && (err.code === 'COMMIT_CONFLICT' || err.code === 'POSITION_REGRESSION');
        if (!lostRace || attempt >= 10) {
          this.pending = batch.concat(this.pending);
          throw err;
        }
        await this.tw.refresh();
      }
    }
  }

  private async commitOnce(batch: readonly Pending[]): Promise<number> {
    const stored = this.tw.storedPositions(`${this.appIdPrefix}-`);
    const positions = new Map<string, number>();
    const fresh: Pending[] = [];
    for (const p of batch) {
      const appId = positionAppId(this.appIdPrefix, p.message.topic, p.message.partition);
      if (p.message.offset < (stored.get(appId) ?? -1)) continue;
      fresh.push(p);
      positions.set(appId, Math.max(positions.get(appId) ?? 0, p.message.offset + 1));
    }
    if (fresh.length === 0) return 0;
    const snapshot = this.tw.current();
    const builder = new RecordBatchBuilder(snapshot.schema, { table: snapshot.table });
    for (const p of fresh) builder.append(deadLetterRecord(p.message, p.error, p.failedAt));
    const writer = this.tw.newFileWriter();
    await writer.write(builder.flush());
    const adds = await writer.close();
    await this.tw.commit({
      adds,
      positions,
      operation: 'STREAMING UPDATE',
      operationParameters: { outputMode: 'Append' },
    });
    return fresh.length;
  }

  async close(): Promise<void> {
    await this.tw.idle();
  }
}
