import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { organizeListing } from '../log/log-segment.js';
import { type CommitTime, commitTimestamps, versionAtTimestamp } from './timestamps.js';

const key = (n: number) => `_delta_log/${String(n).padStart(20, '0')}.json`;

function times(...mtimes: [version: number, lastModified: number][]): CommitTime[] {
  return commitTimestamps(
    organizeListing(mtimes.map(([v, t]) => ({ key: key(v), size: 1, lastModified: t }))),
  );
}

function errorOf(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    return err as WeirError;
  }
  throw new Error('expected an error');
}

describe('commitTimestamps', () => {
  it('uses the file times when they increase', () => {
    expect(times([0, 100], [1, 200], [2, 300])).toEqual([
      { version: 0, timestamp: 100 },
      { version: 1, timestamp: 200 },
      { version: 2, timestamp: 300 },
    ]);
  });

  it('makes times monotonic: a commit not after its predecessor counts as predecessor + 1 ms', () => {
    expect(times([0, 100], [1, 50], [2, 100], [3, 101], [4, 500]).map((t) => t.timestamp)).toEqual([
      100, 101, 102, 103, 500,
    ]);
  });

  it('orders by version, not by listing order', () => {
    const listing = organizeListing([
      { key: key(1), size: 1, lastModified: 50 },
      { key: key(0), size: 1, lastModified: 100 },
    ]);
    expect(commitTimestamps(listing)).toEqual([
      { version: 0, timestamp: 100 },
      { version: 1, timestamp: 101 },
    ]);
  });

  it('is empty for a log without commits', () => {
    expect(commitTimestamps({ commits: [], checkpoints: [] })).toEqual([]);
  });
});

describe('versionAtTimestamp', () => {
  const t = times([3, 1000], [4, 2000], [5, 3000], [6, 3000]);

  it('returns the commit at exactly that instant', () => {
    expect(versionAtTimestamp(t, 1000, 'tbl')).toBe(3);
    expect(versionAtTimestamp(t, 2000, 'tbl')).toBe(4);
    expect(versionAtTimestamp(t, 3000, 'tbl')).toBe(5);
    expect(versionAtTimestamp(t, 3001, 'tbl')).toBe(6);
  });

  it('returns the latest commit at or before an instant between commits', () => {
    expect(versionAtTimestamp(t, 1999, 'tbl')).toBe(3);
    expect(versionAtTimestamp(t, 2500, 'tbl')).toBe(4);
  });

  it('returns the latest version for an instant after the last commit', () => {
    expect(versionAtTimestamp(t, Date.UTC(2100, 0, 1), 'tbl')).toBe(6);
  });

  it('refuses an instant before the first commit (TIMESTAMP_BEFORE_FIRST_COMMIT)', () => {
    const err = errorOf(() => versionAtTimestamp(t, 999, 'tbl'));
    expect(err.code).toBe('TIMESTAMP_BEFORE_FIRST_COMMIT');
    expect(err.details).toEqual({
      table: 'tbl',
      timestamp: 999,
      earliestVersion: 3,
      earliestTimestamp: 1000,
    });
  });

  it('says NOT_A_DELTA_TABLE without commits', () => {
    expect(errorOf(() => versionAtTimestamp([], 0, 'tbl'))).toMatchObject({
      code: 'NOT_A_DELTA_TABLE',
      details: { table: 'tbl' },
    });
  });

  it('agrees with a linear search on many monotonic logs', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 50; run++) {
      const n = 1 + Math.floor(rnd() * 30);
      const list = times(
        ...Array.from({ length: n }, (_, i): [number, number] => [i, Math.floor(rnd() * 100)]),
      );
      for (let q = list[0]!.timestamp; q <= list.at(-1)!.timestamp + 2; q++) {
        const expected = list.filter((x) => x.timestamp <= q).at(-1)!.version;
        expect(versionAtTimestamp(list, q, 'tbl')).toBe(expected);
      }
    }
  });
});
