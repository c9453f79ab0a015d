/**
 * JoinGroup (key 11) v0-5. Request: group, session timeout, rebalance timeout (v1+; v0 uses
 * the session timeout), member id (empty on first join), group instance id (v5+), protocol
 * type and the member's protocols with their metadata. Response: throttle time (v2+), error,
 * generation, chosen protocol, leader, member id and, for the leader only, every member's
 * metadata (with group instance id from v5).
 *
 * Invariants: v4+ first joins are answered MEMBER_ID_REQUIRED (79) with the new member id.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
}

export function decodeJoinGroupRequest(r: Reader, version: number): JoinGroupRequest {
  const groupId = r.string();
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = version >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string();
  const groupInstanceId = version >= 5 ? r.nullableString() : null;
  const protocolType = r.string();
  const protocols = r.array((r) => ({ name: r.string(), metadata: r.bytes() }));
  return {
    groupId,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    memberId,
    groupInstanceId,
    protocolType,
    protocols,
  };
}

export interface JoinGroupResponse {
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export function encodeJoinGroupResponse(version: number, res: JoinGroupResponse): Buffer[] {
  const w = new Writer(128);
  if (version >= 2) w.int32(0);
  w.int16(res.errorCode).int32(res.generationId).string(res.protocolName).string(res.leader);
  w.string(res.memberId);
  w.array(res.members, (w, m) => {
    w.string(m.memberId);
    if (version >= 5) w.nullableString(m.groupInstanceId);
    w.bytes(m.metadata);
  });
  return w.chunks();
}
