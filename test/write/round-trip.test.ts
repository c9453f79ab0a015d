/**
 * Write → read round trips through the public API: every Delta type (nested, decimal,
 * timestamp_ntz, binary, nulls at every level) comes back exactly; DuckDB reading the data
 * files Weir wrote returns the same rows; partition values of every partitionable type
 * (nulls, characters that need escaping) survive; overwrite, replaceWhere, mergeSchema and
 * type widening behave; checkpoints appear every delta.checkpointInterval commits.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  batchToJsonRows,
  type JsonValue,
  loadSnapshot,
  parseSchema,
  RecordBatchBuilder,
  scanSnapshot,
  writeTable,
} from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { tableFromArrays } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_TYPES, allTypesRecord } from '../support/all-types.js';
import { duckdbRows } from '../support/duckdb.js';
import { canonicalRows } from '../support/reference-tables.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempTable(): LocalStore {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-rt-'));
  dirs.push(dir);
  return new LocalStore(dir);
}

async function readAll(store: LocalStore, version?: number): Promise<Record<string, JsonValue>[]> {
  const snapshot = await loadSnapshot(store, version === undefined ? {} : { version });
  const rows: Record<string, JsonValue>[] = [];
  for await (const b of scanSnapshot(store, snapshot)) rows.push(...batchToJsonRows(b));
  return rows;
}

const f = (name: string, type: unknown, nullable = true) => ({ name, type, nullable, metadata: {} });
describe('write → read round trips', () => {
  it('every type, nested and null, comes back exactly; DuckDB reads the same rows', async () => {
    const store = tempTable();
    const builder = new RecordBatchBuilder(ALL_TYPES);
    for (let i = 0; i < 200; i++) builder.append(allTypesRecord(i));
    const input = builder.flush();
    const expected = canonicalRows(batchToJsonRows(input));
    await writeTable(store, input);
    expect(canonicalRows(await readAll(store))).toEqual(expected);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.protocol).toMatchObject({ minReaderVersion: 3, minWriterVersion: 7 });
    expect(snapshot.protocol.readerFeatures).toContain('timestampNtz');
    const columns = ALL_TYPES.fields.map((x) => x.name);
    expect(canonicalRows(await duckdbRows(store.directory, snapshot, columns))).toEqual(expected);
  });

  it('tables without timestamp_ntz stay at protocol (1, 2)', async () => {
    const store = tempTable();
    await writeTable(store, tableFromArrays({ a: Int32Array.from([1, 2]), b: ['x', 'y'] }));
    expect((await loadSnapshot(store)).protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
  });

  it('partition columns of every partitionable type, with nulls and characters needing escapes', async () => {
    const store = tempTable();
    const schema = parseSchema(
      JSON.stringify({
        type: 'struct',
        fields: [
          f('v', 'long'),
          f('p_str', 'string'),
          f('p_int', 'integer'),
          f('p_date', 'date'),
          f('p_ts', 'timestamp'),
          f('p_dec', 'decimal(6,2)'),
          f('p_bool', 'boolean'),
        ],
      }),
    );
    const values = ['a/b', 'x=y', 'sp ace', '%41', 'ü:*?', null, ''];
    const b = new RecordBatchBuilder(schema);
    values.forEach((s, i) => {
      b.append({
        v: i,
        p_str: s,
        p_int: i % 2 ? null : i,
        p_date: i % 3 ? '2024-01-31' : null,
        p_ts: i % 2 ? '2024-01-31T10:11:12.123456Z' : null,
        p_dec: i % 2 ? '12.50' : null,
        p_bool: i % 3 === 0 ? null : i % 2 === 0,
      });
    });
    const input = b.flush();
    await writeTable(store, input, { partitionBy: ['p_str', 'p_int', 'p_date', 'p_ts', 'p_dec', 'p_bool'] });
    const got = canonicalRows(await readAll(store));
    // The empty string partition value is null in Delta (the protocol has no way to tell them apart).
    const want = canonicalRows(
      batchToJsonRows(input).map((r) => ({ ...r, p_str: r.p_str === '' ? null : (r.p_str ?? null) })),
    );
    expect(got).toEqual(want);
    const snapshot = await loadSnapshot(store);
    for (const add of snapshot.files()) {
      expect(existsSync(path.join(store.directory, decodeURIComponent(add.path)))).toBe(true);
      expect(add.path.includes('%2F') || !add.path.includes('a/b')).toBe(true);
    }
    expect(snapshot.files().some((a) => a.path.startsWith('p_str=__HIVE_DEFAULT_PARTITION__/'))).toBe(true);
  });

  it('append, overwrite and time travel', async () => {
    const store = tempTable();
    await writeTable(store, tableFromArrays({ id: Int32Array.from([1, 2, 3]) }));
    await writeTable(store, tableFromArrays({ id: Int32Array.from([4]) }));
    await writeTable(store, tableFromArrays({ id: Int32Array.from([9]) }), { mode: 'overwrite' });
    expect((await readAll(store)).map((r) => r.id)).toEqual([9]);
    expect((await readAll(store, 1)).map((r) => r.id).sort()).toEqual([1, 2, 3, 4]);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.tombstones()).toHaveLength(2);
  });

  it('replaceWhere replaces only matching partitions and checks the new rows', async () => {
    const store = tempTable();
    const rows = (day: string, ids: number[]) =>
      tableFromArrays({ id: Int32Array.from(ids), day: ids.map(() => day) });
    await writeTable(store, rows('mon', [1, 2]), { partitionBy: ['day'] });
    await writeTable(store, rows('tue', [3, 4]));
    await writeTable(store, rows('tue', [30]), { mode: 'overwrite', replaceWhere: "day = 'tue'" });
    expect((await readAll(store)).map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 30]);
    await expect(
      writeTable(store, rows('wed', [5]), { mode: 'overwrite', replaceWhere: "day = 'tue'" }),
    ).rejects.toMatchObject({
      code: 'REPLACE_WHERE_VIOLATION',
    });
    await expect(
      writeTable(store, rows('tue', [5]), { mode: 'overwrite', replaceWhere: 'id = 5' }),
    ).rejects.toMatchObject({
      code: 'INVALID_REPLACE_WHERE',
    });
    expect((await loadSnapshot(store)).version).toBe(2);
  });

  it('mergeSchema adds a column; type widening needs mergeSchema and reads old files widened', async () => {
    const store = tempTable();
    await writeTable(store, tableFromArrays({ id: Int32Array.from([1]) }));
    await expect(
      writeTable(store, tableFromArrays({ id: Int32Array.from([2]), extra: ['x'] })),
    ).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: { column: 'extra' },
    });
    await writeTable(store, tableFromArrays({ id: Int32Array.from([2]), extra: ['x'] }), {
      mergeSchema: true,
    });
    expect(canonicalRows(await readAll(store))).toEqual(
      canonicalRows([
        { id: 1, extra: null },
        { id: 2, extra: 'x' },
      ]),
    );
    const big = tableFromArrays({ id: BigInt64Array.from([2n ** 40n]) });
    await expect(writeTable(store, big)).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: { column: 'id', tableType: 'integer', inputType: 'long' },
    });
    await writeTable(store, big, { mergeSchema: true });
    const snapshot = await loadSnapshot(store);
    expect(snapshot.schema.fields[0]!.type).toEqual({ type: 'long' });
    expect(snapshot.protocol.readerFeatures).toContain('typeWidening');
    expect((await readAll(store)).map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual([1, 2, 2 ** 40]);
  });

  it('a schema that changes between batches of one write: refused, or evolved with mergeSchema', async () => {
    const store = tempTable();
    const first = tableFromArrays({ id: Int32Array.from([1, 2]) }).batches[0]!;
    const second = tableFromArrays({ id: Int32Array.from([3]), note: ['late column'] }).batches[0]!;
    await expect(writeTable(store, [first, second])).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: { column: 'note' },
    });
    await expect(loadSnapshot(store)).rejects.toMatchObject({ code: 'NOT_A_DELTA_TABLE' });
    await writeTable(store, [first, second], { mergeSchema: true });
    expect(canonicalRows(await readAll(store))).toEqual(
      canonicalRows([
        { id: 1, note: null },
        { id: 2, note: null },
        { id: 3, note: 'late column' },
      ]),
    );
  });

  it('a narrower input fits a wider column without changing the table', async () => {
    const store = tempTable();
    await writeTable(store, tableFromArrays({ id: BigInt64Array.from([1n]), x: Float64Array.from([0.5]) }));
    await writeTable(store, tableFromArrays({ id: Int32Array.from([2]), x: Float32Array.from([1.5]) }));
    const snapshot = await loadSnapshot(store);
    expect(snapshot.schema.fields.map((x) => x.type.type)).toEqual(['long', 'double']);
    expect(canonicalRows(await readAll(store))).toEqual(
      canonicalRows([
        { id: 1, x: 0.5 },
        { id: 2, x: 1.5 },
      ]),
    );
  });

  it('checkpoints every delta.checkpointInterval commits and reads from them', async () => {
    const store = tempTable();
    await writeTable(store, tableFromArrays({ id: Int32Array.from([0]) }), {
      properties: { 'delta.checkpointInterval': '3' },
    });
    for (let i = 1; i <= 7; i++) await writeTable(store, tableFromArrays({ id: Int32Array.from([i]) }));
    const log = readdirSync(path.join(store.directory, '_delta_log'));
    expect(log.filter((x) => x.endsWith('.checkpoint.parquet')).sort()).toEqual([
      '00000000000000000003.checkpoint.parquet',
      '00000000000000000006.checkpoint.parquet',
    ]);
    expect(log).toContain('_last_checkpoint');
    expect((await readAll(store)).map((r) => r.id).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('app transactions make a replayed write a no-op', async () => {
    const store = tempTable();
    const data = tableFromArrays({ id: Int32Array.from([1, 2]) });
    const first = await writeTable(store, data, { appTransaction: { appId: 'job', version: 5 } });
    const replay = await writeTable(store, data, { appTransaction: { appId: 'job', version: 5 } });
    const older = await writeTable(store, data, { appTransaction: { appId: 'job', version: 4 } });
    expect(first.skipped).toBe(false);
    expect(replay).toMatchObject({ skipped: true, version: first.version });
    expect(older.skipped).toBe(true);
    expect(await readAll(store)).toHaveLength(2);
    expect((await loadSnapshot(store)).appTransactionVersion('job')).toBe(5);
  });
});
