/**
 * Table maintenance on S3 (radosgw) through the public API, on a partitioned table whose partition
 * directories need escaping: OPTIMIZE compacts many small appends into one file per partition
 * (the new files exist under their decoded keys); VACUUM dry run reports exactly the compacted-away
 * files and deletes nothing, the real run deletes exactly those (through DeleteObjects); full mode
 * also deletes an old unreferenced file found by listing (S3 LastModified) but never a hidden path;
 * expired-log cleanup drops the commits before the last checkpoint. After each step the table reads
 * the same rows, from a fresh store. Also on S3: OPTIMIZE of a Spark table with deletion vectors
 * (uploaded to the bucket) applies them, and VACUUM removes the DV files once unreferenced; an
 * OPTIMIZE whose input a concurrent writer replaced drops that bin, while a concurrent append
 * lands beside it (conflict checks over real conditional writes).
 */
import {
  cleanupExpiredLogs,
  executeOptimize,
  loadSnapshot,
  optimize,
  parseSchema,
  planOptimize,
  RecordBatchBuilder,
  vacuum,
  writeTable,
} from '@weir/delta';
import { listAll, type ObjectStore } from '@weir/storage';
import { describeS3, uploadDirectory, useRgwBucket } from '@weir/storage-s3/testing';
import { expect, it } from 'vitest';
import { field } from '../support/all-types.js';
import { canonicalRows, tableDir } from '../support/reference-tables.js';
import { commitVersions, readAll } from '../support/tables.js';

const schema = parseSchema(
  JSON.stringify({ type: 'struct', fields: [field('id', 'long'), field('part', 'string')] }),
);
const PARTS = ['a b', 'c%d', null] as const;
const APPENDS = 12;

const visibleKeys = async (store: ObjectStore) =>
  (await listAll(store, ''))
    .map((m) => m.key)
    .filter((k) => !k.startsWith('_delta_log/'))
    .sort();

describeS3('table maintenance on S3 (radosgw)', () => {
  const rgw = useRgwBucket();

  it('optimize, vacuum (dry run, lite, full) and log cleanup keep the rows and delete only what they should', async () => {
    const prefix = 'tables/maintained';
    const store = rgw.store(prefix);
    for (let i = 0; i < APPENDS; i++) {
      const b = new RecordBatchBuilder(schema);
      PARTS.forEach((part, p) => {
        b.append({ id: i * 10 + p, part });
      });
      await writeTable(store, b.flush(), {
        partitionBy: ['part'],
        properties: { 'delta.checkpointInterval': '5' },
      });
    }
    const want = canonicalRows(await readAll(store));
    expect(want).toHaveLength(APPENDS * PARTS.length);
    const before = await loadSnapshot(store);
    expect(before.files()).toHaveLength(APPENDS * PARTS.length);
    const smallFiles = before
      .files()
      .map((f) => decodeURIComponent(f.path))
      .sort();
    expect(smallFiles.some((k) => k.startsWith('part=a b/'))).toBe(true);
    expect(smallFiles.some((k) => k.startsWith('part=c%25d/'))).toBe(true);

    // OPTIMIZE: one file per partition, same rows.
    const dry = await optimize(store, { dryRun: true });
    expect(dry.plan.bins).toHaveLength(PARTS.length);
    expect(dry.commits).toEqual([]);
    expect((await loadSnapshot(store)).version).toBe(before.version);
    const optimized = await optimize(store);
    expect(optimized.metrics).toMatchObject({
      numRemovedFiles: APPENDS * PARTS.length,
      numAddedFiles: PARTS.length,
      filesAfter: PARTS.length,
      binsDropped: 0,
    });
    const after = await loadSnapshot(rgw.store(prefix));
    expect(after.version).toBe(before.version + optimized.commits.length);
    const liveKeys = after
      .files()
      .map((f) => decodeURIComponent(f.path))
      .sort();
    for (const f of after.files()) expect((await store.head(decodeURIComponent(f.path))).size).toBe(f.size);
    expect(canonicalRows(await readAll(rgw.store(prefix)))).toEqual(want);
    // Compacted-away files stay until vacuum (time travel to before OPTIMIZE still works).
    expect(await visibleKeys(store)).toEqual([...smallFiles, ...liveKeys].sort());
    expect(canonicalRows(await readAll(store, before.version))).toEqual(want);

    // VACUUM with the default retention: nothing is old enough.
    expect((await vacuum(store)).files).toEqual([]);
    // A shorter retention is refused unless forced.
    await expect(vacuum(store, { retentionHours: 0 })).rejects.toMatchObject({
      code: 'VACUUM_RETENTION_TOO_SHORT',
    });

    // Dry run: reports exactly the compacted-away files, deletes nothing.
    const dryVacuum = await vacuum(store, { retentionHours: 0, force: true, dryRun: true });
    expect(dryVacuum.files.map((f) => f.key).sort()).toEqual(smallFiles);
    expect(dryVacuum.filesDeleted).toBe(0);
    expect(await visibleKeys(store)).toEqual([...smallFiles, ...liveKeys].sort());

    // Real run: deletes exactly those.
    const vacuumed = await vacuum(store, { retentionHours: 0, force: true });
    expect(vacuumed.files.map((f) => f.key).sort()).toEqual(smallFiles);
    expect(vacuumed.filesDeleted).toBe(smallFiles.length);
    expect(await visibleKeys(store)).toEqual(liveKeys);
    expect(canonicalRows(await readAll(rgw.store(prefix)))).toEqual(want);
    await expect(readAll(store, before.version)).rejects.toMatchObject({ code: 'MISSING_DATA_FILE' });

    // Full mode: an abandoned upload (unreferenced, old) goes; hidden paths and live files stay.
    await store.put('part=a b/part-abandoned.snappy.parquet', new Uint8Array([1, 2, 3]));
    await store.put('_temporary/part-in-progress.parquet', new Uint8Array([4]));
    await store.put('part=a b/.part-x.crc', new Uint8Array([5]));
    const future = Date.now() + 3_600_000;
    const full = await vacuum(store, { mode: 'full', retentionHours: 0, force: true, now: future });
    expect(full.files.map((f) => [f.key, f.reason])).toEqual([
      ['part=a b/part-abandoned.snappy.parquet', 'unreferenced'],
    ]);
    expect(await visibleKeys(store)).toEqual(
      [...liveKeys, '_temporary/part-in-progress.parquet', 'part=a b/.part-x.crc'].sort(),
    );

    // Expired-log cleanup: everything before the last checkpoint goes; the table still reads.
    const latest = await loadSnapshot(store);
    const checkpoints = (await listAll(store, '_delta_log/'))
      .map((m) => /^_delta_log\/(\d{20})\.checkpoint\.parquet$/.exec(m.key)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number);
    const lastCheckpoint = Math.max(...checkpoints);
    expect(lastCheckpoint).toBeGreaterThanOrEqual(10);
    const cleaned = await cleanupExpiredLogs(store, { retentionMs: 0, now: future });
    expect(cleaned.checkpointVersion).toBe(lastCheckpoint);
    expect(cleaned.commitsDeleted).toBe(lastCheckpoint);
    expect(await commitVersions(store)).toEqual(
      Array.from({ length: latest.version - lastCheckpoint + 1 }, (_, k) => lastCheckpoint + k),
    );
    const fresh = rgw.store(prefix);
    expect((await loadSnapshot(fresh)).version).toBe(latest.version);
    expect(canonicalRows(await readAll(fresh))).toEqual(want);
    await expect(loadSnapshot(fresh, { version: lastCheckpoint - 1 })).rejects.toMatchObject({
      code: 'VERSION_NOT_AVAILABLE',
    });
  });

  it('optimize applies the deletion vectors of a Spark table on S3; vacuum then deletes the DV files', async () => {
    const store = rgw.store('tables/spark-dv');
    await uploadDirectory(tableDir('golden-dv-partitioned-with-checkpoint'), store);
    const before = await loadSnapshot(store);
    expect(before.files().some((f) => f.deletionVector?.storageType === 'u')).toBe(true);
    const want = canonicalRows(await readAll(store));
    const r = await optimize(store);
    expect(r.metrics.binsCommitted).toBeGreaterThan(0);
    const after = await loadSnapshot(rgw.store('tables/spark-dv'));
    expect(after.files().some((f) => f.deletionVector)).toBe(false);
    expect(canonicalRows(await readAll(rgw.store('tables/spark-dv')))).toEqual(want);
    expect(canonicalRows(await readAll(store, before.version))).toEqual(want);
    const dvKeys = (await listAll(store, ''))
      .map((m) => m.key)
      .filter((k) => /deletion_vector_.*\.bin$/.test(k));
    expect(dvKeys.length).toBeGreaterThan(0);
    // DV files carry no tombstones of their own: full mode finds them by listing.
    await vacuum(store, { mode: 'full', retentionHours: 0, force: true, now: Date.now() + 3_600_000 });
    const left = (await listAll(store, '')).map((m) => m.key);
    expect(left.filter((k) => /deletion_vector_/.test(k))).toEqual([]);
    expect(canonicalRows(await readAll(rgw.store('tables/spark-dv')))).toEqual(want);
  });

  it('a bin whose input a concurrent writer replaced is dropped; a concurrent append lands beside it', async () => {
    const prefix = 'tables/raced';
    const store = rgw.store(prefix);
    const daySchema = parseSchema(
      JSON.stringify({ type: 'struct', fields: [field('id', 'long'), field('day', 'string')] }),
    );
    let id = 0;
    for (let i = 0; i < 4; i++) {
      const b = new RecordBatchBuilder(daySchema);
      for (const day of ['d1', 'd2']) for (let k = 0; k < 5; k++) b.append({ id: id++, day });
      await writeTable(store, b.flush(), i === 0 ? { partitionBy: ['day'] } : {});
    }
    const snapshot = await loadSnapshot(store);
    const plan = planOptimize(snapshot);
    expect(plan.bins).toHaveLength(2);
    // After the plan, another writer (its own client) replaces d2 and appends to d1.
    const other = rgw.store(prefix);
    const replacement = new RecordBatchBuilder(daySchema);
    replacement.append({ id: 999, day: 'd2' });
    await writeTable(other, replacement.flush(), { mode: 'overwrite', replaceWhere: "day = 'd2'" });
    const extra = new RecordBatchBuilder(daySchema);
    extra.append({ id: 1000, day: 'd1' });
    await writeTable(other, extra.flush());
    const r = await executeOptimize(store, snapshot, plan);
    expect(r.droppedBins).toEqual([
      expect.objectContaining({ partition: 'day=d2', reason: 'CONCURRENT_DELETE_READ' }),
    ]);
    expect(r.metrics).toMatchObject({ binsCommitted: 1, binsDropped: 1 });
    const ids = (await readAll(rgw.store(prefix))).map((row) => Number(row.id)).sort((a, b) => a - b);
    const d1 = Array.from({ length: 4 }, (_, i) => Array.from({ length: 5 }, (_, k) => i * 10 + k)).flat();
    expect(ids).toEqual([...d1, 999, 1000].sort((a, b) => a - b));
    const versions = await commitVersions(store);
    expect(versions).toEqual(Array.from({ length: versions.length }, (_, v) => v));
  });
});
