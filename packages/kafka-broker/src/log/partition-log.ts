/**
 * One partition's log in memory: stored record batches (verbatim bytes, base offset
 * rewritten), the log start offset and the high watermark, with offset lookup for Fetch and
 * ListOffsets and head deletion for retention.
 *
 * Invariants: batches are contiguous and ordered: batch i+1's base offset is batch i's
 * `nextOffset`; `highWatermark` is the last batch's `nextOffset` (or the log start offset when
 * empty); `logStartOffset` is the first live batch's base offset; reads return whole batches,
 * starting with the one that contains the requested offset, never copying them. Synchronous and
 * IO-free (persistence is the broker's job).
 */
import { ProducerStates } from './producer-state.js';
import { BATCH_LOG_OVERHEAD, setBaseOffset } from './record-batch.js';
import { firstRecordAtOrAfter } from './record-timestamps.js';
import { type RetentionPolicy, selectRetention } from './retention.js';

export interface StoredBatch {
  readonly buf: Buffer;
  readonly baseOffset: number;
  /** Offset after the batch's last record. */
  readonly nextOffset: number;
  readonly bytes: number;
  readonly appendedAt: number;
}

export interface ReadResult {
  batches: Buffer[];
  bytes: number;
}

const EMPTY: ReadResult = { batches: [], bytes: 0 };
const COMPACT_AT = 1024;

export class PartitionLog {
  private batches: StoredBatch[] = [];
  private head = 0;
  private start: number;
  private end: number;
  private size = 0;
  readonly producers = new ProducerStates();

  constructor(
    readonly topic: string,
    readonly index: number,
    logStartOffset = 0,
  ) {
    this.start = logStartOffset;
    this.end = logStartOffset;
  }

  get logStartOffset(): number {
    return this.start;
  }

  get highWatermark(): number {
    return this.end;
  }

  get sizeBytes(): number {
    return this.size;
  }

  get batchCount(): number {
    return this.batches.length - this.head;
  }

  /** Appends a produced batch: rewrites its base offset to the high watermark; returns it. */
  append(batch: Buffer, lastOffsetDelta: number, now: number): number {
    const baseOffset = this.end;
    setBaseOffset(batch, baseOffset);
    this.push(batch, baseOffset, baseOffset + lastOffsetDelta + 1, now);
    return baseOffset;
  }

  /** Adds a batch read back from disk (its base offset is already right). */
  restore(batch: Buffer, baseOffset: number, lastOffsetDelta: number, now: number): void {
    if (this.batchCount === 0) {
      this.start = baseOffset;
      this.end = baseOffset;
    }
    if (baseOffset !== this.end) throw new RangeError(`batch at ${baseOffset} does not follow ${this.end}`);
    this.push(batch, baseOffset, baseOffset + lastOffsetDelta + 1, now);
  }

  private push(buf: Buffer, baseOffset: number, nextOffset: number, now: number): void {
    this.batches.push({ buf, baseOffset, nextOffset, bytes: buf.length, appendedAt: now });
    this.end = nextOffset;
    this.size += buf.length;
  }

  /** Index of the live batch containing `offset` (start <= offset < end), by binary search. */
  private indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.batches[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Whole batches from the one containing `offset`, up to `maxBytes` in all; the first batch
   * only has to fit in `firstBatchMaxBytes` (Infinity: always at least one batch, as KIP-74 asks
   * for the first partition of a fetch). Outside [start, end) nothing is returned.
   */
  read(offset: number, maxBytes: number, firstBatchMaxBytes = maxBytes): ReadResult {
    if (offset >= this.end || offset < this.start || this.batchCount === 0) return EMPTY;
    const batches: Buffer[] = [];
    let bytes = 0;
    for (let i = this.indexOf(offset); i < this.batches.length; i++) {
      const b = this.batches[i]!;
      if (batches.length === 0 ? b.bytes > firstBatchMaxBytes : bytes + b.bytes > maxBytes) break;
      batches.push(b.buf);
      bytes += b.bytes;
    }
    return batches.length === 0 ? EMPTY : { batches, bytes };
  }

  /** The first record with timestamp >= ts, or null when every record is older. */
  offsetForTimestamp(ts: number): { offset: number; timestamp: number } | null {
    for (let i = this.head; i < this.batches.length; i++) {
      const b = this.batches[i]!;
      if (b.buf.length < BATCH_LOG_OVERHEAD + 49) continue;
      const maxTs = b.buf.readInt32BE(35) * 4294967296 + b.buf.readUInt32BE(39);
      if (maxTs < ts) continue;
      const hit = firstRecordAtOrAfter(b.buf, ts);
      if (hit !== null) return hit;
    }
    return null;
  }

  /** Deletes head batches as the policy says; returns what was deleted. */
  applyRetention(now: number, policy: RetentionPolicy): { batches: number; bytes: number; records: number } {
    const n = selectRetention(this.batches, this.head, this.size, now, policy);
    if (n === 0) return { batches: 0, bytes: 0, records: 0 };
    let bytes = 0;
    const from = this.start;
    for (let i = 0; i < n; i++) bytes += this.batches[this.head + i]!.bytes;
    this.head += n;
    this.size -= bytes;
    this.start = this.batches[this.head]!.baseOffset;
    if (this.head >= COMPACT_AT && this.head * 2 >= this.batches.length) {
      this.batches = this.batches.slice(this.head);
      this.head = 0;
    }
    return { batches: n, bytes, records: this.start - from };
  }

  /** Live batches, oldest first (for persistence compaction). */
  liveBatches(): StoredBatch[] {
    return this.batches.slice(this.head);
  }
}
