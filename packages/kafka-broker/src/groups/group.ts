/**
 * The consumer-group state machine of one group (classic protocol: JoinGroup / SyncGroup /
 * Heartbeat / LeaveGroup), pure and synchronous: time comes in as `now`, parked requests are
 * opaque numeric tokens, and every call returns the replies that became ready (for the caller's
 * request and for any parked ones).
 *
 * States: Empty -> PreparingRebalance -> CompletingRebalance -> Stable (-> PreparingRebalance
 * on any membership or metadata change). A rebalance completes when every member (and every
 * member id handed out with MEMBER_ID_REQUIRED) has rejoined, or at the rebalance deadline,
 * when members that did not rejoin are dropped. Completing bumps the generation, picks a
 * protocol every member supports (most first-choice votes), keeps the leader if it is still a
 * member, answers the leader with every member's metadata and followers with none. The
 * leader's SyncGroup carries the assignments and makes the group Stable.
 *
 * Invariants: a member awaiting its join answer is not expired by its session timeout (only by
 * the rebalance deadline); every parked token gets exactly one reply; `nextDeadline` is the
 * earliest time at which `tick` can change anything.
 */
import { KafkaErrorCode } from '../errors.js';
import type {
  GroupStateName,
  JoinInput,
  JoinOutput,
  MemberDescription,
  ProtocolEntry,
  Reply,
} from './group-types.js';
import { hasCommonProtocol, sameProtocols, selectProtocol } from './protocol-selection.js';

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: ProtocolEntry[];
  assignment: Buffer;
  lastHeartbeat: number;
  pendingJoin: number | null;
  pendingSync: number | null;
}

const EMPTY = Buffer.alloc(0);

export class Group {
  state: GroupStateName = 'Empty';
  generation = 0;
  protocolType: string | null = null;
  protocol: string | null = null;
  leader: string | null = null;
  private readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, with their expiry. */
  private readonly pending = new Map<string, number>();
  private rebalanceDeadline: number | null = null;
  private initialDelayUntil: number | null = null;

  constructor(
    readonly groupId: string,
    private readonly newMemberId: (clientId: string) => string,
    private readonly initialRebalanceDelayMs = 0,
  ) {}

  get memberCount(): number {
    return this.members.size;
  }

  hasMember(memberId: string): boolean {
    return this.members.has(memberId);
  }

  private error(token: number, memberId: string, errorCode: number): Reply[] {
    return [
      {
        kind: 'join',
        token,
        response: { errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] },
      },
    ];
  }

  join(input: JoinInput, token: number, now: number): Reply[] {
    if (input.protocols.length === 0 || input.protocolType === '') {
      return this.error(token, input.memberId, KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    if (input.sessionTimeoutMs <= 0) {
      return this.error(token, input.memberId, KafkaErrorCode.INVALID_SESSION_TIMEOUT);
    }
    if (
      this.members.size > 0 &&
      (input.protocolType !== this.protocolType ||
        !hasCommonProtocol(
          input.protocols,
          [...this.members.values()].filter((m) => m.memberId !== input.memberId).map((m) => m.protocols),
        ))
    ) {
      return this.error(token, input.memberId, KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    let memberId = input.memberId;
    if (memberId === '') {
      memberId = this.newMemberId(input.clientId);
      if (input.requireKnownMemberId) {
        this.pending.set(memberId, now + input.sessionTimeoutMs);
        return this.error(token, memberId, KafkaErrorCode.MEMBER_ID_REQUIRED);
      }
    } else if (this.pending.has(memberId)) {
      this.pending.delete(memberId);
    } else if (!this.members.has(memberId)) {
      return this.error(token, memberId, KafkaErrorCode.UNKNOWN_MEMBER_ID);
    }

    const existing = this.members.get(memberId);
    const replies: Reply[] = [];
    if (existing === undefined) {
      this.members.set(memberId, {
        memberId,
        groupInstanceId: input.groupInstanceId,
        clientId: input.clientId,
        clientHost: input.clientHost,
        sessionTimeoutMs: input.sessionTimeoutMs,
        rebalanceTimeoutMs: input.rebalanceTimeoutMs > 0 ? input.rebalanceTimeoutMs : input.sessionTimeoutMs,
        protocols: input.protocols,
        assignment: EMPTY,
        lastHeartbeat: now,
        pendingJoin: token,
        pendingSync: null,
      });
      if (this.members.size === 1) this.protocolType = input.protocolType;
      if (this.state !== 'PreparingRebalance') replies.push(...this.prepareRebalance(now));
      replies.push(...this.maybeCompleteJoin(now));
      return replies;
    }

    const unchanged = sameProtocols(existing.protocols, input.protocols);
    existing.sessionTimeoutMs = input.sessionTimeoutMs;
    existing.rebalanceTimeoutMs =
      input.rebalanceTimeoutMs > 0 ? input.rebalanceTimeoutMs : input.sessionTimeoutMs;
    existing.protocols = input.protocols;
    existing.lastHeartbeat = now;
    if (this.state === 'PreparingRebalance') {
      if (existing.pendingJoin !== null && existing.pendingJoin !== token) {
        replies.push(...this.error(existing.pendingJoin, memberId, KafkaErrorCode.REBALANCE_IN_PROGRESS));
      }
      existing.pendingJoin = token;
      replies.push(...this.maybeCompleteJoin(now));
      return replies;
    }
    const isLeader = this.leader === memberId;
    if (unchanged && (this.state === 'CompletingRebalance' || (this.state === 'Stable' && !isLeader))) {
      replies.push({ kind: 'join', token, response: this.joinResponse(existing) });
      return replies;
    }
    existing.pendingJoin = token;
    replies.push(...this.prepareRebalance(now));
    replies.push(...this.maybeCompleteJoin(now));
    return replies;
  }

  private joinResponse(member: Member): JoinOutput {
    const isLeader = member.memberId === this.leader;
    const protocol = this.protocol ?? '';
    return {
      errorCode: KafkaErrorCode.NONE,
      generationId: this.generation,
      protocolName: protocol,
      leader: this.leader ?? '',
      memberId: member.memberId,
      members: isLeader
        ? [...this.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY,
          }))
        : [],
    };
  }

  private prepareRebalance(now: number): Reply[] {
    const replies: Reply[] = [];
    if (this.state === 'CompletingRebalance') {
      for (const m of this.members.values()) {
        if (m.pendingSync !== null) {
          replies.push({
            kind: 'sync',
            token: m.pendingSync,
            response: { errorCode: KafkaErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY },
          });
          m.pendingSync = null;
        }
      }
    }
    if (this.state === 'Empty' && this.initialRebalanceDelayMs > 0) {
      this.initialDelayUntil = now + this.initialRebalanceDelayMs;
    }
    let timeout = 0;
    for (const m of this.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    this.rebalanceDeadline = now + timeout;
    this.state = 'PreparingRebalance';
    return replies;
  }

  private allJoined(): boolean {
    if (this.pending.size > 0) return false;
    for (const m of this.members.values()) if (m.pendingJoin === null) return false;
    return true;
  }

  private maybeCompleteJoin(now: number): Reply[] {
    if (this.state !== 'PreparingRebalance' || !this.allJoined()) return [];
    if (this.initialDelayUntil !== null && now < this.initialDelayUntil) return [];
    return this.completeJoin(now);
  }

  private completeJoin(now: number): Reply[] {
    for (const m of [...this.members.values()]) if (m.pendingJoin === null) this.members.delete(m.memberId);
    this.pending.clear();
    this.rebalanceDeadline = null;
    this.initialDelayUntil = null;
    this.generation++;
    if (this.members.size === 0) {
      this.state = 'Empty';
      this.protocol = null;
      this.leader = null;
      return [];
    }
    this.protocol = selectProtocol([...this.members.values()].map((m) => m.protocols));
    if (this.leader === null || !this.members.has(this.leader))
      this.leader = this.members.keys().next().value!;
    this.state = 'CompletingRebalance';
    const replies: Reply[] = [];
    for (const m of this.members.values()) {
      replies.push({ kind: 'join', token: m.pendingJoin!, response: this.joinResponse(m) });
      m.pendingJoin = null;
      m.lastHeartbeat = now;
      m.assignment = EMPTY;
    }
    return replies;
  }

  sync(
    memberId: string,
    generationId: number,
    assignments: readonly { memberId: string; assignment: Buffer }[],
    token: number,
    now: number,
  ): Reply[] {
    const reply = (errorCode: number, assignment: Buffer = EMPTY): Reply[] => [
      { kind: 'sync', token, response: { errorCode, assignment } },
    ];
    const member = this.members.get(memberId);
    if (member === undefined) return reply(KafkaErrorCode.UNKNOWN_MEMBER_ID);
    if (generationId !== this.generation) return reply(KafkaErrorCode.ILLEGAL_GENERATION);
    member.lastHeartbeat = now;
    if (this.state === 'PreparingRebalance') return reply(KafkaErrorCode.REBALANCE_IN_PROGRESS);
    if (this.state === 'Stable') return reply(KafkaErrorCode.NONE, member.assignment);
    if (this.state !== 'CompletingRebalance') return reply(KafkaErrorCode.UNKNOWN_MEMBER_ID);
    const replies: Reply[] = [];
    if (member.pendingSync !== null) {
      replies.push({
        kind: 'sync',
        token: member.pendingSync,
        response: { errorCode: KafkaErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY },
      });
    }
    member.pendingSync = token;
    if (memberId !== this.leader) return replies;
    const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    this.state = 'Stable';
    for (const m of this.members.values()) {
      m.assignment = byMember.get(m.memberId) ?? EMPTY;
      if (m.pendingSync !== null) {
        replies.push({
          kind: 'sync',
          token: m.pendingSync,
          response: { errorCode: 0, assignment: m.assignment },
        });
        m.pendingSync = null;
      }
    }
    return replies;
  }

  heartbeat(memberId: string, generationId: number, now: number): number {
    const member = this.members.get(memberId);
    if (member === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generation) return KafkaErrorCode.ILLEGAL_GENERATION;
    member.lastHeartbeat = now;
    return this.state === 'PreparingRebalance' ? KafkaErrorCode.REBALANCE_IN_PROGRESS : KafkaErrorCode.NONE;
  }

  /** Removes a member (LeaveGroup); its parked requests are answered UNKNOWN_MEMBER_ID. */
  leave(memberId: string, now: number): { errorCode: number; replies: Reply[] } {
    if (this.pending.delete(memberId)) return { errorCode: 0, replies: this.maybeCompleteJoin(now) };
    if (!this.members.has(memberId)) return { errorCode: KafkaErrorCode.UNKNOWN_MEMBER_ID, replies: [] };
    return { errorCode: 0, replies: this.removeMember(memberId, now) };
  }

  private removeMember(memberId: string, now: number): Reply[] {
    const m = this.members.get(memberId)!;
    const replies: Reply[] = [];
    if (m.pendingJoin !== null)
      replies.push(...this.error(m.pendingJoin, memberId, KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (m.pendingSync !== null) {
      replies.push({
        kind: 'sync',
        token: m.pendingSync,
        response: { errorCode: KafkaErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY },
      });
    }
    this.members.delete(memberId);
    if (this.state === 'Stable' || this.state === 'CompletingRebalance')
      replies.push(...this.prepareRebalance(now));
    replies.push(...this.maybeCompleteJoin(now));
    return replies;
  }

  /** Whether an OffsetCommit from this member/generation is accepted (0) or its error. */
  checkCommit(memberId: string, generationId: number, now: number): number {
    if (generationId < 0 && memberId === '') {
      return this.members.size === 0 ? KafkaErrorCode.NONE : KafkaErrorCode.UNKNOWN_MEMBER_ID;
    }
    const member = this.members.get(memberId);
    if (member === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== this.generation) return KafkaErrorCode.ILLEGAL_GENERATION;
    if (this.state === 'CompletingRebalance') return KafkaErrorCode.REBALANCE_IN_PROGRESS;
    member.lastHeartbeat = now;
    return KafkaErrorCode.NONE;
  }

  /** Expires sessions and pending member ids, and completes a rebalance at its deadline. */
  tick(now: number): Reply[] {
    const replies: Reply[] = [];
    for (const [id, expiry] of this.pending) if (now >= expiry) this.pending.delete(id);
    for (const m of [...this.members.values()]) {
      if (
        m.pendingJoin === null &&
        now - m.lastHeartbeat >= m.sessionTimeoutMs &&
        this.members.has(m.memberId)
      ) {
        replies.push(...this.removeMember(m.memberId, now));
      }
    }
    if (
      this.state === 'PreparingRebalance' &&
      this.rebalanceDeadline !== null &&
      now >= this.rebalanceDeadline
    ) {
      replies.push(...this.completeJoin(now));
    }
    replies.push(...this.maybeCompleteJoin(now));
    return replies;
  }

  nextDeadline(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const expiry of this.pending.values()) next = Math.min(next, expiry);
    for (const m of this.members.values()) {
      if (m.pendingJoin === null) next = Math.min(next, m.lastHeartbeat + m.sessionTimeoutMs);
    }
    if (this.state === 'PreparingRebalance') {
      if (this.rebalanceDeadline !== null) next = Math.min(next, this.rebalanceDeadline);
      if (this.initialDelayUntil !== null) next = Math.min(next, this.initialDelayUntil);
    }
    return Number.isFinite(next) ? next : undefined;
  }

  /** Drops every member (a broker restart): parked requests are answered NOT_COORDINATOR. */
  reset(): Reply[] {
    const replies: Reply[] = [];
    for (const m of this.members.values()) {
      if (m.pendingJoin !== null)
        replies.push(...this.error(m.pendingJoin, m.memberId, KafkaErrorCode.NOT_COORDINATOR));
      if (m.pendingSync !== null) {
        replies.push({
          kind: 'sync',
          token: m.pendingSync,
          response: { errorCode: KafkaErrorCode.NOT_COORDINATOR, assignment: EMPTY },
        });
      }
    }
    this.members.clear();
    this.pending.clear();
    this.state = 'Empty';
    this.protocol = null;
    this.leader = null;
    this.protocolType = null;
    this.rebalanceDeadline = null;
    this.initialDelayUntil = null;
    return replies;
  }

  describe(): {
    state: GroupStateName;
    protocolType: string;
    protocol: string;
    members: MemberDescription[];
  } {
    const protocol = this.protocol ?? '';
    return {
      state: this.state,
      protocolType: this.protocolType ?? '',
      protocol,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: m.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY,
        assignment: m.assignment,
      })),
    };
  }
}
