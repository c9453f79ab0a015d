/**
 * LeaveGroup (key 13) v0-3. Request: group and one member id (v0-2) or a list of members with
 * group instance ids (v3). Response: throttle time (v1+), a top-level error and, from v3, an
 * error per member.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface LeaveGroupRequest {
  groupId: string;
  members: { memberId: string; groupInstanceId: string | null }[];
}

export function decodeLeaveGroupRequest(r: Reader, version: number): LeaveGroupRequest {
  const groupId = r.string();
  if (version < 3) return { groupId, members: [{ memberId: r.string(), groupInstanceId: null }] };
  const members = r.array((r) => ({ memberId: r.string(), groupInstanceId: r.nullableString() }));
  return { groupId, members };
}

export function encodeLeaveGroupResponse(
  version: number,
  errorCode: number,
  members: readonly { memberId: string; groupInstanceId: string | null; errorCode: number }[],
): Buffer[] {
  const w = new Writer(64);
  if (version >= 1) w.int32(0);
  w.int16(errorCode);
  if (version >= 3) {
    w.array(members, (w, m) => w.string(m.memberId).nullableString(m.groupInstanceId).int16(m.errorCode));
  }
  return w.chunks();
}
