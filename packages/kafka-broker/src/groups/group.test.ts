import { describe, expect, it } from 'vitest';
import { KafkaErrorCode as E } from '../errors.js';
import { Group } from './group.js';
import type { JoinInput, JoinOutput, Reply } from './group-types.js';

let ids = 0;
function group(delay = 0): Group {
  ids = 0;
  return new Group('g', (clientId) => `${clientId}-${++ids}`, delay);
}

function input(memberId: string, over: Partial<JoinInput> = {}): JoinInput {
  return {
    memberId,
    groupInstanceId: null,
    clientId: 'c',
    clientHost: '127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from(memberId || 'new') }],
    requireKnownMemberId: true,
    ...over,
  };
}

function joins(replies: Reply[]): Map<number, JoinOutput> {
  return new Map(replies.filter((r) => r.kind === 'join').map((r) => [r.token, r.response as JoinOutput]));
}

/** Two-step v4+ join: MEMBER_ID_REQUIRED, then the real join (parked or answered). */
function join(
  g: Group,
  token: number,
  now: number,
  over: Partial<JoinInput> = {},
): { id: string; replies: Reply[] } {
  const first = g.join(input('', over), token, now);
  expect(first[0]).toMatchObject({ token, response: { errorCode: E.MEMBER_ID_REQUIRED } });
  const id = (first[0]!.response as JoinOutput).memberId;
  return { id, replies: g.join(input(id, over), token, now) };
}

describe('consumer group state machine', () => {
  it('runs the single-member cycle: join, leader sync, Stable, heartbeat, leave -> Empty', () => {
    const g = group();
    const { id, replies } = join(g, 1, 0);
    const r = joins(replies).get(1)!;
    expect(r).toMatchObject({
      errorCode: 0,
      generationId: 1,
      protocolName: 'range',
      leader: id,
      memberId: id,
    });
    expect(r.members.map((m) => m.memberId)).toEqual([id]);
    expect(g.state).toBe('CompletingRebalance');
    expect(g.heartbeat(id, 1, 10)).toBe(0);

    const sync = g.sync(id, 1, [{ memberId: id, assignment: Buffer.from('all') }], 2, 10);
    expect(sync).toEqual([
      { kind: 'sync', token: 2, response: { errorCode: 0, assignment: Buffer.from('all') } },
    ]);
    expect(g.state).toBe('Stable');
    expect(g.heartbeat(id, 1, 20)).toBe(0);
    expect(g.heartbeat(id, 0, 20)).toBe(E.ILLEGAL_GENERATION);
    expect(g.heartbeat('who', 1, 20)).toBe(E.UNKNOWN_MEMBER_ID);

    expect(g.leave(id, 30).errorCode).toBe(0);
    expect(g.state).toBe('Empty');
    expect(g.generation).toBe(2);
  });

  it('rebalances when a second member joins; followers wait for the leader assignment', () => {
    const g = group();
    const a = join(g, 1, 0).id;
    g.sync(a, 1, [{ memberId: a, assignment: Buffer.from('a-all') }], 2, 0);
    const b = join(g, 3, 5);
    expect(b.replies).toEqual([]); // parked: a has not rejoined
    expect(g.state).toBe('PreparingRebalance');
    expect(g.heartbeat(a, 1, 6)).toBe(E.REBALANCE_IN_PROGRESS);
    expect(g.sync(a, 1, [], 9, 6)[0]!.response.errorCode).toBe(E.REBALANCE_IN_PROGRESS);

    const done = joins(g.join(input(a), 4, 7));
    expect(done.get(4)).toMatchObject({ generationId: 2, leader: a });
    expect(done.get(4)!.members).toHaveLength(2);
    expect(done.get(3)).toMatchObject({ generationId: 2, leader: a, members: [] });

    // The follower syncs first and waits; the leader's sync answers both.
    expect(g.sync(b.id, 2, [], 5, 8)).toEqual([]);
    const synced = g.sync(
      a,
      2,
      [
        { memberId: a, assignment: Buffer.from('A') },
        { memberId: b.id, assignment: Buffer.from('B') },
      ],
      6,
      9,
    );
    expect(synced).toEqual(
      expect.arrayContaining([
        { kind: 'sync', token: 5, response: { errorCode: 0, assignment: Buffer.from('B') } },
        { kind: 'sync', token: 6, response: { errorCode: 0, assignment: Buffer.from('A') } },
      ]),
    );
    expect(
      g
        .describe()
        .members.map((m) => m.assignment.toString())
        .sort(),
    ).toEqual(['A', 'B']);
  });

  it('drops members that do not rejoin by the rebalance deadline', () => {
    const g = group();
    const a = join(g, 1, 0, { rebalanceTimeoutMs: 1000 }).id;
    g.sync(a, 1, [], 2, 0);
    const b = join(g, 3, 100, { rebalanceTimeoutMs: 1000 });
    expect(b.replies).toEqual([]);
    expect(g.nextDeadline()).toBe(1100);
    const out = joins(g.tick(1100));
    expect(out.get(3)).toMatchObject({ errorCode: 0, generationId: 2, leader: b.id });
    expect(g.hasMember(a)).toBe(false);
  });

  it('expires a silent member after its session timeout and rebalances the rest', () => {
    const g = group();
    const a = join(g, 1, 0, { sessionTimeoutMs: 500 }).id;
    const b = join(g, 2, 0, { sessionTimeoutMs: 500 });
    g.join(input(a, { sessionTimeoutMs: 500 }), 3, 0);
    g.sync(a, 2, [], 4, 0);
    g.sync(b.id, 2, [], 5, 0);
    expect(g.state).toBe('Stable');
    expect(g.heartbeat(b.id, 2, 400)).toBe(0);
    g.tick(600); // a silent since 0
    expect(g.hasMember(a)).toBe(false);
    expect(g.state).toBe('PreparingRebalance');
    expect(g.heartbeat(b.id, 2, 610)).toBe(E.REBALANCE_IN_PROGRESS);
    const out = joins(g.join(input(b.id, { sessionTimeoutMs: 500 }), 6, 620));
    expect(out.get(6)).toMatchObject({ generationId: 3, leader: b.id });
  });

  it('answers a follower that rejoins a Stable group unchanged with the current generation', () => {
    const g = group();
    const a = join(g, 1, 0).id;
    const b = join(g, 2, 0);
    g.join(input(a), 3, 0);
    g.sync(a, 2, [], 4, 0);
    const again = joins(g.join(input(b.id), 5, 1));
    expect(again.get(5)).toMatchObject({ errorCode: 0, generationId: 2, members: [] });
    expect(g.state).toBe('Stable');
  });

  it('refuses unknown members, inconsistent protocols and bad session timeouts', () => {
    const g = group();
    expect(g.join(input('ghost'), 1, 0)[0]!.response.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    join(g, 2, 0);
    const other = g.join(input('', { protocolType: 'connect', requireKnownMemberId: false }), 3, 0);
    expect(other[0]!.response.errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    const noCommon = g.join(
      input('', { protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }], requireKnownMemberId: false }),
      4,
      0,
    );
    expect(noCommon[0]!.response.errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect(g.join(input('', { sessionTimeoutMs: 0 }), 5, 0)[0]!.response.errorCode).toBe(
      E.INVALID_SESSION_TIMEOUT,
    );
  });

  it('picks the protocol every member supports with the most first choices', () => {
    const g = group();
    const p = (...names: string[]) => ({
      protocols: names.map((name) => ({ name, metadata: Buffer.from(name) })),
    });
    const a = join(g, 1, 0, p('roundrobin', 'range')).id;
    g.sync(a, 1, [], 9, 0);
    join(g, 2, 0, p('range', 'roundrobin'));
    join(g, 3, 0, p('range', 'sticky', 'roundrobin'));
    const out = joins(g.join(input(a, p('roundrobin', 'range')), 4, 0));
    expect(out.get(4)!.protocolName).toBe('range');
    expect(out.get(4)!.members.map((m) => m.metadata.toString())).toEqual(['range', 'range', 'range']);
  });

  it('allows commits by generation, and simple commits only while Empty', () => {
    const g = group();
    expect(g.checkCommit('', -1, 0)).toBe(0);
    const a = join(g, 1, 0).id;
    expect(g.checkCommit(a, 1, 0)).toBe(E.REBALANCE_IN_PROGRESS); // CompletingRebalance
    g.sync(a, 1, [], 2, 0);
    expect(g.checkCommit(a, 1, 0)).toBe(0);
    expect(g.checkCommit(a, 0, 0)).toBe(E.ILLEGAL_GENERATION);
    expect(g.checkCommit('', -1, 0)).toBe(E.UNKNOWN_MEMBER_ID);
    join(g, 3, 0); // PreparingRebalance: commits with the current generation still go through
    expect(g.checkCommit(a, 1, 0)).toBe(0);
  });

  it('waits out the initial rebalance delay so members joining together share one generation', () => {
    const g = group(300);
    const a = join(g, 1, 0);
    expect(a.replies).toEqual([]);
    const b = join(g, 2, 100);
    expect(b.replies).toEqual([]);
    expect(g.nextDeadline()).toBe(300);
    const out = joins(g.tick(300));
    expect([...out.values()].map((r) => r.generationId)).toEqual([1, 1]);
  });

  it('answers parked requests with UNKNOWN_MEMBER_ID on leave and NOT_COORDINATOR on reset', () => {
    const g = group();
    const a = join(g, 1, 0).id;
    g.sync(a, 1, [], 2, 0);
    const b = join(g, 3, 0);
    expect(b.replies).toEqual([]);
    const left = g.leave(b.id, 1);
    expect(joins(left.replies).get(3)!.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    join(g, 4, 2);
    expect(joins(g.reset()).get(4)!.errorCode).toBe(E.NOT_COORDINATOR);
    expect(g.state).toBe('Empty');
    expect(g.memberCount).toBe(0);
  });
});
