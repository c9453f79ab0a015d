/**
 * CreateTopics (key 19) v0-4. Request: per topic the partition count and replication factor
 * (-1 = broker default), manual assignments and configs, then timeout and validate-only (v1+).
 * Response: throttle time (v2+), per topic error and error message (v1+). v4 has v3's layout; it
 * only allows -1 defaults without assignments (librdkafka needs v4 to send them).
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export interface CreateTopicsRequest {
  topics: CreatableTopic[];
  timeoutMs: number;
  validateOnly: boolean;
}

export function decodeCreateTopicsRequest(r: Reader, version: number): CreateTopicsRequest {
  const topics = r.array((r) => ({
    name: r.string(),
    numPartitions: r.int32(),
    replicationFactor: r.int16(),
    assignments: r.array((r) => ({ partitionIndex: r.int32(), brokerIds: r.int32Array() })),
    configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
  }));
  const timeoutMs = r.int32();
  const validateOnly = version >= 1 ? r.bool() : false;
  return { topics, timeoutMs, validateOnly };
}

export function encodeCreateTopicsResponse(
  version: number,
  topics: readonly { name: string; errorCode: number; errorMessage: string | null }[],
): Buffer[] {
  const w = new Writer(128);
  if (version >= 2) w.int32(0);
  w.array(topics, (w, t) => {
    w.string(t.name).int16(t.errorCode);
    if (version >= 1) w.nullableString(t.errorMessage);
  });
  return w.chunks();
}
