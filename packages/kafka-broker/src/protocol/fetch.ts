/**
 * Fetch (key 1) v4-11. Request: max wait, min bytes, max bytes (v3+), isolation level, fetch
 * session fields (v7+, always answered as "no session": session id 0), per partition the fetch
 * offset and a byte limit. Response: per partition error, high watermark, last stable offset,
 * log start offset (v5+), no aborted transactions, preferred read replica -1 (v11+) and the
 * stored record batches appended by reference.
 *
 * Invariants: record bytes are never re-encoded: the batches a partition returns are appended
 * to the response as the very buffers the log holds.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface FetchPartitionRequest {
  index: number;
  fetchOffset: number;
  maxBytes: number;
}

export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  topics: { name: string; partitions: FetchPartitionRequest[] }[];
}

export function decodeFetchRequest(r: Reader, version: number): FetchRequest {
  r.int32(); // replica id
  const maxWaitMs = r.int32();
  const minBytes = r.int32();
  const maxBytes = version >= 3 ? r.int32() : 0x7fffffff;
  const isolationLevel = version >= 4 ? r.int8() : 0;
  if (version >= 7) {
    r.int32(); // session id
    r.int32(); // session epoch
  }
  const topics = r.array((r) => ({
    name: r.string(),
    partitions: r.array((r) => {
      const index = r.int32();
      if (version >= 9) r.int32(); // current leader epoch
      const fetchOffset = r.int64();
      if (version >= 5) r.int64(); // log start offset (followers only)
      const maxBytes = r.int32();
      return { index, fetchOffset, maxBytes };
    }),
  }));
  if (version >= 7) r.array((r) => ({ name: r.string(), partitions: r.int32Array() })); // forgotten
  if (version >= 11) r.string(); // rack id
  return { maxWaitMs, minBytes, maxBytes, isolationLevel, topics };
}

export interface FetchPartitionResponse {
  index: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  /** Stored record batches, in offset order. */
  batches: readonly Buffer[];
  batchBytes: number;
}

export interface FetchTopicResponse {
  name: string;
  partitions: FetchPartitionResponse[];
}

export function encodeFetchResponse(version: number, topics: readonly FetchTopicResponse[]): Buffer[] {
  const w = new Writer(128 + topics.length * 96);
  w.int32(0); // throttle time (v1+)
  if (version >= 7) w.int16(0).int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name);
    w.array(t.partitions, (w, p) => {
      w.int32(p.index).int16(p.errorCode).int64(p.highWatermark).int64(p.highWatermark);
      if (version >= 5) w.int64(p.logStartOffset);
      w.int32(0); // aborted transactions: none
      if (version >= 11) w.int32(-1);
      w.int32(p.batchBytes);
      for (const b of p.batches) w.raw(b);
    });
  });
  return w.chunks();
}
