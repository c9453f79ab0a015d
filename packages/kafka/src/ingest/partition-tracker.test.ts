import { describe, expect, it } from 'vitest';
import type { SourceMessage } from '../source/message.js';
import { PartitionTracker } from './partition-tracker.js';

const tp = { topic: 't', partition: 3 };
const msgs = (from: number, to: number): SourceMessage[] =>
  Array.from({ length: to - from }, (_, i) => ({
    topic: 't',
    partition: 3,
    offset: from + i,
    key: null,
    value: Buffer.from('{}'),
    timestamp: 0,
    headers: {},
  }));

describe('PartitionTracker', () => {
  it('drops batches of partitions it does not own', () => {
    const t = new PartitionTracker();
    expect(t.admit(tp, msgs(0, 5))).toEqual({ kind: 'drop', reason: 'not-owned' });
    t.assign(tp, 0, undefined);
    t.revoke(tp);
    expect(t.admit(tp, msgs(0, 5)).kind).toBe('drop');
  });

  it('admits from the resume position on, drops what it already admitted', () => {
    const t = new PartitionTracker();
    t.assign(tp, 10, 10);
    const a = t.admit(tp, msgs(5, 15));
    expect(a.kind).toBe('admit');
    if (a.kind === 'admit') expect(a.messages.map((m) => m.offset)).toEqual([10, 11, 12, 13, 14]);
    expect(t.get(tp)?.next).toBe(15);
    expect(t.admit(tp, msgs(12, 15))).toEqual({ kind: 'drop', reason: 'duplicate' });
    const b = t.admit(tp, msgs(13, 17));
    if (b.kind === 'admit') expect(b.messages.map((m) => m.offset)).toEqual([15, 16]);
    expect(t.get(tp)?.resumedFrom).toBe(10);
  });

  it('asks for a seek back on a gap, and takes the gap as real after repeated tries', () => {
    const t = new PartitionTracker(2);
    t.assign(tp, 10, undefined);
    expect(t.admit(tp, msgs(20, 25))).toEqual({ kind: 'seek', offset: 10, first: 20 });
    expect(t.admit(tp, msgs(20, 25))).toEqual({ kind: 'seek', offset: 10, first: 20 });
    const a = t.admit(tp, msgs(20, 25));
    expect(a.kind === 'admit' && a.gap).toEqual({ expected: 10, first: 20 });
    expect(t.get(tp)?.next).toBe(25);
    // A seek that applied resets the count.
    t.assign(tp, 30, 30);
    expect(t.admit(tp, msgs(31, 32)).kind).toBe('seek');
    expect(t.admit(tp, msgs(30, 32)).kind).toBe('admit');
    expect(t.get(tp)?.gapSeeks).toBe(0);
  });

  it('a new assignment restarts from the given position and keeps the high watermark', () => {
    const t = new PartitionTracker();
    t.assign(tp, 0, undefined);
    t.setHighWatermark(tp, 100);
    t.admit(tp, msgs(0, 50));
    t.assign(tp, 40, 40);
    expect(t.get(tp)).toMatchObject({ next: 40, resumedFrom: 40, highWatermark: 100 });
    expect(t.owned().length).toBe(1);
  });
});
