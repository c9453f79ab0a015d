import { describe, expect, it } from 'vitest';
import type { DataType, StructField, StructType } from '../schema/types.js';
import type { BoundExpr, ScalarValue } from './ast.js';
import { bindPredicate } from './bind.js';
import { evaluateOnValues } from './evaluate.js';
import { parsePredicate } from './parse.js';
import { compareScalars, compareUtf8 } from './values.js';

const f = (name: string, type: DataType | string): StructField => ({
  name,
  type: typeof type === 'string' ? ({ type } as DataType) : type,
  nullable: true,
  metadata: {},
});

const schema: StructType = {
  type: 'struct',
  fields: [
    f('a', 'long'),
    f('b', 'long'),
    f('i', 'integer'),
    f('d', 'double'),
    f('s', 'string'),
    f('flag', 'boolean'),
    f('bin', 'binary'),
    f('day', 'date'),
    f('ts', 'timestamp'),
    f('price', { type: 'decimal', precision: 10, scale: 2 }),
    f('st', { type: 'struct', fields: [f('x', 'integer')] }),
  ],
};

const bind = (text: string): BoundExpr => bindPredicate(parsePredicate(text), schema);

function evalRow(text: string, row: Record<string, ScalarValue | undefined>): boolean | null {
  return evaluateOnValues(bind(text), (path) => row[path.join('.')]);
}

describe('value ordering', () => {
  it('compares strings by UTF-8 bytes, not UTF-16 units', () => {
    // U+FFFD (EF BF BD) < U+1F600 (F0 9F 98 80) in UTF-8, but not in UTF-16 ('\uD83D' < '\uFFFD')
    expect(compareUtf8('\uFFFD', '😀')).toBe(-1);
    expect('\uFFFD' < '😀').toBe(false);
    expect(compareUtf8('😀', '\uE000')).toBe(1);
    expect(compareUtf8('a', 'ab')).toBe(-1);
    expect(compareUtf8('', '')).toBe(0);
    expect(compareUtf8('é', 'z')).toBe(1);
  });

  it('agrees with Buffer.compare on random strings', () => {
    const alphabet = [
      'a',
      'b',
      'z',
      'é',
      '\u07FF',
      '\u0800',
      '\uD7FF',
      '\uE000',
      '\uFFFF',
      '😀',
      '𝄞',
      '\u0000',
    ];
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const mk = () => Array.from({ length: rnd() % 5 }, () => alphabet[rnd() % alphabet.length]).join('');
      const x = mk();
      const y = mk();
      expect(compareUtf8(x, y)).toBe(Math.sign(Buffer.compare(Buffer.from(x), Buffer.from(y))));
    }
  });

  it('orders numbers exactly across number/bigint, with NaN largest and -0 = 0', () => {
    expect(compareScalars(1n, 1)).toBe(0);
    expect(compareScalars(2n ** 63n, 2 ** 63 - 1024)).toBe(1);
    expect(compareScalars(9007199254740993n, 9007199254740992)).toBe(1);
    expect(compareScalars(Number.NaN, Number.NaN)).toBe(0);
    expect(compareScalars(Number.NaN, Infinity)).toBe(1);
    expect(compareScalars(5n, Number.NaN)).toBe(-1);
    expect(compareScalars(-0, 0)).toBe(0);
  });

  it('orders binary bytewise unsigned and booleans false < true', () => {
    expect(compareScalars(new Uint8Array([1, 255]), new Uint8Array([2]))).toBe(-1);
    expect(compareScalars(new Uint8Array([0x80]), new Uint8Array([0x7f]))).toBe(1);
    expect(compareScalars(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(-1);
    expect(compareScalars(false, true)).toBe(-1);
  });

  it('refuses to compare different families', () => {
    expect(() => compareScalars('1', 1)).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH' }));
  });
});

describe('evaluateOnValues', () => {
  it('evaluates comparisons, NULL operands giving NULL', () => {
    expect(evalRow('a = 5', { a: 5n })).toBe(true);
    expect(evalRow('a != 5', { a: 5n })).toBe(false);
    expect(evalRow('a < 5', { a: 4n })).toBe(true);
    expect(evalRow('a <= 5', { a: 6n })).toBe(false);
    expect(evalRow('a > 5', { a: 6n })).toBe(true);
    expect(evalRow('a >= 5', { a: 5n })).toBe(true);
    for (const op of ['=', '!=', '<', '<=', '>', '>=']) expect(evalRow(`a ${op} 5`, { a: null })).toBeNull();
    expect(evalRow('a < b', { a: 1n, b: 2n })).toBe(true);
    expect(evalRow('a < b', { a: 1n, b: null })).toBeNull();
    expect(evalRow('a = i', { a: 3n, i: 3 })).toBe(true);
  });

  it('compares by type: decimals unscaled, dates as days, timestamps as micros, strings by bytes', () => {
    expect(evalRow('price > 1.5', { price: 151n })).toBe(true);
    expect(evalRow('price = 1.5', { price: 150n })).toBe(true);
    expect(evalRow("day = '2021-01-01'", { day: 18628 })).toBe(true);
    expect(evalRow("ts < TIMESTAMP '2021-01-01 00:00:00.000001'", { ts: 1609459200000000n })).toBe(true);
    expect(evalRow("s > '\uFFFD'", { s: '😀' })).toBe(true);
    expect(evalRow("bin < X'80'", { bin: new Uint8Array([0x7f, 0xff]) })).toBe(true);
    expect(evalRow('flag', { flag: true })).toBe(true);
    expect(evalRow('flag < TRUE', { flag: false })).toBe(true);
    expect(evalRow('st.x = 3', { 'st.x': 3 })).toBe(true);
  });

  it('treats NaN as equal to itself and above every number', () => {
    expect(evalRow("d = 'NaN'", { d: Number.NaN })).toBe(true);
    expect(evalRow('d > 1e308', { d: Number.NaN })).toBe(true);
    expect(evalRow('d < 0', { d: Number.NaN })).toBe(false);
    expect(evalRow("d < 'NaN'", { d: Infinity })).toBe(true);
  });

  it('IN / NOT IN with NULLs (SQL semantics)', () => {
    expect(evalRow('a IN (1, 2)', { a: 2n })).toBe(true);
    expect(evalRow('a IN (1, 2)', { a: 3n })).toBe(false);
    expect(evalRow('a IN (1, NULL)', { a: 1n })).toBe(true);
    expect(evalRow('a IN (1, NULL)', { a: 3n })).toBeNull();
    expect(evalRow('a IN (1, 2)', { a: null })).toBeNull();
    expect(evalRow('a NOT IN (1, 2)', { a: 3n })).toBe(true);
    expect(evalRow('a NOT IN (1, 2)', { a: 1n })).toBe(false);
    expect(evalRow('a NOT IN (1, NULL)', { a: 3n })).toBeNull();
    expect(evalRow('a NOT IN (1, NULL)', { a: 1n })).toBe(false);
    expect(evalRow('a NOT IN (1, 2)', { a: null })).toBeNull();
  });

  it('IS NULL / IS NOT NULL are never NULL', () => {
    expect(evalRow('a IS NULL', { a: null })).toBe(true);
    expect(evalRow('a IS NULL', { a: 1n })).toBe(false);
    expect(evalRow('a IS NOT NULL', { a: null })).toBe(false);
    expect(evalRow('a IS NOT NULL', { a: 1n })).toBe(true);
  });

  it('AND / OR / NOT follow Kleene truth tables', () => {
    const lit = { T: 'a = 1', F: 'a = 2', N: 'b = 1' } as const; // row: a = 1, b = NULL
    const row = { a: 1n, b: null };
    const v = { T: true, F: false, N: null } as const;
    const and = (x: boolean | null, y: boolean | null) =>
      x === false || y === false ? false : x === null || y === null ? null : true;
    const or = (x: boolean | null, y: boolean | null) =>
      x === true || y === true ? true : x === null || y === null ? null : false;
    for (const x of ['T', 'F', 'N'] as const) {
      expect(evalRow(`NOT ${lit[x]}`, row)).toBe(v[x] === null ? null : !v[x]);
      for (const y of ['T', 'F', 'N'] as const) {
        expect(evalRow(`${lit[x]} AND ${lit[y]}`, row)).toBe(and(v[x], v[y]));
        expect(evalRow(`${lit[x]} OR ${lit[y]}`, row)).toBe(or(v[x], v[y]));
      }
    }
  });

  it('BETWEEN is inclusive', () => {
    expect(evalRow('a BETWEEN 1 AND 3', { a: 1n })).toBe(true);
    expect(evalRow('a BETWEEN 1 AND 3', { a: 3n })).toBe(true);
    expect(evalRow('a BETWEEN 1 AND 3', { a: 4n })).toBe(false);
    expect(evalRow('a NOT BETWEEN 1 AND 3', { a: 4n })).toBe(true);
    expect(evalRow('a NOT BETWEEN 1 AND 3', { a: null })).toBeNull();
  });

  it('undefined values are unknown: false only when no value could make it true (pruning)', () => {
    // only `a` known (a partition column); b unknown
    const get = (path: readonly string[]) => (path[0] === 'a' ? 5n : undefined);
    expect(evaluateOnValues(bind('a = 4 AND b = 1'), get)).toBe(false);
    expect(evaluateOnValues(bind('a = 5 AND b = 1'), get)).toBeNull();
    expect(evaluateOnValues(bind('a = 4 OR b = 1'), get)).toBeNull();
    expect(evaluateOnValues(bind('a = 5 OR b = 1'), get)).toBe(true);
    expect(evaluateOnValues(bind('b IS NULL'), get)).toBeNull();
    expect(evaluateOnValues(bind('NOT (a = 4 AND b = 1)'), get)).toBe(true);
  });

  it('constant predicates', () => {
    expect(evalRow('1 = 1', {})).toBe(true);
    expect(evalRow('a = NULL', { a: 1n })).toBeNull();
  });

  it('reports a value of the wrong type as TYPE_MISMATCH naming the column', () => {
    expect(() => evalRow('s = 1', { s: 1 })).toThrow(); // binding already refuses
    expect(() => evalRow("s = 'x'", { s: 5 })).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH' }));
    expect(() => evalRow("s = 'x'", { s: 5 })).toThrow(/column 's'/);
  });
});
