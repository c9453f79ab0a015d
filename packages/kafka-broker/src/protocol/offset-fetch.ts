/**
 * OffsetFetch (key 9) v1-4. Request: group and topics (null = every committed partition, v2+).
 * Response: throttle time (v3+), per partition the committed offset (-1 if none), metadata and
 * error, then a top-level error (v2+).
 *
 * Invariants: an unknown partition is offset -1 with no error, as Kafka answers.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface OffsetFetchRequest {
  groupId: string;
  topics: { name: string; partitions: number[] }[] | null;
}

export function decodeOffsetFetchRequest(r: Reader, _version: number): OffsetFetchRequest {
  const groupId = r.string();
  const topics = r.nullableArray((r) => ({ name: r.string(), partitions: r.int32Array() }));
  return { groupId, topics };
}

export interface OffsetFetchPartition {
  index: number;
  offset: number;
  metadata: string | null;
  errorCode: number;
}

export function encodeOffsetFetchResponse(
  version: number,
  topics: readonly { name: string; partitions: OffsetFetchPartition[] }[],
  errorCode: number,
): Buffer[] {
  const w = new Writer(128);
  if (version >= 3) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) =>
      w.int32(p.index).int64(p.offset).nullableString(p.metadata).int16(p.errorCode),
    );
  });
  if (version >= 2) w.int16(errorCode);
  return w.chunks();
}
