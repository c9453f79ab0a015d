import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { lowerThreadPriority } from './thread-priority.js';

describe('lowerThreadPriority', () => {
  it('never touches the main thread (its id is the process id: that would lower the whole process)', () => {
    const before = getPriority();
    expect(lowerThreadPriority(5)).toBeUndefined();
    expect(getPriority()).toBe(before);
  });

  it('ignores values that are not a positive whole number', () => {
    expect(lowerThreadPriority(0)).toBeUndefined();
    expect(lowerThreadPriority(-3)).toBeUndefined();
    expect(lowerThreadPriority(1.5)).toBeUndefined();
  });
});
