/**
 * The group coordinator service: owns every group's state machine (group.ts) and the
 * committed offsets, turns parked JoinGroup / SyncGroup requests into promises, and runs one
 * timer for the earliest group deadline (session expiry, rebalance timeout, initial delay).
 *
 * Invariants: every promise handed out settles exactly once (on a reply, or with
 * NOT_COORDINATOR at `reset`/`close`); at most one timer is armed, for the earliest deadline of
 * any group; the clock is injectable.
 */
import { randomUUID } from 'node:crypto';
import { KafkaErrorCode } from '../errors.js';
import { Group } from './group.js';
import type { JoinInput, JoinOutput, Reply, SyncOutput } from './group-types.js';
import { type CommittedOffset, OffsetStore } from './offset-store.js';

export interface CoordinatorOptions {
  initialRebalanceDelayMs?: number;
  now?: () => number;
  newMemberId?: (clientId: string) => string;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

type Waiter =
  | { kind: 'join'; resolve: (r: JoinOutput) => void }
  | { kind: 'sync'; resolve: (r: SyncOutput) => void };

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  readonly offsets = new OffsetStore();
  private readonly waiters = new Map<number, Waiter>();
  private nextToken = 1;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly now: () => number;
  private readonly newMemberId: (clientId: string) => string;
  private closed = false;

  constructor(private readonly options: CoordinatorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.newMemberId = options.newMemberId ?? ((clientId) => `${clientId || 'member'}-${randomUUID()}`);
  }

  private group(groupId: string): Group {
    let g = this.groups.get(groupId);
    if (g === undefined) {
      g = new Group(groupId, this.newMemberId, this.options.initialRebalanceDelayMs ?? 0);
      this.groups.set(groupId, g);
    }
    return g;
  }

  find(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  groupIds(): string[] {
    return [...new Set([...this.groups.keys(), ...this.offsets.groupIds()])];
  }

  private deliver(replies: readonly Reply[]): void {
    for (const r of replies) {
      const w = this.waiters.get(r.token);
      if (w === undefined) continue;
      this.waiters.delete(r.token);
      if (w.kind === 'join' && r.kind === 'join') w.resolve(r.response);
      else if (w.kind === 'sync' && r.kind === 'sync') w.resolve(r.response);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    let next = Number.POSITIVE_INFINITY;
    for (const g of this.groups.values()) next = Math.min(next, g.nextDeadline() ?? Number.POSITIVE_INFINITY);
    if (next === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (!Number.isFinite(next)) return;
    // setTimeout fires at once for delays past 2^31-1 ms (a client may send timeouts that big).
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - this.now()) + 1);
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.now();
    const replies: Reply[] = [];
    for (const g of this.groups.values()) replies.push(...g.tick(now));
    this.deliver(replies);
  }

  join(groupId: string, input: JoinInput): Promise<JoinOutput> {
    const token = this.nextToken++;
    const p = new Promise<JoinOutput>((resolve) => this.waiters.set(token, { kind: 'join', resolve }));
    this.deliver(this.group(groupId).join(input, token, this.now()));
    return p;
  }

  sync(
    groupId: string,
    memberId: string,
    generationId: number,
    assignments: readonly { memberId: string; assignment: Buffer }[],
  ): Promise<SyncOutput> {
    const g = this.groups.get(groupId);
    if (g === undefined) {
      return Promise.resolve({ errorCode: KafkaErrorCode.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) });
    }
    const token = this.nextToken++;
    const p = new Promise<SyncOutput>((resolve) => this.waiters.set(token, { kind: 'sync', resolve }));
    this.deliver(g.sync(memberId, generationId, assignments, token, this.now()));
    return p;
  }

  heartbeat(groupId: string, memberId: string, generationId: number): number {
    const g = this.groups.get(groupId);
    const code =
      g === undefined ? KafkaErrorCode.UNKNOWN_MEMBER_ID : g.heartbeat(memberId, generationId, this.now());
    this.schedule();
    return code;
  }

  leave(groupId: string, memberId: string): number {
    const g = this.groups.get(groupId);
    if (g === undefined) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    const { errorCode, replies } = g.leave(memberId, this.now());
    this.deliver(replies);
    return errorCode;
  }

  /** Checks membership/generation for a commit (0 = allowed); creates the group for simple commits. */
  checkCommit(groupId: string, memberId: string, generationId: number): number {
    const g = this.groups.get(groupId);
    if (g === undefined) {
      if (generationId < 0 && memberId === '') return KafkaErrorCode.NONE;
      return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    }
    const code = g.checkCommit(memberId, generationId, this.now());
    this.schedule();
    return code;
  }

  commit(groupId: string, topic: string, partition: number, value: CommittedOffset): void {
    this.offsets.commit(groupId, topic, partition, value);
  }

  /** Forgets every member of every group (committed offsets stay): a simulated restart. */
  reset(): void {
    const replies: Reply[] = [];
    for (const g of this.groups.values()) replies.push(...g.reset());
    this.deliver(replies);
  }

  close(): void {
    this.reset();
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
