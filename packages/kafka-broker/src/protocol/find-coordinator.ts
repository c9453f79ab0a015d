/**
 * FindCoordinator (key 10) v0-2. Request: key (group id) and, from v1, key type. Response: the
 * coordinator's node id, host and port (always this broker) with throttle time and error
 * message from v1.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export interface FindCoordinatorRequest {
  key: string;
  keyType: number;
}

export function decodeFindCoordinatorRequest(r: Reader, version: number): FindCoordinatorRequest {
  const key = r.string();
  const keyType = version >= 1 ? r.int8() : 0;
  return { key, keyType };
}

export function encodeFindCoordinatorResponse(
  version: number,
  res: { errorCode: number; nodeId: number; host: string; port: number },
): Buffer[] {
  const w = new Writer(64);
  if (version >= 1) w.int32(0);
  w.int16(res.errorCode);
  if (version >= 1) w.nullableString(null);
  w.int32(res.nodeId).string(res.host).int32(res.port);
  return w.chunks();
}
