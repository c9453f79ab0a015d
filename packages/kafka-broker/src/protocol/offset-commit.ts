/**
 * OffsetCommit (key 8) v2-5. Request: group, generation, member id, retention time (v2-4,
 * ignored), per partition the offset and metadata. Response: throttle time (v3+) and per
 * partition an error code.
 *
 * Invariants: generation -1 with an empty member id is the "simple" (group-less) commit.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface OffsetCommitRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  topics: { name: string; partitions: { index: number; offset: number; metadata: string | null }[] }[];
}

export function decodeOffsetCommitRequest(r: Reader, version: number): OffsetCommitRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (version <= 4) r.int64(); // retention time
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), offset: r.int64(), metadata: r.nullableString() })),
  }));
  return { groupId, generationId, memberId, topics };
}

export function encodeOffsetCommitResponse(
  version: number,
  topics: readonly { name: string; partitions: { index: number; errorCode: number }[] }[],
): Buffer[] {
  const w = new Writer(128);
  if (version >= 3) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => w.int32(p.index).int16(p.errorCode));
  });
  return w.chunks();
}
