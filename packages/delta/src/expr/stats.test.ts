import { describe, expect, it } from 'vitest';
import type { DataType, StructField, StructType } from '../schema/types.js';
import type { BoundExpr, ScalarValue } from './ast.js';
import { bindPredicate } from './bind.js';
import { type MayMatchOptions, mayMatchStats, type StatsAccessor, toNegationNormalForm } from './evaluate.js';
import { parsePredicate } from './parse.js';

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
    f('s', 'string'),
    f('ts', 'timestamp'),
    f('ntz', 'timestamp_ntz'),
    f('price', { type: 'decimal', precision: 10, scale: 2 }),
    f('part', 'string'),
    f('st', { type: 'struct', fields: [f('x', 'integer')] }),
  ],
};

const bind = (text: string): BoundExpr => bindPredicate(parsePredicate(text), schema);

interface Col {
  min?: ScalarValue;
  max?: ScalarValue;
  nulls?: ScalarValue;
}

function statsOf(numRecords: number | undefined, cols: Record<string, Col>): StatsAccessor {
  return {
    ...(numRecords === undefined ? {} : { numRecords }),
    min: (p) => cols[p.join('.')]?.min,
    max: (p) => cols[p.join('.')]?.max,
    nullCount: (p) => cols[p.join('.')]?.nulls,
  };
}

// file: 10 rows, a in [10, 20] with 2 nulls, b all null, s in ['bar', 'foo']
const file = statsOf(10, {
  a: { min: 10n, max: 20n, nulls: 2 },
  b: { nulls: 10 },
  i: { min: 0, max: 0, nulls: 0 },
  s: { min: 'bar', max: 'foo', nulls: 0 },
  price: { min: 100n, max: 250n, nulls: 0 },
  'st.x': { min: 5, max: 7, nulls: 0 },
});

const may = (
  text: string,
  stats: StatsAccessor = file,
  pv?: (p: readonly string[]) => ScalarValue | undefined,
  opts?: MayMatchOptions,
) => mayMatchStats(bind(text), stats, pv, opts);

describe('mayMatchStats: leaves', () => {
  it('= uses min <= x <= max', () => {
    expect(may('a = 10')).toBe(true);
    expect(may('a = 20')).toBe(true);
    expect(may('a = 15')).toBe(true);
    expect(may('a = 9')).toBe(false);
    expect(may('a = 21')).toBe(false);
  });

  it('ranges use one bound each', () => {
    expect(may('a < 10')).toBe(false);
    expect(may('a < 11')).toBe(true);
    expect(may('a <= 10')).toBe(true);
    expect(may('a <= 9')).toBe(false);
    expect(may('a > 20')).toBe(false);
    expect(may('a > 19')).toBe(true);
    expect(may('a >= 20')).toBe(true);
    expect(may('a >= 21')).toBe(false);
    expect(may('15 < a')).toBe(true);
    expect(may('25 < a')).toBe(false);
    expect(may('a BETWEEN 21 AND 30')).toBe(false);
    expect(may('a BETWEEN 5 AND 10')).toBe(true);
  });

  it('!= skips only a file where every non-null value equals x', () => {
    expect(may('i != 0')).toBe(false);
    expect(may('i != 1')).toBe(true);
    expect(may('a != 10')).toBe(true);
  });

  it('IN: some element may be equal; NOT IN: every != may hold', () => {
    expect(may('a IN (1, 2, 30)')).toBe(false);
    expect(may('a IN (1, 15)')).toBe(true);
    expect(may('i NOT IN (0)')).toBe(false);
    expect(may('i NOT IN (1, 2)')).toBe(true);
    expect(may('a NOT IN (1, NULL)')).toBe(false); // NOT IN with a NULL is never true
    expect(may('a IN (15, NULL)')).toBe(true);
  });

  it('IS NULL uses nullCount > 0, IS NOT NULL nullCount < numRecords', () => {
    expect(may('a IS NULL')).toBe(true);
    expect(may('i IS NULL')).toBe(false);
    expect(may('b IS NOT NULL')).toBe(false);
    expect(may('a IS NOT NULL')).toBe(true);
    expect(may('i IS NOT NULL')).toBe(true);
    expect(may('a IS NULL', statsOf(undefined, { a: { nulls: 0 } }))).toBe(false);
    expect(may('a IS NOT NULL', statsOf(undefined, { a: { nulls: 3 } }))).toBe(true); // numRecords unknown
  });

  it('comparisons on an all-null column never match', () => {
    expect(may('b = 1')).toBe(false);
    expect(may('b != 1')).toBe(false);
    expect(may('b IN (1, 2)')).toBe(false);
    expect(may('b NOT IN (1)')).toBe(false);
    expect(may('a < b')).toBe(false);
  });

  it('strings compare by UTF-8 bytes; decimals unscaled; nested columns by path', () => {
    expect(may("s = 'baz'")).toBe(true);
    expect(may("s = 'fop'")).toBe(false);
    expect(may("s < 'bar'")).toBe(false);
    expect(may("s > 'foo'")).toBe(false);
    expect(may("s >= 'foo'")).toBe(true);
    expect(may('price > 2.5')).toBe(false);
    expect(may('price >= 2.5')).toBe(true);
    expect(may('price < 1')).toBe(false);
    expect(may('st.x = 4')).toBe(false);
    expect(may('st.x = 6')).toBe(true);
  });

  it('column-vs-column compares the bound intervals', () => {
    const stats = statsOf(5, {
      a: { min: 10n, max: 20n, nulls: 0 },
      b: { min: 30n, max: 40n, nulls: 0 },
      i: { min: 20, max: 25, nulls: 0 },
    });
    expect(may('a < b', stats)).toBe(true);
    expect(may('a > b', stats)).toBe(false);
    expect(may('a >= b', stats)).toBe(false);
    expect(may('a = b', stats)).toBe(false);
    expect(may('a != b', stats)).toBe(true);
    expect(may('a >= i', stats)).toBe(true); // 20 >= 20 possible
    expect(may('a > i', stats)).toBe(false);
    expect(may('a = i', stats)).toBe(true);
    const single = statsOf(5, { a: { min: 7n, max: 7n, nulls: 0 }, b: { min: 7n, max: 7n, nulls: 0 } });
    expect(may('a != b', single)).toBe(false);
    expect(may('a = b', single)).toBe(true);
  });

  it('constants', () => {
    expect(may('1 = 1')).toBe(true);
    expect(may('1 = 2')).toBe(false);
    expect(may('a = NULL')).toBe(false);
  });
});

describe('mayMatchStats: conservative on missing or odd stats', () => {
  it('missing stats may match', () => {
    const none = statsOf(undefined, {});
    for (const text of [
      'a = 1',
      'a < 1',
      'a IS NULL',
      'a IS NOT NULL',
      'a NOT IN (1)',
      'a != 1',
      'NOT (a = 1)',
      'a < b',
    ]) {
      expect(may(text, none)).toBe(true);
    }
    expect(may('a = 100', statsOf(10, { a: { min: 10n } }))).toBe(true); // no max
    expect(may('a = 1', statsOf(10, { a: { max: 20n } }))).toBe(true); // no min
  });

  it('an empty file matches nothing', () => {
    expect(may('a IS NULL', statsOf(0, {}))).toBe(false);
    expect(may('1 = 1', statsOf(0, {}))).toBe(false);
  });

  it('values of the wrong JS type count as unknown; numbers accepted for longs', () => {
    expect(may('a = 100', statsOf(10, { a: { min: '10', max: '20' } }))).toBe(true);
    expect(may('price > 100', statsOf(10, { price: { min: 1, max: 2 } }))).toBe(true); // decimal as number: unknown
    expect(may('a = 100', statsOf(10, { a: { min: 10, max: 20 } }))).toBe(false);
    expect(may('a = 100', statsOf(10, { a: { min: 10, max: 20, nulls: 'x' } }))).toBe(false);
    expect(may('a IS NULL', statsOf(10, { a: { nulls: 'x' } }))).toBe(true);
    expect(may('a IS NOT NULL', statsOf(10n as unknown as number, { a: { nulls: 10n } }))).toBe(false);
  });
});

describe('mayMatchStats: NOT is pushed down, never applied to "may match"', () => {
  it('negates comparisons', () => {
    // NOT (a > 5) = a <= 5: impossible when min = 10
    expect(may('NOT a > 5')).toBe(false);
    expect(may('NOT a > 15')).toBe(true);
    expect(may('NOT a < 25')).toBe(false);
    expect(may('NOT a = 15')).toBe(true);
    expect(may('NOT i = 0')).toBe(false);
  });

  it('applies De Morgan through AND / OR', () => {
    // NOT (a >= 10 AND a <= 20) = a < 10 OR a > 20: impossible
    expect(may('NOT (a >= 10 AND a <= 20)')).toBe(false);
    expect(may('a NOT BETWEEN 10 AND 20')).toBe(false);
    expect(may('a NOT BETWEEN 12 AND 20')).toBe(true);
    // NOT (a < 10 OR a > 20) = a >= 10 AND a <= 20: possible
    expect(may('NOT (a < 10 OR a > 20)')).toBe(true);
    expect(may('NOT (a = 15 OR i = 1)')).toBe(true);
    expect(may('NOT (a > 0 OR i = 1)')).toBe(false);
  });

  it('flips IN and IS NULL', () => {
    expect(may('NOT i IN (0)')).toBe(false);
    expect(may('NOT a IN (1)')).toBe(true);
    expect(may('NOT b IS NULL')).toBe(false);
    expect(may('NOT i IS NOT NULL')).toBe(false);
    expect(may('NOT NOT a = 9')).toBe(false);
  });

  it('toNegationNormalForm leaves no NOT behind', () => {
    const nnf = toNegationNormalForm(bind('NOT (a = 1 AND NOT (b IN (1) OR s IS NULL)) OR NOT 1 = 2'));
    expect(JSON.stringify(nnf, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('"not"');
  });
});

describe('mayMatchStats: partition values', () => {
  const pv = (value: ScalarValue) => (p: readonly string[]) => (p[0] === 'part' ? value : undefined);

  it('a partition value is the only value of its column', () => {
    expect(may("part = 'x'", file, pv('x'))).toBe(true);
    expect(may("part = 'y'", file, pv('x'))).toBe(false);
    expect(may("part != 'x'", file, pv('x'))).toBe(false);
    expect(may("part IN ('a', 'x')", file, pv('x'))).toBe(true);
    expect(may('part IS NULL', file, pv('x'))).toBe(false);
    expect(may("part = 'x' AND a = 100", file, pv('x'))).toBe(false);
    expect(may("part = 'x' AND a = 15", file, pv('x'))).toBe(true);
  });

  it('a NULL partition value matches only IS NULL', () => {
    expect(may('part IS NULL', file, pv(null))).toBe(true);
    expect(may('part IS NOT NULL', file, pv(null))).toBe(false);
    expect(may("part = 'x'", file, pv(null))).toBe(false);
    expect(may("part NOT IN ('x')", file, pv(null))).toBe(false);
  });

  it('is also read from the accessor object', () => {
    expect(mayMatchStats(bind("part = 'y'"), { ...file, partitionValue: pv('x') })).toBe(false);
    expect(mayMatchStats(bind("part = 'x'"), { ...file, partitionValue: pv('x') })).toBe(true);
  });
});

describe('mayMatchStats: writer quirks', () => {
  it('widens timestamp bounds by 999us (Spark truncates stats to milliseconds)', () => {
    const t = 1609459200123000n; // ...00.123 as written
    const stats = statsOf(3, { ts: { min: t, max: t, nulls: 0 }, ntz: { min: t, max: t, nulls: 0 } });
    expect(may("ts = TIMESTAMP '2021-01-01 00:00:00.123456'", stats)).toBe(true);
    expect(may("ts > TIMESTAMP '2021-01-01 00:00:00.123998'", stats)).toBe(true);
    expect(may("ts > TIMESTAMP '2021-01-01 00:00:00.123999'", stats)).toBe(false);
    expect(may("ts = TIMESTAMP '2021-01-01 00:00:00.124'", stats)).toBe(false);
    expect(may("ntz >= TIMESTAMP_NTZ '2021-01-01 00:00:00.123999'", stats)).toBe(true);
    // min widened to .122001 (callers may write it truncated toward zero or floor)
    expect(may("ts < TIMESTAMP '2021-01-01 00:00:00.122002'", stats)).toBe(true);
    expect(may("ts <= TIMESTAMP '2021-01-01 00:00:00.122001'", stats)).toBe(true);
    expect(may("ts < TIMESTAMP '2021-01-01 00:00:00.122001'", stats)).toBe(false);
  });

  it('string max: an upper bound by default; a possibly truncated prefix with the flag', () => {
    const stats = statsOf(3, { s: { min: 'abc', max: 'abd', nulls: 0 } });
    expect(may("s = 'abdz'", stats)).toBe(false);
    expect(may("s = 'abdz'", stats, undefined, { stringMaxMayBeTruncated: true })).toBe(true);
    expect(may("s > 'abd'", stats, undefined, { stringMaxMayBeTruncated: true })).toBe(true);
    expect(may("s > 'abe'", stats, undefined, { stringMaxMayBeTruncated: true })).toBe(false);
    expect(may("s = 'abe'", stats, undefined, { stringMaxMayBeTruncated: true })).toBe(false);
    const single = statsOf(3, { s: { min: 'abd', max: 'abd', nulls: 0 } });
    expect(may("s != 'abd'", single)).toBe(false);
    expect(may("s != 'abd'", single, undefined, { stringMaxMayBeTruncated: true })).toBe(true);
  });
});
