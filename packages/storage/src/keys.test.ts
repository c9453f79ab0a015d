import { describe, expect, it } from 'vitest';
import { WeirError } from './errors.js';
import { assertValidKey, assertValidPrefix, assertValidRange, compareKeys } from './keys.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    return (err as WeirError).code;
  }
}

describe('key rules', () => {
  it('accepts ordinary keys and rejects escaping or ambiguous ones', () => {
    for (const ok of [
      'a',
      'a/b.json',
      '_delta_log/00000000000000000000.json',
      '.hidden/..dots',
      'x y/%/=/ü',
    ]) {
      expect(
        codeOf(() => assertValidKey(ok)),
        ok,
      ).toBeUndefined();
    }
    for (const bad of ['', '/a', 'a/', 'a//b', '.', '..', 'a/../b', './a', 'a/.', 'a\0b']) {
      expect(
        codeOf(() => assertValidKey(bad)),
        bad,
      ).toBe('INVALID_KEY');
    }
  });

  it('accepts partial and directory prefixes', () => {
    for (const ok of ['', 'a', 'a/', 'a/b', '_delta_log/0000', 'a/.', 'a/..x']) {
      expect(
        codeOf(() => assertValidPrefix(ok)),
        ok,
      ).toBeUndefined();
    }
    for (const bad of ['/', '/a', '../', 'a/../b', 'a//b', './x']) {
      expect(
        codeOf(() => assertValidPrefix(bad)),
        bad,
      ).toBe('INVALID_KEY');
    }
  });

  it('validates ranges', () => {
    expect(codeOf(() => assertValidRange('k', 0, 0))).toBeUndefined();
    expect(codeOf(() => assertValidRange('k', -1, 0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => assertValidRange('k', 0, Number.NaN))).toBe('INVALID_ARGUMENT');
  });
});

describe('key order', () => {
  const bufferOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

  it('is UTF-8 byte order, not UTF-16 order', () => {
    expect(compareKeys('\uFF21', '\u{1F600}')).toBeLessThan(0);
    expect('\uFF21' < '\u{1F600}').toBe(false);
    expect(compareKeys('a/b', 'a-b')).toBeGreaterThan(0);
    expect(compareKeys('a', 'ab')).toBeLessThan(0);
    expect(compareKeys('a', 'a')).toBe(0);
    expect(['\u{1F600}', 'b', '\uFF21', 'a/b', 'a-b', '\uD7FF', '\uE000'].sort(compareKeys)).toEqual([
      'a-b',
      'a/b',
      'b',
      '\uD7FF',
      '\uE000',
      '\uFF21',
      '\u{1F600}',
    ]);
  });

  it('agrees with Buffer.compare on random well-formed strings', () => {
    // Code points drawn from ranges around the UTF-8 length and surrogate boundaries.
    const ranges = [
      [0x20, 0x7f],
      [0x80, 0x7ff],
      [0x800, 0xd7ff],
      [0xe000, 0xffff],
      [0x10000, 0x10ffff],
    ] as const;
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const randomKey = (): string => {
      let s = '';
      const length = 1 + random(4);
      for (let i = 0; i < length; i++) {
        const [lo, hi] = ranges[random(ranges.length)]!;
        s += String.fromCodePoint(
          lo + random(Math.min(hi - lo + 1, 3)) + (random(2) === 0 ? 0 : hi - lo - 2),
        );
      }
      return s;
    };
    for (let i = 0; i < 5000; i++) {
      const a = randomKey();
      const b = random(4) === 0 ? a + randomKey() : randomKey();
      expect(Math.sign(compareKeys(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(
        Math.sign(bufferOrder(a, b)),
      );
    }
  });
});
