/**
 * Produce (key 0) v3-7 (record batch v2 only). Request: transactional id, acks, timeout, and per
 * topic-partition the raw record set (one or more record batches, kept as a view into the
 * request frame). Response: per partition error, base offset, log append time (always -1: the
 * broker keeps CreateTime) and log start offset (v5+).
 *
 * Invariants: the decoder does not parse the record sets (see log/record-batch.ts); with acks=0
 * the broker sends no response at all.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface ProducePartitionData {
  index: number;
  records: Buffer | null;
}

export interface ProduceRequest {
  transactionalId: string | null;
  acks: number;
  timeoutMs: number;
  topics: { name: string; partitions: ProducePartitionData[] }[];
}

export function decodeProduceRequest(r: Reader, _version: number): ProduceRequest {
  const transactionalId = r.nullableString();
  const acks = r.int16();
  const timeoutMs = r.int32();
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
  }));
  return { transactionalId, acks, timeoutMs, topics };
}

export interface ProducePartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
}

export interface ProduceTopicResponse {
  name: string;
  partitions: ProducePartitionResponse[];
}

export function encodeProduceResponse(version: number, topics: readonly ProduceTopicResponse[]): Buffer[] {
  const w = new Writer(64 + topics.length * 64);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.errorCode).int64(p.baseOffset).int64(-1);
      if (version >= 5) w.int64(p.logStartOffset);
    });
  });
  w.int32(0);
  return w.chunks();
}
