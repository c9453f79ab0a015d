import { describe, expect, it } from 'vitest';
import { OffsetStore } from './offset-store.js';

describe('OffsetStore', () => {
  it('keeps the latest commit per key, lists them sorted, and forgets deleted topics', () => {
    const s = new OffsetStore();
    s.commit('g', 'b', 1, { offset: 5, metadata: null, timestamp: 1 });
    s.commit('g', 'b', 0, { offset: 3, metadata: 'x', timestamp: 1 });
    s.commit('g', 'a', 0, { offset: 1, metadata: null, timestamp: 1 });
    s.commit('g', 'b', 1, { offset: 9, metadata: null, timestamp: 2 });
    expect(s.get('g', 'b', 1)?.offset).toBe(9);
    expect(s.get('h', 'b', 1)).toBeUndefined();
    expect(s.committed('g').map((t) => [t.topic, t.partitions.map((p) => p.index)])).toEqual([
      ['a', [0]],
      ['b', [0, 1]],
    ]);
    expect([...s.entries()]).toHaveLength(3);
    s.deleteTopic('b');
    expect(s.committed('g').map((t) => t.topic)).toEqual(['a']);
    expect(s.groupIds()).toEqual(['g']);
  });
});
