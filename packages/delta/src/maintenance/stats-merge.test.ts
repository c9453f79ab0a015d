import { describe, expect, it } from 'vitest';
import type { FileStats } from '../actions/types.js';
import type { StructField, StructType } from '../schema/types.js';
import { mergeFileStats } from './stats-merge.js';

const f = (name: string, type: StructField['type']): StructField => ({
  name,
  type,
  nullable: true,
  metadata: {},
});

const COLUMNS: StructType = {
  type: 'struct',
  fields: [
    f('id', { type: 'long' }),
    f('name', { type: 'string' }),
    f('amount', { type: 'decimal', precision: 12, scale: 2 }),
    f('at', { type: 'timestamp' }),
    f('loc', { type: 'struct', fields: [f('lat', { type: 'double' }), f('city', { type: 'string' })] }),
    f('tags', { type: 'array', elementType: { type: 'string' }, containsNull: true }),
  ],
};

describe('mergeFileStats', () => {
  it('takes the smallest min and largest max as typed values, sums null counts', () => {
    const a: FileStats = {
      numRecords: 3,
      minValues: {
        id: 10,
        name: 'b',
        amount: 9.5,
        at: '2024-01-02T00:00:00.000Z',
        loc: { lat: -1.5, city: 'Zürich' },
      },
      maxValues: {
        id: 900,
        name: 'x',
        amount: 100.25,
        at: '2024-03-01T10:00:00.000Z',
        loc: { lat: 2, city: 'Zürich' },
      },
      nullCount: { id: 0, name: 1, amount: 0, at: 0, loc: { lat: 0, city: 1 }, tags: 2 },
      tightBounds: true,
    };
    const b: FileStats = {
      numRecords: 2,
      // 9 < 10 as numbers, though '9' > '10' as text; '\u{1F600}' sorts after 'x' in code point order.
      minValues: {
        id: 9,
        name: 'a',
        amount: 10,
        at: '2023-12-31T23:59:59.999Z',
        loc: { lat: 0, city: 'Bern' },
      },
      maxValues: {
        id: 1000,
        name: '\u{1F600}',
        amount: 99,
        at: '2024-01-01T00:00:00.000Z',
        loc: { lat: 3, city: 'Basel' },
      },
      nullCount: { id: 0, name: 0, amount: 1, at: 0, loc: { lat: 1, city: 0 }, tags: 0 },
      tightBounds: true,
    };
    expect(mergeFileStats([a, b], COLUMNS, 5)).toEqual({
      numRecords: 5,
      minValues: {
        id: 9,
        name: 'a',
        amount: 9.5,
        at: '2023-12-31T23:59:59.999Z',
        loc: { lat: -1.5, city: 'Bern' },
      },
      maxValues: {
        id: 1000,
        name: '\u{1F600}',
        amount: 100.25,
        at: '2024-03-01T10:00:00.000Z',
        loc: { lat: 3, city: 'Zürich' },
      },
      nullCount: { id: 0, name: 1, amount: 1, at: 0, loc: { lat: 1, city: 1 }, tags: 2 },
      tightBounds: true,
    });
  });

  it('ignores an all-null column but drops a bound an input does not know', () => {
    const a: FileStats = {
      numRecords: 2,
      minValues: { id: 5 },
      maxValues: { id: 6 },
      nullCount: { id: 0, name: 2 },
    };
    const b: FileStats = {
      numRecords: 2,
      minValues: { id: 1, name: 'k' },
      maxValues: { id: 2, name: 'm' },
      nullCount: { id: 0, name: 0 },
    };
    // name: a is all null there, so b alone bounds it. id: both bound it.
    expect(mergeFileStats([a, b], COLUMNS, 4)).toEqual({
      numRecords: 4,
      minValues: { id: 1, name: 'k' },
      maxValues: { id: 6, name: 'm' },
      nullCount: { id: 0, name: 2 },
    });
    // Without a's nullCount for name, its missing bound may hide values: no bound, no count.
    const c: FileStats = { numRecords: 2, minValues: { id: 5 }, maxValues: { id: 6 }, nullCount: { id: 0 } };
    expect(mergeFileStats([c, b], COLUMNS, 4)).toEqual({
      numRecords: 4,
      minValues: { id: 1 },
      maxValues: { id: 6 },
      nullCount: { id: 0 },
    });
  });

  it('keeps only numRecords when an input has no stats, and loose bounds stay loose', () => {
    expect(mergeFileStats([{ numRecords: 1, minValues: { id: 1 } }, undefined], COLUMNS, 3)).toEqual({
      numRecords: 3,
    });
    const loose = mergeFileStats(
      [
        {
          numRecords: 1,
          minValues: { id: 1 },
          maxValues: { id: 1 },
          nullCount: { id: 0 },
          tightBounds: false,
        },
        {
          numRecords: 1,
          minValues: { id: 2 },
          maxValues: { id: 2 },
          nullCount: { id: 0 },
          tightBounds: true,
        },
      ],
      COLUMNS,
      2,
    );
    expect(loose.tightBounds).toBe(false);
  });

  it('compares longs beyond 2^53 exactly', () => {
    const big = 2n ** 60n;
    const merged = mergeFileStats(
      [
        { numRecords: 1, minValues: { id: big + 1n }, maxValues: { id: big + 1n }, nullCount: { id: 0 } },
        { numRecords: 1, minValues: { id: big }, maxValues: { id: big + 2n }, nullCount: { id: 0 } },
      ],
      COLUMNS,
      2,
    );
    expect(merged.minValues).toEqual({ id: big });
    expect(merged.maxValues).toEqual({ id: big + 2n });
  });
});
