/**
 * Heartbeat (key 12) v0-3. Request: group, generation, member id, group instance id (v3+).
 * Response: throttle time (v1+) and error.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
}

export function decodeHeartbeatRequest(r: Reader, version: number): HeartbeatRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (version >= 3) r.nullableString();
  return { groupId, generationId, memberId };
}

export function encodeHeartbeatResponse(version: number, errorCode: number): Buffer[] {
  const w = new Writer(8);
  if (version >= 1) w.int32(0);
  w.int16(errorCode);
  return w.chunks();
}
