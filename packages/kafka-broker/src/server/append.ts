/**
 * The produce path of one partition: validates a produced record set (batch framing, magic,
 * CRC, no control batches, record count consistent with the offset delta), applies the
 * idempotent-producer rules (duplicates answered with their original offset, sequence gaps and
 * fenced epochs refused) and appends the new batches to the partition log.
 *
 * Invariants: a record set with any malformed batch is refused whole before anything is
 * appended; stored batches are the produced bytes (only baseOffset rewritten), copied out of the
 * request only when they are a small view of a big socket chunk; synchronous and IO-free
 * (persisting and waking fetches is the broker's job, from `appended`).
 */
import { KafkaErrorCode } from '../errors.js';
import type { PartitionLog } from '../log/partition-log.js';
import { lastSequence } from '../log/producer-state.js';
import { isControl, readBatchHeader, scanBatches } from '../log/record-batch.js';

export interface AppendResult {
  /** Base offset of the first batch (appended or duplicate); -1 when nothing was accepted. */
  baseOffset: number;
  /** The batches appended, as stored. */
  appended: Buffer[];
  /** Batches recognised as retries of already stored ones (not appended again). */
  duplicates: number;
  /** Why the record set (or, for a sequence error, the rest of it) was refused. */
  rejected?: { errorCode: number; reason: string };
}

function copyIfShared(batch: Buffer): Buffer {
  // A view into a much larger socket chunk would keep the whole chunk alive: copy it.
  return batch.buffer.byteLength > batch.length * 2 ? Buffer.from(batch) : batch;
}

export function appendRecords(
  log: PartitionLog,
  records: Buffer | null,
  options: { verifyCrc: boolean; now: number },
): AppendResult {
  const refuse = (errorCode: number, reason: string): AppendResult => ({
    baseOffset: -1,
    appended: [],
    duplicates: 0,
    rejected: { errorCode, reason },
  });
  if (records === null || records.length === 0)
    return refuse(KafkaErrorCode.CORRUPT_MESSAGE, 'empty record set');
  const scan = scanBatches(records, options.verifyCrc);
  if (scan.error !== undefined) return refuse(scan.error.errorCode, scan.error.reason);
  const headers = scan.batches.map(readBatchHeader);
  for (const h of headers) {
    if (isControl(h.attributes))
      return refuse(KafkaErrorCode.INVALID_RECORD, 'control batches cannot be produced');
    if (h.recordCount !== h.lastOffsetDelta + 1) {
      return refuse(
        KafkaErrorCode.INVALID_RECORD,
        `record count ${h.recordCount} does not match last offset delta ${h.lastOffsetDelta}`,
      );
    }
  }
  const result: AppendResult = { baseOffset: -1, appended: [], duplicates: 0 };
  scan.batches.forEach((batch, i) => {
    if (result.rejected !== undefined) return;
    const h = headers[i]!;
    let lastSeq = 0;
    if (h.producerId >= 0) {
      lastSeq = lastSequence(h.baseSequence, h.lastOffsetDelta);
      const verdict = log.producers.check(h.producerId, h.producerEpoch, h.baseSequence, lastSeq);
      if (verdict.kind === 'reject') {
        result.rejected = {
          errorCode: verdict.errorCode,
          reason: `sequence ${h.baseSequence} of producer ${h.producerId} epoch ${h.producerEpoch} refused`,
        };
        return;
      }
      if (verdict.kind === 'duplicate') {
        result.duplicates++;
        if (result.baseOffset < 0) result.baseOffset = verdict.baseOffset;
        return;
      }
    }
    const stored = copyIfShared(batch);
    const base = log.append(stored, h.lastOffsetDelta, options.now);
    if (h.producerId >= 0) log.producers.record(h.producerId, h.producerEpoch, h.baseSequence, lastSeq, base);
    result.appended.push(stored);
    if (result.baseOffset < 0) result.baseOffset = base;
  });
  return result;
}
