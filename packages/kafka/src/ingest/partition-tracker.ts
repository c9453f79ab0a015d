/**
 * Which topic-partitions this process owns, and for each where the table says it resumes and
 * the next offset it expects. Pure bookkeeping, no IO: the ingest asks it what to do with each
 * fetched batch.
 *
 * Invariants:
 * - a partition is owned between `assign` and `revoke`; batches of partitions not owned are
 *   dropped whole (a late fetch after a rebalance);
 * - `next` only moves forward, by admitting messages in offset order: messages below it were
 *   already admitted (or are in the table) and are dropped, so a replay never writes twice;
 * - a batch that starts past `next` is a gap the client should not produce (its seek to the
 *   stored position did not apply yet): it is dropped and a seek back to `next` is asked for, up
 *   to `maxGapSeeks` times in a row; after that the gap is taken as real (a compacted topic or
 *   transaction markers) and the batch is admitted;
 * - `resumedFrom` is the table's stored position when the partition was assigned (undefined:
 *   none); it is what the sink's compare-and-set claim must say.
 */
import { type TopicPartition, tpKey } from '../source/consumer.js';
import type { SourceMessage } from '../source/message.js';

export interface PartitionState extends TopicPartition {
  next: number;
  resumedFrom: number | undefined;
  gapSeeks: number;
  highWatermark: number | undefined;
}

export type Admission =
  | { kind: 'admit'; messages: SourceMessage[]; gap?: { expected: number; first: number } }
  | { kind: 'drop'; reason: 'not-owned' | 'duplicate' }
  | { kind: 'seek'; offset: number; first: number };

export class PartitionTracker {
  private readonly states = new Map<string, PartitionState>();

  constructor(private readonly maxGapSeeks = 3) {}

  assign(tp: TopicPartition, start: number, resumedFrom: number | undefined): void {
    const key = tpKey(tp.topic, tp.partition);
    const prev = this.states.get(key);
    this.states.set(key, {
      topic: tp.topic,
      partition: tp.partition,
      next: start,
      resumedFrom,
      gapSeeks: 0,
      highWatermark: prev?.highWatermark,
    });
  }

  revoke(tp: TopicPartition): void {
    this.states.delete(tpKey(tp.topic, tp.partition));
  }

  get(tp: TopicPartition): PartitionState | undefined {
    return this.states.get(tpKey(tp.topic, tp.partition));
  }

  owned(): PartitionState[] {
    return [...this.states.values()];
  }

  clear(): void {
    this.states.clear();
  }

  setHighWatermark(tp: TopicPartition, hw: number | undefined): void {
    const s = this.get(tp);
    if (s && hw !== undefined) s.highWatermark = hw;
  }

  /** What to do with a fetched batch (messages in offset order). */
  admit(tp: TopicPartition, messages: readonly SourceMessage[]): Admission {
    const s = this.get(tp);
    if (!s) return { kind: 'drop', reason: 'not-owned' };
    let i = 0;
    while (i < messages.length && messages[i]!.offset < s.next) i++;
    if (i === messages.length) return { kind: 'drop', reason: 'duplicate' };
    const first = messages[i]!.offset;
    let gap: { expected: number; first: number } | undefined;
    if (first > s.next) {
      if (s.gapSeeks < this.maxGapSeeks) {
        s.gapSeeks++;
        return { kind: 'seek', offset: s.next, first };
      }
      gap = { expected: s.next, first };
    }
    const admitted = messages.slice(i);
    s.next = admitted[admitted.length - 1]!.offset + 1;
    s.gapSeeks = 0;
    return gap ? { kind: 'admit', messages: admitted, gap } : { kind: 'admit', messages: admitted };
  }
}
