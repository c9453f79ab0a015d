/**
 * DescribeGroups (key 15) v0-2. Request: group ids. Response: throttle time (v1+) and per
 * group its error, state, protocol type, chosen protocol and members (client id, host,
 * metadata, assignment).
 *
 * Invariants: an unknown group is described as state "Dead" with no error, as Kafka does.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export function decodeDescribeGroupsRequest(r: Reader, _version: number): { groupIds: string[] } {
  return { groupIds: r.array((r) => r.string()) };
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
}

export function encodeDescribeGroupsResponse(version: number, groups: readonly DescribedGroup[]): Buffer[] {
  const w = new Writer(256);
  if (version >= 1) w.int32(0);
  w.array(groups, (w, g) => {
    w.int16(g.errorCode).string(g.groupId).string(g.state).string(g.protocolType).string(g.protocolData);
    w.array(g.members, (w, m) =>
      w.string(m.memberId).string(m.clientId).string(m.clientHost).bytes(m.metadata).bytes(m.assignment),
    );
  });
  return w.chunks();
}
