import { describe, expect, it } from 'vitest';
import { grow, Validity } from './column-builder.js';

describe('grow', () => {
  it('keeps contents and at least doubles', () => {
    const a = new Int32Array([1, 2, 3]);
    const b = grow(a, 4);
    expect(b).toBeInstanceOf(Int32Array);
    expect(b.length).toBe(16);
    expect([...b.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(grow(new Float64Array(20), 100).length).toBe(160);
  });
});

describe('Validity', () => {
  const bits = (v: Validity, n: number) => {
    const { nullBitmap } = v.finish(n);
    if (!nullBitmap) return 'none';
    return Array.from({ length: n }, (_, i) => ((nullBitmap[i >> 3]! >> (i & 7)) & 1).toString()).join('');
  };

  it('keeps no bitmap until the first null, then marks earlier values valid', () => {
    const v = new Validity();
    for (let i = 0; i < 13; i++) v.valid(i);
    expect(v.byteSize(13)).toBe(0);
    v.invalid(13);
    v.valid(14);
    expect(v.nullCount).toBe(1);
    expect(v.byteSize(15)).toBe(2);
    expect(bits(v, 15)).toBe('111111111111101');
  });

  it('finishes without a bitmap when nothing is null, and resets', () => {
    const v = new Validity();
    v.valid(0);
    expect(v.finish(1)).toEqual({ nullCount: 0 });
    v.invalid(0);
    v.valid(1);
    expect(bits(v, 2)).toBe('01');
    v.valid(0);
    expect(v.finish(1)).toEqual({ nullCount: 0 });
  });

  it('masks bits beyond the length in the last byte', () => {
    const v = new Validity();
    v.invalid(0);
    for (let i = 1; i < 8; i++) v.valid(i);
    v.truncate(3, 8);
    expect(v.finish(3).nullBitmap).toEqual(new Uint8Array([0b110]));
  });

  it('forgets truncated nulls, dropping the bitmap when none is left', () => {
    const v = new Validity();
    v.valid(0);
    v.invalid(1);
    v.invalid(2);
    v.truncate(2, 3);
    expect(v.nullCount).toBe(1);
    v.truncate(1, 2);
    expect(v.nullCount).toBe(0);
    expect(v.byteSize(1)).toBe(0);
    v.valid(1);
    v.invalid(2);
    expect(bits(v, 3)).toBe('110');
  });

  it('handles long runs across many bytes', () => {
    const v = new Validity();
    const expected: string[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i % 3 === 0) {
        v.invalid(i);
        expected.push('0');
      } else {
        v.valid(i);
        expected.push('1');
      }
    }
    expect(v.nullCount).toBe(334);
    expect(bits(v, 1000)).toBe(expected.join(''));
  });
});
