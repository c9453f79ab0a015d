/**
 * Write -> read round trips on S3 (radosgw), a compact subset of test/write/round-trip.test.ts
 * through the public API with an S3Store: every Delta type (nested, decimal, timestamp_ntz,
 * binary, nulls at every level) comes back exactly; partition values that need escaping, and
 * nulls, become the right S3 keys (add.path encoded once in the log, decoded once to the key) and
 * the table downloaded to local disk reads the same (DuckDB agrees on the data files); append,
 * overwrite and time travel; replaceWhere; mergeSchema; checkpoints every
 * delta.checkpointInterval commits, read back by a fresh store; app transactions (a replayed
 * write is a no-op); a write with bad input leaves the table as it was.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchToJsonRows, loadSnapshot, parseSchema, RecordBatchBuilder, writeTable } from '@weir/delta';
import { LocalStore, listAll } from '@weir/storage';
import { describeS3, useRgwBucket } from '@weir/storage-s3/testing';
import { tableFromArrays } from 'apache-arrow';
import { afterAll, expect, it } from 'vitest';
import { ALL_TYPES, allTypesRecord, field } from '../support/all-types.js';
import { duckdbRows } from '../support/duckdb.js';
import { canonicalRows } from '../support/reference-tables.js';
import { downloadTable, readAll } from '../support/tables.js';

const ids = (rows: Record<string, unknown>[]) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);

describeS3('Delta writes on S3 (radosgw)', () => {
  const rgw = useRgwBucket();
  let tables = 0;
  /** A fresh table prefix in the bucket. */
  const newTable = () => rgw.store(`tables/t${++tables}`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'weir-s3-write-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('every type, nested and null, comes back exactly; the downloaded files read the same in DuckDB', async () => {
    const store = newTable();
    const builder = new RecordBatchBuilder(ALL_TYPES);
    for (let i = 0; i < 100; i++) builder.append(allTypesRecord(i));
    const input = builder.flush();
    const expected = canonicalRows(batchToJsonRows(input));
    await writeTable(store, input);
    expect(canonicalRows(await readAll(store))).toEqual(expected);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.table).toBe(`s3://${rgw.bucket}/${store.prefix}`);
    expect(snapshot.protocol).toMatchObject({ minReaderVersion: 3, minWriterVersion: 7 });
    expect(snapshot.protocol.readerFeatures).toContain('timestampNtz');
    const dir = path.join(tmp, 'all-types');
    await downloadTable(store, dir);
    const columns = ALL_TYPES.fields.map((x) => x.name);
    expect(canonicalRows(await duckdbRows(dir, snapshot, columns))).toEqual(expected);
  });

  it('partition values with characters needing escapes and nulls map to the right S3 keys', async () => {
    const store = newTable();
    const schema = parseSchema(
      JSON.stringify({
        type: 'struct',
        fields: [
          field('v', 'long'),
          field('p_str', 'string'),
          field('p_int', 'integer'),
          field('p_date', 'date'),
          field('p_ts', 'timestamp'),
          field('p_dec', 'decimal(6,2)'),
        ],
      }),
    );
    const values = ['a/b', 'x=y', 'sp ace', '%41', 'ü:*?', 'plus+amp&', '%2521', null, ''];
    const b = new RecordBatchBuilder(schema);
    values.forEach((s, i) => {
      b.append({
        v: i,
        p_str: s,
        p_int: i % 2 ? null : i,
        p_date: i % 3 ? '2024-01-31' : null,
        p_ts: i % 2 ? '2024-01-31T10:11:12.123456Z' : null,
        p_dec: i % 2 ? '12.50' : null,
      });
    });
    const input = b.flush();
    await writeTable(store, input, { partitionBy: ['p_str', 'p_int', 'p_date', 'p_ts', 'p_dec'] });
    // The empty string partition value is null in Delta (the protocol has no way to tell them apart).
    const want = canonicalRows(
      batchToJsonRows(input).map((r) => ({ ...r, p_str: r.p_str === '' ? null : (r.p_str ?? null) })),
    );
    expect(canonicalRows(await readAll(store))).toEqual(want);

    const snapshot = await loadSnapshot(store);
    const keys = new Set((await listAll(store, '')).map((m) => m.key));
    for (const add of snapshot.files()) {
      // Decoded once: the object exists under exactly that key, and its size is the logged one.
      const key = decodeURIComponent(add.path);
      expect(keys.has(key), key).toBe(true);
      expect((await store.head(key)).size).toBe(add.size);
      expect(add.path.includes('%2F') || !add.path.includes('a/b')).toBe(true);
    }
    expect([...keys].some((k) => k.startsWith('p_str=a%2Fb/'))).toBe(true);
    expect([...keys].some((k) => k.startsWith('p_str=__HIVE_DEFAULT_PARTITION__/'))).toBe(true);
    expect(snapshot.files().filter((f) => f.partitionValues.p_str === '%2521')).toHaveLength(1);

    // The same objects, copied to local disk under their keys, are the same table.
    const dir = path.join(tmp, 'partitions');
    await downloadTable(store, dir);
    expect(canonicalRows(await readAll(new LocalStore(dir)))).toEqual(want);
  });

  it('append, overwrite and time travel', async () => {
    const store = newTable();
    await writeTable(store, tableFromArrays({ id: Int32Array.from([1, 2, 3]) }));
    await writeTable(store, tableFromArrays({ id: Int32Array.from([4]) }));
    const overwrite = await writeTable(store, tableFromArrays({ id: Int32Array.from([9]) }), {
      mode: 'overwrite',
    });
    expect(overwrite.version).toBe(2);
    expect(ids(await readAll(store))).toEqual([9]);
    expect(ids(await readAll(store, 1))).toEqual([1, 2, 3, 4]);
    expect(ids(await readAll(store, 0))).toEqual([1, 2, 3]);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.tombstones()).toHaveLength(2);
    // Overwritten files stay on S3 (time travel needs them) until vacuum.
    for (const t of snapshot.tombstones()) await store.head(decodeURIComponent(t.path));
  });

  it('replaceWhere replaces only matching partitions and checks the new rows', async () => {
    const store = newTable();
    const rows = (day: string, list: number[]) =>
      tableFromArrays({ id: Int32Array.from(list), day: list.map(() => day) });
    await writeTable(store, rows('mon', [1, 2]), { partitionBy: ['day'] });
    await writeTable(store, rows('tue', [3, 4]));
    await writeTable(store, rows('tue', [30]), { mode: 'overwrite', replaceWhere: "day = 'tue'" });
    expect(ids(await readAll(store))).toEqual([1, 2, 30]);
    await expect(
      writeTable(store, rows('wed', [5]), { mode: 'overwrite', replaceWhere: "day = 'tue'" }),
    ).rejects.toMatchObject({ code: 'REPLACE_WHERE_VIOLATION' });
    expect((await loadSnapshot(store)).version).toBe(2);
  });

  it('mergeSchema adds a column; without it the write is refused', async () => {
    const store = newTable();
    await writeTable(store, tableFromArrays({ id: Int32Array.from([1]) }));
    const wider = tableFromArrays({ id: Int32Array.from([2]), extra: ['x'] });
    await expect(writeTable(store, wider)).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: { column: 'extra' },
    });
    await writeTable(store, wider, { mergeSchema: true });
    expect(canonicalRows(await readAll(store))).toEqual(
      canonicalRows([
        { id: 1, extra: null },
        { id: 2, extra: 'x' },
      ]),
    );
    expect((await loadSnapshot(store)).schema.fields.map((f) => f.name)).toEqual(['id', 'extra']);
  });

  it('checkpoints every delta.checkpointInterval commits; a fresh store reads from them', async () => {
    const store = newTable();
    await writeTable(store, tableFromArrays({ id: Int32Array.from([0]) }), {
      properties: { 'delta.checkpointInterval': '3' },
    });
    for (let i = 1; i <= 7; i++) await writeTable(store, tableFromArrays({ id: Int32Array.from([i]) }));
    const log = (await listAll(store, '_delta_log/')).map((m) => m.key.slice('_delta_log/'.length));
    expect(log.filter((x) => x.endsWith('.checkpoint.parquet'))).toEqual([
      '00000000000000000003.checkpoint.parquet',
      '00000000000000000006.checkpoint.parquet',
    ]);
    expect(log).toContain('_last_checkpoint');
    expect(
      JSON.parse(new TextDecoder().decode(await store.get('_delta_log/_last_checkpoint'))),
    ).toMatchObject({ version: 6 });
    const fresh = rgw.store(store.prefix);
    expect((await loadSnapshot(fresh)).version).toBe(7);
    expect(ids(await readAll(fresh))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Time travel across checkpoints: before the first, onto one, between two.
    expect(ids(await readAll(fresh, 2))).toEqual([0, 1, 2]);
    expect(ids(await readAll(fresh, 3))).toEqual([0, 1, 2, 3]);
    expect(ids(await readAll(fresh, 5))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('app transactions make a replayed write a no-op', async () => {
    const store = newTable();
    const data = tableFromArrays({ id: Int32Array.from([1, 2]) });
    const first = await writeTable(store, data, { appTransaction: { appId: 'job', version: 5 } });
    const replay = await writeTable(rgw.store(store.prefix), data, {
      appTransaction: { appId: 'job', version: 5 },
    });
    const older = await writeTable(store, data, { appTransaction: { appId: 'job', version: 4 } });
    expect(first.skipped).toBe(false);
    expect(replay).toMatchObject({ skipped: true, version: first.version });
    expect(older.skipped).toBe(true);
    expect(await readAll(store)).toHaveLength(2);
    expect((await loadSnapshot(rgw.store(store.prefix))).appTransactionVersion('job')).toBe(5);
  });

  it('a write with input that does not fit the schema fails and leaves the table unchanged', async () => {
    const store = newTable();
    await writeTable(store, tableFromArrays({ id: Int32Array.from([1]) }));
    const before = await loadSnapshot(store);
    const keysBefore = (await listAll(store, '_delta_log/')).map((m) => m.key);
    await expect(writeTable(store, tableFromArrays({ name: ['x'] }))).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
    });
    const after = await loadSnapshot(rgw.store(store.prefix));
    expect(after.version).toBe(before.version);
    expect((await listAll(store, '_delta_log/')).map((m) => m.key)).toEqual(keysBefore);
    expect(ids(await readAll(store))).toEqual([1]);
  });
});
