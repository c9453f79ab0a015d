import { describe, expect, it } from 'vitest';
import { LatencyWindow } from './latency-window.js';

describe('LatencyWindow', () => {
  it('counts a write visible once a commit stores its position, and only once', () => {
    const w = new LatencyWindow();
    w.noteWrite('g-t-0', 10, [1000, 1100]);
    w.noteWrite('g-t-0', 20, [1200, 1300]);
    w.noteWrite('g-t-1', 5, [1000, 1000]);
    expect(w.committed(new Map([['g-t-0', 10]]), 1500)).toEqual([500, 400]);
    expect(
      w.committed(
        new Map([
          ['g-t-0', 20],
          ['g-t-1', 5],
        ]),
        2000,
      ),
    ).toEqual([800, 700, 1000, 1000]);
    expect(w.committed(new Map([['g-t-0', 20]]), 3000)).toEqual([]);
    expect(w.summary()).toEqual({ p50: 700, p99: 1000 });
  });

  it('forgets revoked partitions and keeps a bounded window', () => {
    const w = new LatencyWindow(3);
    w.noteWrite('a', 1, [0]);
    w.forget('a');
    expect(w.committed(new Map([['a', 1]]), 10)).toEqual([]);
    for (let i = 1; i <= 5; i++) {
      w.noteWrite('b', i, [50]);
      w.committed(new Map([['b', i]]), i * 100);
    }
    // The last three: 250, 350, 450.
    expect(w.summary()).toEqual({ p50: 350, p99: 450 });
    expect(new LatencyWindow().summary()).toBeUndefined();
  });
});
