/**
 * Idempotent-producer state of one partition: per producer id, its epoch, last sequence and
 * the last five batches appended (to answer a retried batch with its original offset).
 *
 * Rules: an unknown producer starts at whatever sequence it sends (so a producer that outlives
 * a broker restart keeps working); a lower epoch is fenced (INVALID_PRODUCER_EPOCH); a higher
 * epoch must start at sequence 0; within an epoch a batch must start right after the last
 * sequence (wrapping at 2^31) or repeat one of the last five batches exactly (a duplicate: not
 * appended, answered with its original base offset); anything else is
 * OUT_OF_ORDER_SEQUENCE_NUMBER. Pure and synchronous.
 */
import { KafkaErrorCode } from '../errors.js';

const SEQ_MOD = 2 ** 31;
const RECENT = 5;

interface RecentBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
}

interface ProducerEntry {
  epoch: number;
  lastSeq: number;
  recent: RecentBatch[];
}

export type SequenceVerdict =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'reject'; errorCode: number };

export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  return (baseSequence + lastOffsetDelta) % SEQ_MOD;
}

export class ProducerStates {
  private readonly producers = new Map<number, ProducerEntry>();

  get size(): number {
    return this.producers.size;
  }

  check(producerId: number, epoch: number, firstSeq: number, lastSeq: number): SequenceVerdict {
    const e = this.producers.get(producerId);
    if (e === undefined) return { kind: 'append' };
    if (epoch < e.epoch) return { kind: 'reject', errorCode: KafkaErrorCode.INVALID_PRODUCER_EPOCH };
    if (epoch > e.epoch) {
      return firstSeq === 0
        ? { kind: 'append' }
        : { kind: 'reject', errorCode: KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
    }
    for (const r of e.recent) {
      if (r.firstSeq === firstSeq && r.lastSeq === lastSeq)
        return { kind: 'duplicate', baseOffset: r.baseOffset };
    }
    if (firstSeq === (e.lastSeq + 1) % SEQ_MOD) return { kind: 'append' };
    return { kind: 'reject', errorCode: KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
  }

  /** Records an appended batch (call only after `check` said append). */
  record(producerId: number, epoch: number, firstSeq: number, lastSeq: number, baseOffset: number): void {
    let e = this.producers.get(producerId);
    if (e === undefined || e.epoch !== epoch) {
      e = { epoch, lastSeq, recent: [] };
      this.producers.set(producerId, e);
    }
    e.lastSeq = lastSeq;
    e.recent.push({ firstSeq, lastSeq, baseOffset });
    if (e.recent.length > RECENT) e.recent.shift();
  }
}
