/**
 * Facts about reference tables that ship no expected data, restated from
 * `../shared/reference-tables/EXPECTED.md`. Each entry checks a loaded table through the public
 * API; a table in the catalog with neither expected data nor facts still gets the generic
 * checks (reads fully; rows agree with DuckDB over the same files where that applies).
 */

import type { JsonValue, Snapshot } from '@weir/delta';
import { expect } from 'vitest';

export interface FactContext {
  snapshot: Snapshot;
  /** All rows of the latest version (reads the data files). */
  rows(): Promise<Record<string, JsonValue>[]>;
  /** Rows of a filtered scan through the public API. */
  scan(options: {
    where?: string;
    version?: number;
    columns?: string[];
  }): Promise<Record<string, JsonValue>[]>;
  /** Number of files a filtered scan reads. */
  filesRead(where: string): Promise<number>;
  snapshotAt(version: number): Promise<Snapshot>;
}

const ids = (rows: Record<string, JsonValue>[], col = 'id') =>
  rows.map((r) => r[col]).sort((a, b) => Number(a) - Number(b));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Must fail to load, with this error code. */
export const NEGATIVE: Record<string, string> = {
  'golden-versions-not-contiguous': 'VERSIONS_NOT_CONTIGUOUS',
};

export const FACTS: Record<string, (ctx: FactContext) => Promise<void> | void> = {
  'golden-checkpoint': ({ snapshot }) => {
    expect(snapshot.version).toBe(14);
    expect(snapshot.files().length).toBe(1);
  },
  'golden-basic-with-inserts-deletes-checkpoint': async ({ snapshot, rows: readRows }) => {
    const rows = await readRows();
    expect(snapshot.version).toBe(13);
    expect(ids(rows)).toEqual([
      ...range(0, 4),
      ...range(10, 14),
      ...range(20, 24),
      ...range(30, 34),
      ...range(40, 44),
      ...range(50, 65),
    ]);
  },
  'golden-basic-with-inserts-merge': async ({ rows: readRows }) => {
    const rows = await readRows();
    expect(rows.length).toBe(140);
    const byId = new Map(rows.map((r) => [Number(r.id), r.str]));
    for (let i = 10; i < 50; i++) expect(byId.get(i)).toBe(`val=${i}`);
    for (let i = 50; i < 100; i++) expect(byId.get(i)).toBe('N/A');
    for (let i = 100; i < 150; i++) expect(byId.get(i)).toBe('EXT');
  },
  'golden-log-replay-latest-metadata-protocol': ({ snapshot }) => {
    expect(snapshot.schema.fields.map((f) => f.name)).toEqual(['col1', 'col2']);
    expect(snapshot.protocol.minReaderVersion).toBe(3);
    expect(snapshot.protocol.minWriterVersion).toBe(7);
  },
  'golden-multi-part-checkpoint': async ({ rows: readRows }) => {
    const rows = await readRows();
    expect(ids(rows)).toEqual([0, ...range(0, 29)]);
  },
  'golden-data-reader-escaped-chars': ({ snapshot }) => {
    const values = snapshot
      .files()
      .map((f) => f.partitionValues._2)
      .sort();
    expect(values).toEqual(['bar+%21', 'bar+%22', 'bar+%23']);
  },
  'golden-data-reader-timestamp_ntz': async ({ rows: readRows }) => {
    const rows = await readRows();
    const a = '2021-11-18T02:30:00.123456';
    const b = '2013-07-05T17:01:00.123456';
    const expected = [
      [0, a, a],
      [1, b, a],
      [2, null, a],
      [3, a, b],
      [4, b, b],
      [5, null, b],
      [6, a, null],
      [7, b, null],
      [8, null, null],
    ];
    const got = rows
      .map((r) => [r.id, r.tsNtz, r.tsNtzPartition])
      .sort((x, y) => Number(x[0]) - Number(y[0]));
    expect(got).toEqual(expected);
  },
  'golden-data-reader-primitives': async ({ rows: readRows }) => {
    const rows = await readRows();
    expect(rows.length).toBe(11);
    expect(rows.filter((r) => Object.values(r).every((v) => v === null)).length).toBe(1);
  },
  'krs-app-txn-checkpoint': async ({ snapshot, filesRead }) => {
    expect(snapshot.version).toBe(1);
    expect(snapshot.files().length).toBe(4);
    expect(snapshot.appTransactions().size).toBe(2);
    expect(snapshot.appTransactionVersion('my-app2')).toBe(2);
    expect(snapshot.appTransactionVersion('my-app')).toBe(3);
    // Stats: the 2021-02-01 files hold value in [4, 11], the 2021-02-02 files in [1, 3].
    expect(await filesRead("modified = '2021-02-01'")).toBe(2);
    expect(await filesRead('value > 3')).toBe(2);
    expect(await filesRead('value > 11')).toBe(0);
  },
  'krs-cdf-table': async ({ snapshot, rows: readRows }) => {
    const rows = await readRows();
    expect(snapshot.version).toBe(3);
    const got = rows.map((r) => [r.id, r.name, r.birthday]).sort((x, y) => Number(x[0]) - Number(y[0]));
    expect(got).toEqual([
      [1, 'Steve', '2023-12-22'],
      [2, 'Bob', '2023-12-22'],
      [3, 'Dave', '2023-12-22'],
      [4, 'Kate', '2023-12-22'],
      [5, 'Emily', '2023-12-29'],
      [6, 'Carl', '2023-12-29'],
      [8, 'Claire', '2023-12-25'],
      [9, 'Ada', '2023-12-25'],
      [10, 'Borb', '2023-12-25'],
    ]);
  },
  'krs-table-with-dv-small': async ({ rows: readRows }) => {
    const rows = await readRows();
    expect(ids(rows, 'value')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  },
  'krs-v2-checkpoints-parquet-with-sidecars': async ({ rows: readRows }) => {
    const rows = await readRows();
    expect(ids(rows)).toEqual(
      [0, 0, 0, ...range(0, 29), ...range(0, 99), ...range(0, 99), ...range(0, 999)].sort((a, b) => a - b),
    );
  },
  'drs-simple_table': async ({ snapshot, rows: readRows, scan }) => {
    const rows = await readRows();
    expect(snapshot.version).toBe(4);
    expect(ids(rows)).toEqual([5, 7, 9]);
    expect(ids(await scan({ version: 0 }))).toEqual([0, 1, 2, 3, 4]);
  },
  'drs-delta-0.8.0-partitioned': async ({ rows: readRows, scan, filesRead }) => {
    const rows = await readRows();
    const got = rows.map((r) => [r.value, r.year, r.month, r.day]).sort();
    expect(got).toEqual(
      [
        ['1', '2020', '1', '1'],
        ['2', '2020', '2', '3'],
        ['3', '2020', '2', '5'],
        ['6', '2021', '12', '20'],
        ['7', '2021', '12', '20'],
        ['5', '2021', '12', '4'],
        ['4', '2021', '4', '5'],
      ].sort(),
    );
    expect((await scan({ where: "year = '2021'" })).map((r) => r.value).sort()).toEqual(['4', '5', '6', '7']);
    expect(await filesRead("year = '2021' AND month = '12'")).toBe(2);
    expect((await scan({ where: "year = '2021' AND month = '12'" })).length).toBe(3);
  },
  'drs-delta-0.8.0-null-partition': async ({ snapshot, filesRead, scan }) => {
    expect(snapshot.files().some((f) => f.partitionValues.k === null)).toBe(true);
    expect(await filesRead("k = 'A'")).toBe(1);
    expect(await filesRead('k IS NULL')).toBe(1);
    expect((await scan({ where: 'k IS NULL' })).every((r) => r.k === null)).toBe(true);
  },
  'drs-delta-0.8-empty': async ({ snapshot, rows: readRows }) => {
    const rows = await readRows();
    expect(snapshot.version).toBe(1);
    expect(rows.length).toBe(0);
    expect(snapshot.schema.fields.map((f) => f.name)).toEqual(['column']);
  },
  'drs-table_with_deletion_logs': async ({ snapshot, rows: readRows }) => {
    const rows = await readRows();
    expect(snapshot.version).toBe(20);
    expect(snapshot.files().some((f) => f.deletionVector !== undefined)).toBe(true);
    const stated = snapshot.files().reduce((n, f) => {
      const stats = f.stats ? (JSON.parse(f.stats) as { numRecords?: number }) : {};
      return n + (stats.numRecords ?? 0) - (f.deletionVector?.cardinality ?? 0);
    }, 0);
    expect(rows.length).toBe(stated);
  },
  'drs-python-0.25.5-checkpoint': async ({ snapshot, rows: readRows }) => {
    const rows = await readRows();
    // No upstream content assertion: the checkpoint (written by delta-rs 1.1.0) and the commit
    // after it must agree with the stats the writer recorded.
    expect(snapshot.version).toBe(1);
    const stated = snapshot
      .files()
      .reduce((n, f) => n + ((f.stats ? JSON.parse(f.stats).numRecords : 0) as number), 0);
    expect(rows.length).toBe(stated);
    expect(rows.length).toBeGreaterThan(0);
  },
  'drs-checkpoints_vacuumed': async ({ snapshot, snapshotAt }) => {
    expect(snapshot.version).toBe(12);
    expect((await snapshotAt(5)).version).toBe(5);
    expect((await snapshotAt(10)).version).toBe(10);
    await expect(snapshotAt(4)).rejects.toMatchObject({ code: 'VERSION_NOT_AVAILABLE' });
  },
};
