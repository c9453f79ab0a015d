/**
 * SQL over tables Weir writes (fixtures.ts): `select * from t` through `queryTables` and through
 * `weir sql` equals `weir scan` and the rows written — partitioned, nested, timestamps, after
 * compaction, column mapping, schema evolution, empty, and a MemoryStore table (served through
 * Weir's scan). Time travel (`t@N`, `--table t=<path>@N`, `{ store, version }`) reads the
 * older version.
 */
import { batchToJsonRows, deltaSchemaToArrow, type JsonValue, loadSnapshot, scanSnapshot } from '@weir/delta';
import { queryTables } from '@weir/sql';
import type { LocalStore, ObjectStore } from '@weir/storage';
import type { Schema } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../support/cli.js';
import { canonicalRows } from '../support/reference-tables.js';
import { buildFixtures, type Fixtures } from './fixtures.js';

let fixtures: Fixtures;
beforeAll(async () => {
  fixtures = await buildFixtures();
});
afterAll(() => fixtures?.cleanup());

async function scanRows(store: ObjectStore, version?: number): Promise<Record<string, JsonValue>[]> {
  const snapshot = await loadSnapshot(store, version === undefined ? {} : { version });
  const rows: Record<string, JsonValue>[] = [];
  for await (const b of scanSnapshot(store, snapshot)) rows.push(...batchToJsonRows(b));
  return rows;
}

const NAMES = ['partitioned', 'nested', 'timestamps', 'compacted', 'mapped', 'evolved', 'empty', 'memory'];

describe('select * over tables Weir writes', () => {
  for (const name of NAMES) {
    it(`${name}: queryTables equals the scan and the rows written`, async () => {
      const { store, rows } = fixtures.tables[name]!;
      const result = await queryTables('select * from t', { t: store });
      const snapshot = await loadSnapshot(store);
      expect(result.schema.fields.map((f) => f.name)).toEqual(snapshot.schema.fields.map((f) => f.name));
      const sql = canonicalRows(result.rows());
      expect(sql).toEqual(canonicalRows(await scanRows(store)));
      expect(sql).toEqual(canonicalRows(rows));
      const info = result.tables[0]!;
      expect(info.filesRead).toBe(snapshot.files().length);
      if (name === 'memory')
        expect(info).toMatchObject({ mode: 'weir-scan', reason: expect.stringMatching(/not a local/) });
      else expect(info.mode).toBe('duckdb');
    });
  }

  for (const name of NAMES.filter((n) => n !== 'memory')) {
    it(`${name}: weir sql --format ndjson prints what weir scan prints`, async () => {
      const dir = (fixtures.tables[name]!.store as LocalStore).directory;
      const sql = await runCli(['sql', 'select * from t', '--table', `t=${dir}`, '--format', 'ndjson']);
      const scan = await runCli(['scan', dir]);
      expect(sql.stderr).toBe('');
      expect(sql.code).toBe(0);
      expect(scan.code).toBe(0);
      const got = canonicalRows(parseNdjson(sql.stdout) as Record<string, JsonValue>[]);
      expect(got).toEqual(canonicalRows(parseNdjson(scan.stdout) as Record<string, JsonValue>[]));
      expect(got).toEqual(canonicalRows(fixtures.tables[name]!.rows));
    });
  }

  it('the empty table has its columns and no rows', async () => {
    const result = await queryTables('select * from t', { t: fixtures.tables.empty!.store });
    expect(result.numRows).toBe(0);
    const snapshot = await loadSnapshot(fixtures.tables.empty!.store);
    const typeText = (s: Schema) => s.fields.map((f) => `${f.name}:${f.type}`);
    expect(typeText(result.schema)).toEqual(typeText(deltaSchemaToArrow(snapshot.schema)));
    const count = await queryTables('select count(*) as n, sum(qty) as s from t', {
      t: fixtures.tables.empty!.store,
    });
    expect(count.rows()).toEqual([{ n: 0, s: null }]);
  });

  it('column mapping: nested structs, lists and maps come back under logical names', async () => {
    const result = await queryTables(
      'select id, st."a b" as ab, st.arr[1].z as z, m[\'k\'].q as q from t where id = 1',
      { t: fixtures.tables.mapped!.store },
    );
    expect(result.rows()).toEqual([{ ab: 1, id: 1, q: 1, z: 'z1' }]);
  });

  it('evolved: files written before a column existed read it as NULL', async () => {
    const result = await queryTables('select id, c, st.y as y from t order by id', {
      t: fixtures.tables.evolved!.store,
    });
    expect(result.rows()).toEqual([
      { id: 1, c: null, y: null },
      { id: 2, c: null, y: null },
      { id: 3, c: 'c3', y: 'three' },
      { id: 4, c: null, y: null },
    ]);
  });
});

describe('time travel', () => {
  it('t@N reads version N; the plain name reads the latest', async () => {
    const { store, versions } = fixtures.tables.partitioned!;
    const result = await queryTables('select * from t@0 union all select * from t@1', { t: store });
    expect(canonicalRows(result.rows())).toEqual(canonicalRows([...versions.get(0)!, ...versions.get(1)!]));
    expect(result.tables.map((t) => [t.name, t.version])).toEqual([
      ['t@0', 0],
      ['t@1', 1],
    ]);
    const quoted = await queryTables('select count(*) as n from "t@0"', { t: store });
    expect(quoted.rows()).toEqual([{ n: 40 }]);
    const latest = await queryTables('select count(*) as n from t', { t: store });
    expect(latest.rows()).toEqual([{ n: 120 }]);
  });

  it('a table pinned to a version, a snapshot, or by --table name=<path>@N', async () => {
    const { store, versions } = fixtures.tables.partitioned!;
    const pinned = await queryTables('select * from t', { t: { store, version: 1 } });
    expect(canonicalRows(pinned.rows())).toEqual(canonicalRows(versions.get(1)!));
    const snapshot = await loadSnapshot(store, { version: 0 });
    const bySnapshot = await queryTables('select * from t', { t: snapshot });
    expect(canonicalRows(bySnapshot.rows())).toEqual(canonicalRows(versions.get(0)!));
    const dir = (store as LocalStore).directory;
    const cli = await runCli(['sql', 'select * from t', '--table', `t=${dir}@0`]);
    expect(cli.code).toBe(0);
    expect(canonicalRows(parseNdjson(cli.stdout) as Record<string, JsonValue>[])).toEqual(
      canonicalRows(versions.get(0)!),
    );
  });

  it('before and after compaction: same rows, fewer files', async () => {
    const { store, rows, versions } = fixtures.tables.compacted!;
    const [before] = [...versions.keys()];
    const result = await queryTables(`select * from t@${before} union all select * from t`, { t: store });
    expect(canonicalRows(result.rows())).toEqual(canonicalRows([...rows, ...rows]));
    const old = result.tables.find((t) => t.name === `t@${before}`)!;
    const now = result.tables.find((t) => t.name === 't')!;
    expect(now.filesRead).toBeLessThan(old.filesRead);
    expect(now.version).toBeGreaterThan(old.version);
  });

  it('evolved@0 has the schema of version 0', async () => {
    const result = await queryTables('select * from t@0', { t: fixtures.tables.evolved!.store });
    expect(result.schema.fields.map((f) => f.name)).toEqual(['id', 'st']);
    expect(canonicalRows(result.rows())).toEqual(canonicalRows(fixtures.tables.evolved!.versions.get(0)!));
  });
});
