/**
 * ListGroups (key 16) v0-2. The request body is empty in these versions. Response: throttle
 * time (v1+), error and every group's id and protocol type.
 */
import { Writer } from './writer.js';

export function encodeListGroupsResponse(
  version: number,
  groups: readonly { groupId: string; protocolType: string }[],
): Buffer[] {
  const w = new Writer(128);
  if (version >= 1) w.int32(0);
  w.int16(0);
  w.array(groups, (w, g) => w.string(g.groupId).string(g.protocolType));
  return w.chunks();
}
