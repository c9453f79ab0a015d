/**
 * Retention selection: given a partition's live batches (oldest first), how many leading
 * batches a retention policy deletes. Pure and synchronous; the log applies the result and the
 * broker logs every deletion (nothing is dropped silently).
 *
 * Invariants: the default policy (no limits) deletes nothing; only whole batches from the head
 * are deleted; the newest batch is never deleted, so the high watermark and the latest
 * timestamp stay meaningful; age is measured from the time the broker appended a batch, not
 * from record timestamps (a producer replaying old events must not lose them on arrival).
 */

export interface RetentionPolicy {
  /** Keep at most this many bytes of batches per partition (oldest deleted first). */
  maxBytes?: number;
  /** Delete batches appended longer ago than this. */
  maxAgeMs?: number;
}

export interface RetainedBatch {
  readonly bytes: number;
  readonly appendedAt: number;
}

export function selectRetention(
  batches: readonly RetainedBatch[],
  start: number,
  totalBytes: number,
  now: number,
  policy: RetentionPolicy,
): number {
  const { maxBytes, maxAgeMs } = policy;
  if (maxBytes === undefined && maxAgeMs === undefined) return 0;
  let drop = 0;
  let bytes = totalBytes;
  const last = batches.length - 1;
  for (let i = start; i < last; i++) {
    const b = batches[i]!;
    const tooBig = maxBytes !== undefined && bytes > maxBytes;
    const tooOld = maxAgeMs !== undefined && now - b.appendedAt > maxAgeMs;
    if (!tooBig && !tooOld) break;
    drop++;
    bytes -= b.bytes;
  }
  return drop;
}
