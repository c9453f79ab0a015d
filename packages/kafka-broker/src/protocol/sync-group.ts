/**
 * SyncGroup (key 14) v0-3. Request: group, generation, member id, group instance id (v3+) and,
 * from the leader, every member's assignment. Response: throttle time (v1+), error and this
 * member's assignment.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  assignments: { memberId: string; assignment: Buffer }[];
}

export function decodeSyncGroupRequest(r: Reader, version: number): SyncGroupRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (version >= 3) r.nullableString();
  const assignments = r.array((r) => ({ memberId: r.string(), assignment: r.bytes() }));
  return { groupId, generationId, memberId, assignments };
}

export function encodeSyncGroupResponse(
  version: number,
  res: { errorCode: number; assignment: Buffer },
): Buffer[] {
  const w = new Writer(64 + res.assignment.length);
  if (version >= 1) w.int32(0);
  w.int16(res.errorCode).bytes(res.assignment);
  return w.chunks();
}
