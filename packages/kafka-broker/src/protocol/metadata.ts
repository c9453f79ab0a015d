/**
 * Metadata (key 3) v1-6. Request: topics (null = all topics, v1+) and, from v4, whether the
 * broker may auto-create the named topics. Response: one broker (this one), cluster id (v2+),
 * controller id (this broker), topics with their partitions, all led by this broker.
 *
 * Invariants: leader epochs do not exist below v7, so none are written (clients then skip
 * OffsetForLeaderEpoch); replicas and ISR are always `[nodeId]`.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface MetadataRequest {
  /** null: every topic. */
  topics: string[] | null;
  allowAutoTopicCreation: boolean;
}

export function decodeMetadataRequest(r: Reader, version: number): MetadataRequest {
  const topics = r.nullableArray((r) => r.string());
  const allowAutoTopicCreation = version >= 4 ? r.bool() : true;
  return { topics, allowAutoTopicCreation };
}

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface MetadataTopic {
  errorCode: number;
  name: string;
  partitions: { errorCode: number; index: number; leader: number }[];
}

export interface MetadataResponse {
  brokers: MetadataBroker[];
  clusterId: string | null;
  controllerId: number;
  topics: MetadataTopic[];
}

export function encodeMetadataResponse(version: number, res: MetadataResponse): Buffer[] {
  const w = new Writer(256);
  if (version >= 3) w.int32(0);
  w.array(res.brokers, (w, b) => w.int32(b.nodeId).string(b.host).int32(b.port).nullableString(null));
  if (version >= 2) w.nullableString(res.clusterId);
  w.int32(res.controllerId);
  w.array(res.topics, (w, t) => {
    w.int16(t.errorCode).string(t.name).bool(false);
    w.array(t.partitions, (w, p) => {
      w.int16(p.errorCode).int32(p.index).int32(p.leader);
      const replicas = p.leader >= 0 ? [p.leader] : [];
      w.int32Array(replicas).int32Array(replicas);
      if (version >= 5) w.int32Array([]);
    });
  });
  return w.chunks();
}
