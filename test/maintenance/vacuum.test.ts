/**
 * VACUUM and expired log cleanup through the public API, with time controlled by commit-file
 * modification times and the injected `now` (never by sleeping).
 *
 * - A table lived 24 days, one commit a day (appends, partition overwrites, OPTIMIZE), with
 *   checkpoints; then VACUUM (full) + log cleanup with 7-day retentions: every version inside
 *   the window reads exactly as before; older ones read the same or fail with a clear error
 *   (MISSING_DATA_FILE / VERSION_NOT_AVAILABLE), and those below the kept checkpoint fail with
 *   VERSION_NOT_AVAILABLE.
 * - Lite vs full, dry runs, recent orphans kept, hidden paths and `_delta_log/` never touched,
 *   retention refusal, reference tables (`_2=` partition directories, deletion-vector files).
 * - The post-checkpoint hook cleans up the expired log when delta.enableExpiredLogCleanup allows.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type AddAction,
  batchToJsonRows,
  cleanupExpiredLogs,
  createTable,
  loadSnapshot,
  optimize,
  parseSchema,
  RecordBatchBuilder,
  scanSnapshot,
  vacuum,
  writeCheckpoint,
  writeTable,
} from '@weir/delta';
import { LocalStore, WeirError } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalRows, tableDir } from '../support/reference-tables.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: true, metadata: {} },
      { name: 'part', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-vacuum-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = () => path.join(root, `t${++n}`);

function setMtime(file: string, ms: number): void {
  utimesSync(file, new Date(ms), new Date(ms));
}
const commitFile = (dir: string, v: number) =>
  path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`);
const logFiles = (dir: string) => readdirSync(path.join(dir, '_delta_log')).sort();

async function readVersion(store: LocalStore, version: number): Promise<string[]> {
  const snapshot = await loadSnapshot(store, { version });
  const out: Record<string, unknown>[] = [];
  for await (const b of scanSnapshot(store, snapshot)) out.push(...batchToJsonRows(b));
  return canonicalRows(out as never);
}

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof WeirError) return err.code;
    throw err;
  }
}

function batch(ids: number[], part: string) {
  const b = new RecordBatchBuilder(schema);
  for (const id of ids) b.append({ id, part });
  return b.flush();
}

/**
 * 24 daily versions ending about now: v0 create; then appends to partitions a/b, a replace of
 * partition a every 4th day, an OPTIMIZE every 6th; checkpoints every 5 versions. Commit files
 * and new data files get the day's time as their modification time.
 */
async function dailyTable(dir: string, end: number) {
  const store = new LocalStore(dir);
  const days = 24;
  const at = (v: number) => end - (days - v) * DAY;
  const properties = {
    'delta.checkpointInterval': '5',
    'delta.enableExpiredLogCleanup': 'false',
    'delta.logRetentionDuration': 'interval 7 days',
  };
  await createTable(store, { schema, partitionColumns: ['part'], properties, now: () => at(0) });
  setMtime(commitFile(dir, 0), at(0));
  const times = [at(0)];
  let id = 0;
  for (let v = 1; v < days; v++) {
    const now = () => at(v);
    const before = new Set((await loadSnapshot(store)).files().map((f) => f.path));
    let added: readonly AddAction[];
    if (v % 6 === 0) {
      const r = await optimize(store, { now });
      expect(r.commits).toHaveLength(1);
      added = (await loadSnapshot(store)).files().filter((f) => !before.has(f.path));
    } else if (v % 4 === 0) {
      const r = await writeTable(store, batch([id++, id++], 'a'), {
        mode: 'overwrite',
        replaceWhere: "part = 'a'",
        now,
      });
      added = r.files;
    } else {
      const r = await writeTable(store, batch([id++, id++, id++], v % 2 ? 'a' : 'b'), { now });
      added = r.files;
    }
    for (const f of added) setMtime(path.join(dir, decodeURIComponent(f.path)), at(v));
    setMtime(commitFile(dir, v), at(v));
    times.push(at(v));
  }
  return { store, times };
}

describe('vacuum + log cleanup keep time travel inside the retention window', () => {
  it('every version in the 7-day window reads as before; older ones read or fail clearly', async () => {
    const dir = newDir();
    const end = Date.now();
    const { store, times } = await dailyTable(dir, end);
    const latest = times.length - 1;
    const expected: string[][] = [];
    for (let v = 0; v <= latest; v++) expected.push(await readVersion(store, v));
    // A write that failed 20 days ago, and one in flight right now: neither is referenced.
    mkdirSync(path.join(dir, 'part=a'), { recursive: true });
    writeFileSync(path.join(dir, 'part=a', 'part-failed-old.zstd.parquet'), 'x');
    setMtime(path.join(dir, 'part=a', 'part-failed-old.zstd.parquet'), end - 20 * DAY);
    writeFileSync(path.join(dir, 'part=a', 'part-in-flight.zstd.parquet'), 'y');
    const logBefore = logFiles(dir);

    const cutoff = end - 7 * DAY;
    const inWindow = (v: number) =>
      times[v]! >= cutoff || times[v + 1] === undefined || times[v + 1]! > cutoff;

    const lite = await vacuum(store, { now: end, dryRun: true });
    expect(lite.dryRun).toBe(true);
    expect(lite.filesDeleted).toBe(0);
    expect(lite.numFiles).toBeGreaterThan(0);
    expect(lite.files.every((f) => f.reason === 'expired-tombstone')).toBe(true);
    // The checkpoints dropped those tombstones: lite found them in the old commits.
    expect(lite.metrics.commitsScanned).toBeGreaterThan(0);

    const full = await vacuum(store, { mode: 'full', now: end });
    expect(full.cutoff).toBe(cutoff);
    expect(full.filesDeleted).toBeGreaterThan(lite.numFiles);
    expect(full.bytesDeleted).toBeGreaterThan(0);
    const deleted = full.files.map((f) => f.key);
    expect(deleted).toContain('part=a/part-failed-old.zstd.parquet');
    expect(deleted).not.toContain('part=a/part-in-flight.zstd.parquet');
    expect(deleted.some((k) => k.startsWith('_') || k.includes('/.'))).toBe(false);
    expect(logFiles(dir)).toEqual(logBefore);

    for (let v = 0; v <= latest; v++) {
      if (inWindow(v)) {
        expect(await readVersion(store, v), `version ${v}`).toEqual(expected[v]);
      } else {
        const code = await errorCode(readVersion(store, v));
        expect([undefined, 'MISSING_DATA_FILE'], `version ${v}`).toContain(code);
      }
    }
    // Some version outside the window did lose files: the vacuum did real work.
    const lost = [];
    for (let v = 0; v <= latest; v++)
      if ((await errorCode(readVersion(store, v))) === 'MISSING_DATA_FILE') lost.push(v);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.every((v) => !inWindow(v))).toBe(true);

    // Log cleanup with the table's 7-day logRetentionDuration.
    const cleaned = await cleanupExpiredLogs(store, { now: end });
    expect(cleaned.checkpointVersion).toBeDefined();
    const kept = cleaned.checkpointVersion!;
    expect(cleaned.commitsDeleted).toBe(kept);
    const firstInWindow = times.findIndex((_, v) => inWindow(v));
    expect(kept).toBeLessThanOrEqual(firstInWindow);
    expect(logFiles(dir)).toContain('_last_checkpoint');
    for (let v = 0; v <= latest; v++) {
      if (inWindow(v)) {
        expect(await readVersion(store, v), `version ${v} after log cleanup`).toEqual(expected[v]);
      } else if (v < kept) {
        expect(await errorCode(loadSnapshot(store, { version: v })), `version ${v}`).toBe(
          'VERSION_NOT_AVAILABLE',
        );
      } else {
        expect([undefined, 'MISSING_DATA_FILE']).toContain(await errorCode(readVersion(store, v)));
      }
    }
    // Time travel by timestamp to the start of the window still works.
    const atCutoff = await loadSnapshot(store, { timestamp: cutoff });
    expect(inWindow(atCutoff.version)).toBe(true);
    expect(await readVersion(store, atCutoff.version)).toEqual(expected[atCutoff.version]);
    await expect(loadSnapshot(store, { timestamp: end - 30 * DAY })).rejects.toThrow(WeirError);

    // Running both again changes nothing more.
    expect((await vacuum(store, { mode: 'full', now: end })).filesDeleted).toBe(0);
    expect((await cleanupExpiredLogs(store, { now: end })).files).toEqual([]);
  }, 60_000);
});

describe('vacuum', () => {
  it('lite removes expired tombstones only; full also old unreferenced files; hidden paths are never touched', async () => {
    const dir = newDir();
    const store = new LocalStore(dir);
    await createTable(store, { schema, partitionColumns: ['part'] });
    await writeTable(store, batch([1, 2], 'a'));
    await writeTable(store, batch([3], 'a'), { mode: 'overwrite' });
    writeFileSync(path.join(dir, 'orphan.parquet'), 'orphan');
    writeFileSync(path.join(dir, '.hidden'), 'h');
    mkdirSync(path.join(dir, '_tmp'));
    writeFileSync(path.join(dir, '_tmp', 'x.parquet'), 'h');
    const later = Date.now() + 8 * DAY;

    expect((await vacuum(store, {})).numFiles).toBe(0); // nothing expired yet
    const lite = await vacuum(store, { now: later });
    expect(lite.files.map((f) => f.reason)).toEqual(['expired-tombstone']);
    expect(lite.filesDeleted).toBe(1);
    expect(lite.bytesDeleted).toBeGreaterThan(0);
    // Already gone: a second lite run finds nothing to delete.
    expect((await vacuum(store, { now: later })).filesDeleted).toBe(0);

    const full = await vacuum(store, { mode: 'full', now: later });
    expect(full.files.map((f) => f.key)).toEqual(['orphan.parquet']);
    expect(full.bytesDeleted).toBe(6);
    expect(readdirSync(dir).sort()).toEqual(['.hidden', '_delta_log', '_tmp', 'part=a']);
    expect(await readVersion(store, 2)).toHaveLength(1);
  });

  it('a retention longer than the table setting keeps files whose tombstones a checkpoint dropped', async () => {
    // File A is written 40 days ago and removed 10 days ago; a checkpoint written now drops A's
    // tombstone (older than the table's 7 days). With a 30-day retention the version current
    // 30 days ago still needs A, so a full vacuum must keep it.
    const dir = newDir();
    const store = new LocalStore(dir);
    const now = Date.now();
    await createTable(store, {
      schema,
      partitionColumns: ['part'],
      properties: { 'delta.enableExpiredLogCleanup': 'false' },
      now: () => now - 41 * DAY,
    });
    setMtime(commitFile(dir, 0), now - 41 * DAY);
    const a = await writeTable(store, batch([1, 2], 'a'), { now: () => now - 40 * DAY });
    setMtime(commitFile(dir, 1), now - 40 * DAY);
    for (const f of a.files) setMtime(path.join(dir, decodeURIComponent(f.path)), now - 40 * DAY);
    const b = await writeTable(store, batch([3], 'a'), { mode: 'overwrite', now: () => now - 10 * DAY });
    setMtime(commitFile(dir, 2), now - 10 * DAY);
    for (const f of b.files) setMtime(path.join(dir, decodeURIComponent(f.path)), now - 10 * DAY);
    await writeCheckpoint(store, await loadSnapshot(store), { now });
    const snapshot = await loadSnapshot(store);
    expect(snapshot.tombstones()).toEqual([]); // the checkpoint dropped A's tombstone
    const v1 = await readVersion(store, 1);
    expect(v1).toHaveLength(2);

    const dry = await vacuum(store, { mode: 'full', retentionHours: 30 * 24, now, dryRun: true });
    expect(dry.files.map((f) => f.key)).toEqual([]);
    await vacuum(store, { mode: 'full', retentionHours: 30 * 24, now });
    expect(await readVersion(store, 1)).toEqual(v1);
    // With the table's own 7 days, version 1 is outside the window and A may go.
    const r = await vacuum(store, { mode: 'full', now });
    expect(r.files.map((f) => f.key)).toEqual(a.files.map((f) => decodeURIComponent(f.path)));
    expect(await readVersion(store, 2)).toHaveLength(1);
  });

  it('refuses a retention shorter than the table setting unless forced', async () => {
    const dir = newDir();
    const store = new LocalStore(dir);
    await createTable(store, {
      schema,
      properties: { 'delta.deletedFileRetentionDuration': 'interval 2 days' },
    });
    await expect(vacuum(store, { retentionHours: 24 })).rejects.toMatchObject({
      code: 'VACUUM_RETENTION_TOO_SHORT',
    });
    expect((await vacuum(store, { retentionHours: 24, force: true })).retentionMs).toBe(DAY);
    expect((await vacuum(store, { retentionHours: 72 })).retentionMs).toBe(3 * DAY);
    expect((await vacuum(store)).retentionMs).toBe(2 * DAY);
    await expect(vacuum(store, { retentionHours: -1, force: true })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('keeps `_2=` partition directories of a Spark table and its data readable', async () => {
    const dir = newDir();
    cpSync(tableDir('golden-data-reader-escaped-chars'), dir, { recursive: true });
    const store = new LocalStore(dir);
    const snapshot = await loadSnapshot(store);
    const before = await readVersion(store, snapshot.version);
    const r = await vacuum(store, { mode: 'full', retentionHours: 0, force: true });
    expect(r.files.some((f) => f.key.startsWith('_2='))).toBe(snapshot.tombstones().length > 0);
    expect(await readVersion(store, snapshot.version)).toEqual(before);
    for (const f of (await loadSnapshot(store)).files()) {
      await expect(store.head(decodeURIComponent(f.path))).resolves.toBeDefined();
    }
    // Hadoop .crc files stay.
    expect(r.files.some((f) => f.key.includes('/.'))).toBe(false);
  });

  it('deletes deletion-vector files only once nothing references them (after OPTIMIZE)', async () => {
    const dir = newDir();
    cpSync(tableDir('golden-dv-partitioned-with-checkpoint'), dir, { recursive: true });
    const store = new LocalStore(dir);
    const expected = await readVersion(store, (await loadSnapshot(store)).version);
    const dvFiles = () => readdirSync(dir).filter((f) => f.startsWith('deletion_vector_'));
    const dvCount = dvFiles().length;
    const first = await vacuum(store, { mode: 'full', retentionHours: 0, force: true });
    expect(first.files.filter((f) => f.key.startsWith('deletion_vector_')).length).toBeLessThan(dvCount);
    expect(await readVersion(store, (await loadSnapshot(store)).version)).toEqual(expected);
    await optimize(store);
    await vacuum(store, { mode: 'full', retentionHours: 0, force: true, now: Date.now() + 1000 });
    expect(dvFiles()).toEqual([]);
    expect(await readVersion(store, (await loadSnapshot(store)).version)).toEqual(expected);
  });
});

describe('expired log cleanup after checkpoints', () => {
  async function agedTable(properties: Record<string, string>) {
    const dir = newDir();
    const store = new LocalStore(dir);
    await createTable(store, { schema, properties: { 'delta.checkpointInterval': '5', ...properties } });
    for (let i = 1; i <= 9; i++) await writeTable(store, batch([i], 'x'));
    // Versions 0..9 are 40 days old.
    for (let v = 0; v <= 9; v++) setMtime(commitFile(dir, v), Date.now() - 40 * DAY + v * 1000);
    await writeTable(store, batch([10], 'x')); // version 10: checkpoint, then cleanup
    return { dir, store };
  }

  it('runs after a checkpoint by default (delta.enableExpiredLogCleanup defaults to true)', async () => {
    const { dir, store } = await agedTable({});
    const log = logFiles(dir);
    // Checkpoint 5 is the newest at or before the version current 30 days ago (9): below it goes.
    expect(log.filter((f) => f.endsWith('.json'))).toEqual(
      [5, 6, 7, 8, 9, 10].map((v) => `${String(v).padStart(20, '0')}.json`),
    );
    expect(log).toContain(`${String(5).padStart(20, '0')}.checkpoint.parquet`);
    expect((await loadSnapshot(store)).version).toBe(10);
    expect(await readVersion(store, 5)).toHaveLength(5);
    expect(await errorCode(loadSnapshot(store, { version: 4 }))).toBe('VERSION_NOT_AVAILABLE');
  });

  it('does nothing when delta.enableExpiredLogCleanup is false; on demand it does', async () => {
    const { dir, store } = await agedTable({ 'delta.enableExpiredLogCleanup': 'false' });
    expect(logFiles(dir).filter((f) => f.endsWith('.json'))).toHaveLength(11);
    const dry = await cleanupExpiredLogs(store, { dryRun: true });
    expect(dry.files).toHaveLength(5);
    expect(logFiles(dir).filter((f) => f.endsWith('.json'))).toHaveLength(11);
    const r = await cleanupExpiredLogs(store);
    expect(r).toMatchObject({ checkpointVersion: 5, commitsDeleted: 5, dryRun: false });
    expect(await readVersion(store, 10)).toHaveLength(10);
  });
});
