import { describe, expect, it } from 'vitest';
import { selectRetention } from './retention.js';

const batches = [
  { bytes: 100, appendedAt: 1000 },
  { bytes: 100, appendedAt: 2000 },
  { bytes: 100, appendedAt: 3000 },
  { bytes: 100, appendedAt: 4000 },
];

describe('selectRetention', () => {
  it('deletes nothing without limits (the default)', () => {
    expect(selectRetention(batches, 0, 400, 1e12, {})).toBe(0);
  });

  it('deletes the oldest batches over the byte limit', () => {
    expect(selectRetention(batches, 0, 400, 0, { maxBytes: 250 })).toBe(2);
    expect(selectRetention(batches, 1, 300, 0, { maxBytes: 250 })).toBe(1);
    expect(selectRetention(batches, 0, 400, 0, { maxBytes: 400 })).toBe(0);
  });

  it('deletes batches appended longer ago than the age limit', () => {
    expect(selectRetention(batches, 0, 400, 3500, { maxAgeMs: 1000 })).toBe(2);
  });

  it('never deletes the newest batch', () => {
    expect(selectRetention(batches, 0, 400, 1e12, { maxAgeMs: 1 })).toBe(3);
    expect(selectRetention(batches, 0, 400, 0, { maxBytes: 0 })).toBe(3);
    expect(selectRetention(batches.slice(0, 1), 0, 100, 1e12, { maxAgeMs: 1 })).toBe(0);
  });
});
