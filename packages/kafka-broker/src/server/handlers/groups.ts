/**
 * Handlers of the consumer-group APIs: JoinGroup and SyncGroup (parked until the rebalance
 * resolves), Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups and ListGroups.
 *
 * Invariants: membership and generation rules live in groups/group.ts; offsets are committed
 * only for existing partitions and only when the group allows the commit; OffsetFetch answers
 * -1 with no error for partitions without a committed offset.
 */
import { KafkaErrorCode } from '../../errors.js';
import type { OffsetEntry } from '../../groups/offset-store.js';
import { decodeDescribeGroupsRequest, encodeDescribeGroupsResponse } from '../../protocol/describe-groups.js';
import type { FullRequestHeader } from '../../protocol/header.js';
import { decodeHeartbeatRequest, encodeHeartbeatResponse } from '../../protocol/heartbeat.js';
import { decodeJoinGroupRequest, encodeJoinGroupResponse } from '../../protocol/join-group.js';
import { decodeLeaveGroupRequest, encodeLeaveGroupResponse } from '../../protocol/leave-group.js';
import { encodeListGroupsResponse } from '../../protocol/list-groups.js';
import { decodeOffsetCommitRequest, encodeOffsetCommitResponse } from '../../protocol/offset-commit.js';
import {
  decodeOffsetFetchRequest,
  encodeOffsetFetchResponse,
  type OffsetFetchPartition,
} from '../../protocol/offset-fetch.js';
import type { Reader } from '../../protocol/reader.js';
import { decodeSyncGroupRequest, encodeSyncGroupResponse } from '../../protocol/sync-group.js';
import type { Connection } from '../connection.js';
import type { BrokerContext } from '../context.js';

export async function handleJoinGroup(
  ctx: BrokerContext,
  h: FullRequestHeader,
  body: Reader,
  conn: Connection,
): Promise<Buffer[]> {
  const req = decodeJoinGroupRequest(body, h.apiVersion);
  if (req.groupId === '') {
    return encodeJoinGroupResponse(h.apiVersion, {
      errorCode: KafkaErrorCode.INVALID_GROUP_ID,
      generationId: -1,
      protocolName: '',
      leader: '',
      memberId: req.memberId,
      members: [],
    });
  }
  const res = await ctx.groups.join(req.groupId, {
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId,
    clientId: h.clientId ?? '',
    clientHost: conn.clientHost,
    sessionTimeoutMs: req.sessionTimeoutMs,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    protocolType: req.protocolType,
    protocols: req.protocols,
    requireKnownMemberId: h.apiVersion >= 4,
  });
  if (res.errorCode === 0) {
    ctx.logger.log('info', 'group.joined', {
      group: req.groupId,
      member: res.memberId,
      generation: res.generationId,
      leader: res.leader === res.memberId,
    });
  }
  return encodeJoinGroupResponse(h.apiVersion, res);
}

export async function handleSyncGroup(
  ctx: BrokerContext,
  h: FullRequestHeader,
  body: Reader,
): Promise<Buffer[]> {
  const req = decodeSyncGroupRequest(body, h.apiVersion);
  const res = await ctx.groups.sync(req.groupId, req.memberId, req.generationId, req.assignments);
  return encodeSyncGroupResponse(h.apiVersion, res);
}

export function handleHeartbeat(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeHeartbeatRequest(body, h.apiVersion);
  return encodeHeartbeatResponse(
    h.apiVersion,
    ctx.groups.heartbeat(req.groupId, req.memberId, req.generationId),
  );
}

export function handleLeaveGroup(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeLeaveGroupRequest(body, h.apiVersion);
  const members = req.members.map((m) => ({ ...m, errorCode: ctx.groups.leave(req.groupId, m.memberId) }));
  ctx.logger.log('info', 'group.left', { group: req.groupId, members: req.members.map((m) => m.memberId) });
  const top = h.apiVersion >= 3 ? 0 : (members[0]?.errorCode ?? 0);
  return encodeLeaveGroupResponse(h.apiVersion, top, members);
}

export function handleOffsetCommit(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeOffsetCommitRequest(body, h.apiVersion);
  const allowed = ctx.groups.checkCommit(req.groupId, req.memberId, req.generationId);
  const now = Date.now();
  const committed: OffsetEntry[] = [];
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      if (allowed !== 0) return { index: p.index, errorCode: allowed };
      if (ctx.topics.partition(t.name, p.index) === undefined) {
        return { index: p.index, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      }
      const value = { offset: p.offset, metadata: p.metadata, timestamp: now };
      ctx.groups.commit(req.groupId, t.name, p.index, value);
      committed.push({ group: req.groupId, topic: t.name, partition: p.index, ...value });
      return { index: p.index, errorCode: 0 };
    }),
  }));
  ctx.commitOffsets(committed);
  return encodeOffsetCommitResponse(h.apiVersion, topics);
}

export function handleOffsetFetch(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeOffsetFetchRequest(body, h.apiVersion);
  const offsets = ctx.groups.offsets;
  const part = (topic: string, index: number): OffsetFetchPartition => {
    const c = offsets.get(req.groupId, topic, index);
    return c === undefined
      ? { index, offset: -1, metadata: '', errorCode: 0 }
      : { index, offset: c.offset, metadata: c.metadata ?? '', errorCode: 0 };
  };
  const topics =
    req.topics === null
      ? offsets.committed(req.groupId).map((t) => ({
          name: t.topic,
          partitions: t.partitions.map((p) => part(t.topic, p.index)),
        }))
      : req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((i) => part(t.name, i)) }));
  return encodeOffsetFetchResponse(h.apiVersion, topics, 0);
}

export function handleDescribeGroups(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeDescribeGroupsRequest(body, h.apiVersion);
  const groups = req.groupIds.map((groupId) => {
    const g = ctx.groups.find(groupId);
    if (g === undefined) {
      const state = ctx.groups.offsets.hasGroup(groupId) ? 'Empty' : 'Dead';
      return { errorCode: 0, groupId, state, protocolType: '', protocolData: '', members: [] };
    }
    const d = g.describe();
    return {
      errorCode: 0,
      groupId,
      state: d.state,
      protocolType: d.protocolType,
      protocolData: d.protocol,
      members: d.members,
    };
  });
  return encodeDescribeGroupsResponse(h.apiVersion, groups);
}

export function handleListGroups(ctx: BrokerContext, h: FullRequestHeader): Buffer[] {
  const groups = ctx.groups.groupIds().map((groupId) => ({
    groupId,
    protocolType: ctx.groups.find(groupId)?.protocolType ?? '',
  }));
  return encodeListGroupsResponse(h.apiVersion, groups);
}
