import { describe, expect, it } from 'vitest';
import { concatBytes } from './bytes.js';

describe('concatBytes', () => {
  it('joins chunks in order into a fresh array, and returns a single chunk as it is', () => {
    const a = Uint8Array.of(1, 2);
    const b = Uint8Array.of(3);
    const joined = concatBytes([a, new Uint8Array(0), b]);
    expect([...joined]).toEqual([1, 2, 3]);
    expect(joined.buffer).not.toBe(a.buffer);
    expect(concatBytes([b])).toBe(b);
    expect(concatBytes([]).byteLength).toBe(0);
  });
});
