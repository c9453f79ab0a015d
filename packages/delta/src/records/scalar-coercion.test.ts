import { describe, expect, it } from 'vitest';
import { parseDecimalText } from '../schema/partition-values.js';
import type { DataType, DecimalType } from '../schema/types.js';
import { CoercionFailure } from './record-errors.js';
import {
  coerceBinary,
  coerceBoolean,
  coerceDecimal,
  coerceFloat,
  coerceLong,
  coerceSmallInt,
  coerceString,
} from './scalar-coercion.js';

const LONG: DataType = { type: 'long' };
const INT: DataType = { type: 'integer' };
const BIN: DataType = { type: 'binary' };
const dec = (precision: number, scale: number): DecimalType => ({ type: 'decimal', precision, scale });

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CoercionFailure);
    return (err as CoercionFailure).reason;
  }
  throw new Error('accepted');
}

describe('integers', () => {
  it('accepts integral numbers, bigints and integer text', () => {
    expect(coerceSmallInt(3, INT, -10, 10)).toBe(3);
    expect(coerceSmallInt(3.0, INT, -10, 10)).toBe(3);
    expect(coerceSmallInt(' -7 ', INT, -10, 10)).toBe(-7);
    expect(coerceSmallInt('+7', INT, -10, 10)).toBe(7);
    expect(coerceSmallInt(7n, INT, -10, 10)).toBe(7);
    expect(Object.is(coerceSmallInt(-0, INT, -10, 10), 0)).toBe(true);
    expect(refusal(() => coerceSmallInt(11, INT, -10, 10))).toMatch(/out of range for integer \(-10\.\.10\)/);
    expect(refusal(() => coerceSmallInt('99999999999999999999', INT, -10, 10))).toMatch(/out of range/);
    expect(refusal(() => coerceSmallInt(Number.POSITIVE_INFINITY, INT, -10, 10))).toMatch(/finite/);
    expect(refusal(() => coerceSmallInt('', INT, -10, 10))).toMatch(/integer text/);
    expect(refusal(() => coerceSmallInt('0x10', INT, -10, 10))).toMatch(/integer text/);
  });

  it('keeps long values exact: numbers while safe, bigints beyond', () => {
    expect(coerceLong(Number.MAX_SAFE_INTEGER, LONG)).toBe(Number.MAX_SAFE_INTEGER);
    expect(coerceLong('123456789012345', LONG)).toBe(123_456_789_012_345);
    expect(coerceLong('1234567890123456', LONG)).toBe(1_234_567_890_123_456n);
    expect(coerceLong('-9223372036854775808', LONG)).toBe(-(2n ** 63n));
    expect(coerceLong(5n, LONG)).toBe(5n);
    expect(Object.is(coerceLong('-0', LONG), 0)).toBe(true);
    expect(refusal(() => coerceLong(Number.MAX_SAFE_INTEGER + 1, LONG))).toMatch(/lost digits/);
    expect(refusal(() => coerceLong(2n ** 63n, LONG))).toMatch(/out of range for long/);
    expect(refusal(() => coerceLong(0.5, LONG))).toMatch(/not an integer/);
  });
});

describe('floats, booleans, strings', () => {
  it('reads floats from numbers, text and bigints', () => {
    const D: DataType = { type: 'double' };
    const F: DataType = { type: 'float' };
    expect(coerceFloat('1e-3', D, false)).toBe(0.001);
    expect(coerceFloat('+Infinity', D, false)).toBe(Number.POSITIVE_INFINITY);
    expect(coerceFloat('NaN', D, false)).toBeNaN();
    expect(coerceFloat(2n ** 64n, D, false)).toBe(2 ** 64);
    expect(coerceFloat(3.4e38, F, true)).toBe(3.4e38);
    expect(coerceFloat(Number.NEGATIVE_INFINITY, F, true)).toBe(Number.NEGATIVE_INFINITY);
    expect(refusal(() => coerceFloat(-3.5e38, F, true))).toMatch(/out of range for float/);
    expect(refusal(() => coerceFloat('1,5', D, false))).toMatch(/not number text/);
    expect(refusal(() => coerceFloat(null, D, false))).toMatch(/expected a number/);
  });

  it('reads booleans from booleans and their text only', () => {
    const B: DataType = { type: 'boolean' };
    expect(coerceBoolean('True', B)).toBe(true);
    expect(coerceBoolean(' false', B)).toBe(false);
    for (const v of [0, 1, 'yes', 't', '', {}]) expect(() => coerceBoolean(v, B)).toThrow(CoercionFailure);
  });

  it('never stringifies', () => {
    const S: DataType = { type: 'string' };
    expect(coerceString('x', S)).toBe('x');
    expect(refusal(() => coerceString(1, S))).toBe('expected a string, got a number');
    expect(refusal(() => coerceString(false, S))).toBe('expected a string, got a boolean');
    expect(refusal(() => coerceString(new Date(0), S))).toBe('expected a string, got an object');
  });
});

describe('binary', () => {
  it('decodes base64 in either alphabet, with or without padding', () => {
    expect([...coerceBinary('+/8=', BIN)]).toEqual([251, 255]);
    expect([...coerceBinary('-_8', BIN)]).toEqual([251, 255]);
    expect([...coerceBinary('AA', BIN)]).toEqual([0]);
    expect([...coerceBinary('', BIN)]).toEqual([]);
    for (const bad of ['A', 'AAAAA', 'A===', 'AA=A', 'a b c d', 'é'])
      expect(refusal(() => coerceBinary(bad, BIN))).toMatch(/base64/);
  });

  it('takes bytes as they are', () => {
    const u = new Uint8Array([1, 2]);
    expect(coerceBinary(u, BIN)).toBe(u);
    expect([...coerceBinary([0, 255], BIN)]).toEqual([0, 255]);
    expect(refusal(() => coerceBinary([-1], BIN))).toMatch(/element 0/);
    expect(refusal(() => coerceBinary([1.5], BIN))).toMatch(/element 0/);
  });
});

describe('decimals', () => {
  const unscaled = (v: unknown, p: number, s: number) => BigInt(coerceDecimal(v, dec(p, s)));

  it('reads numbers through their shortest round-trip text, exactly', () => {
    expect(unscaled(0.1, 10, 2)).toBe(10n);
    expect(unscaled(1.1, 3, 2)).toBe(110n);
    expect(unscaled(-2.675, 10, 3)).toBe(-2675n);
    expect(unscaled(1e-7, 10, 7)).toBe(1n);
    expect(unscaled(123_456_789_012.345, 15, 3)).toBe(123_456_789_012_345n);
    expect(unscaled(1e21, 22, 0)).toBe(10n ** 21n);
    expect(unscaled(2 ** 60, 20, 0)).toBe(1_152_921_504_606_847_000n);
    expect(unscaled(0.5, 38, 20)).toBe(5n * 10n ** 19n);
    expect(Object.is(coerceDecimal(-0, dec(5, 2)), 0)).toBe(true);
  });

  it('agrees with the exact text parser on random numbers', () => {
    let seed = 3;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 20_000; i++) {
      const digits = Math.floor(rand() * 12);
      const scale = Math.floor(rand() * 8);
      const precision = Math.min(38, scale + 1 + Math.floor(rand() * 16));
      const n =
        i % 3 === 0
          ? Math.round((rand() - 0.5) * 10 ** digits) / 10 ** Math.floor(rand() * 6)
          : (rand() - 0.5) * 10 ** (digits - 4);
      const expected = parseDecimalText(String(n), precision, scale, 'exact');
      if (expected === undefined)
        expect(() => coerceDecimal(n, dec(precision, scale)), String(n)).toThrow(CoercionFailure);
      else expect(unscaled(n, precision, scale), `${n} decimal(${precision},${scale})`).toBe(expected);
      const text = String(n);
      if (expected === undefined)
        expect(() => coerceDecimal(text, dec(precision, scale))).toThrow(CoercionFailure);
      else expect(unscaled(text, precision, scale)).toBe(expected);
    }
  });

  it('reads text and bigints exactly', () => {
    expect(unscaled('12.30', 4, 2)).toBe(1230n);
    expect(unscaled('.5', 4, 2)).toBe(50n);
    expect(unscaled('5.', 4, 2)).toBe(500n);
    expect(unscaled(' +1.5E2 ', 5, 0)).toBe(150n);
    expect(unscaled('-0.00', 4, 2)).toBe(0n);
    expect(unscaled(`${'9'.repeat(36)}.99`, 38, 2)).toBe(10n ** 38n - 1n);
    expect(unscaled(-12n, 4, 2)).toBe(-1200n);
  });

  it('refuses rounding and overflow with distinct reasons', () => {
    expect(refusal(() => coerceDecimal('1.005', dec(10, 2)))).toBe(
      'more than 2 fraction digits: the value would need rounding',
    );
    expect(refusal(() => coerceDecimal('100', dec(4, 2)))).toBe('more than 4 digits (precision 4, scale 2)');
    expect(refusal(() => coerceDecimal(100n, dec(4, 2)))).toBe('more than 4 digits (precision 4, scale 2)');
    expect(refusal(() => coerceDecimal('1e400', dec(38, 0)))).toMatch(/more than 38 digits/);
    expect(refusal(() => coerceDecimal('1e-400', dec(38, 0)))).toMatch(/fraction digits/);
    expect(refusal(() => coerceDecimal('--1', dec(4, 2)))).toBe('not decimal text');
    expect(refusal(() => coerceDecimal('', dec(4, 2)))).toBe('not decimal text');
    expect(refusal(() => coerceDecimal(Number.POSITIVE_INFINITY, dec(4, 2)))).toBe('not a finite number');
  });
});
