/**
 * Checkpoints around data commits, through the public API:
 * - a checkpoint that fails (the store refuses it) never fails the data commit: every write
 *   returns its version, the error goes to `onCheckpointError`, the table reads back complete;
 * - a checkpoint that hangs never holds back commits: with `checkpoint: 'background'` the write
 *   returns as soon as its commit landed, and other writers commit on top meanwhile;
 * - `delta.checkpoint.writeStatsAsStruct` writes `stats_parsed`; with the JSON stats switched
 *   off, data skipping works from the checkpoint's typed stats alone;
 * - unexpired tombstones are kept in checkpoints written after a commit, expired ones dropped.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  loadSnapshot,
  parseSchema,
  planScan,
  RecordBatchBuilder,
  readParquetTable,
  type WriteOptions,
  writeTable,
} from '@weir/delta';
import { LocalStore, type PutOptions, WeirError } from '@weir/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { readAll } from '../support/tables.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-cp-'));
  dirs.push(dir);
  return dir;
}

const isCheckpointKey = (key: string) =>
  key.endsWith('.checkpoint.parquet') || key.endsWith('_last_checkpoint');

/** A LocalStore whose checkpoint writes fail, or wait until released. */
class CheckpointTrouble extends LocalStore {
  mode: 'fail' | 'hang' | 'ok' = 'fail';
  attempts = 0;
  private release: (() => void) | undefined;
  private readonly released = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  unblock(): void {
    this.release?.();
  }
  override async put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions) {
    if (isCheckpointKey(key) && this.mode !== 'ok') {
      this.attempts++;
      if (this.mode === 'fail')
        throw new WeirError('STORE_UNAVAILABLE', `refused ${key}`, { retryable: true });
      await this.released;
    }
    return super.put(key, data, options);
  }
}

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: true, metadata: {} },
      { name: 'name', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);

function batch(from: number, n: number) {
  const b = new RecordBatchBuilder(schema);
  for (let i = from; i < from + n; i++) b.append({ id: i, name: `n${i}` });
  return b.flush();
}

const checkpointFiles = (dir: string) =>
  readdirSync(path.join(dir, '_delta_log')).filter((f) => f.endsWith('.checkpoint.parquet'));

describe('checkpoints never fail or hold back data commits', () => {
  it('a failing checkpoint: every write commits, errors go to onCheckpointError', async () => {
    const dir = tempDir();
    const store = new CheckpointTrouble(dir);
    const errors: unknown[] = [];
    const options: WriteOptions = {
      properties: { 'delta.checkpointInterval': '2' },
      onCheckpointError: (err) => errors.push(err),
    };
    for (let v = 0; v <= 6; v++) {
      const r = await writeTable(store, batch(v * 10, 10), options);
      expect(r.version).toBe(v);
    }
    // Versions 2, 4 and 6 were due: each checkpoint failed, each failure was reported.
    expect(store.attempts).toBe(3);
    expect(errors).toHaveLength(3);
    expect(errors.every((e) => e instanceof WeirError && e.code === 'STORE_UNAVAILABLE')).toBe(true);
    expect(checkpointFiles(dir)).toEqual([]);
    const rows = await readAll(new LocalStore(dir));
    expect(rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 70 }, (_, i) => i),
    );
    // Once the store accepts it again, the next due checkpoint is written.
    store.mode = 'ok';
    await writeTable(store, batch(70, 1), options);
    await writeTable(store, batch(71, 1), options);
    expect(checkpointFiles(dir)).toEqual(['00000000000000000008.checkpoint.parquet']);
  });

  it('a hanging checkpoint (background mode) does not hold back this or other commits', async () => {
    const dir = tempDir();
    const store = new CheckpointTrouble(dir);
    store.mode = 'hang';
    const props = { properties: { 'delta.checkpointInterval': '2' } };
    await writeTable(store, batch(0, 1), props);
    await writeTable(store, batch(1, 1), props);
    // Version 2 is due for a checkpoint, which hangs: the write still returns with its version.
    const due = await writeTable(store, batch(2, 1), { checkpoint: 'background' });
    expect(due.version).toBe(2);
    expect(due.checkpointing).toBeInstanceOf(Promise);
    let settled = false;
    void due.checkpointing!.then(() => {
      settled = true;
    });
    // Another writer (its own store) commits on top while the checkpoint is still pending.
    const other = new LocalStore(dir);
    expect((await writeTable(other, batch(3, 1), { checkpoint: 'off' })).version).toBe(3);
    expect((await loadSnapshot(other)).version).toBe(3);
    expect(settled).toBe(false);
    expect(checkpointFiles(dir)).toEqual([]);
    store.unblock();
    await due.checkpointing;
    expect(checkpointFiles(dir)).toEqual(['00000000000000000002.checkpoint.parquet']);
    expect((await readAll(other)).length).toBe(4);
  });
});

describe('checkpoint contents', () => {
  it('writeStatsAsStruct writes stats_parsed; skipping then works from the checkpoint alone', async () => {
    const dir = tempDir();
    const store = new LocalStore(dir);
    const properties = {
      'delta.checkpointInterval': '3',
      'delta.checkpoint.writeStatsAsStruct': 'true',
      'delta.checkpoint.writeStatsAsJson': 'false',
    };
    // Four files with disjoint id ranges: [0, 9], [100, 109], [200, 209], [300, 309].
    for (let k = 0; k < 4; k++) await writeTable(store, batch(k * 100, 10), { properties });
    const files = checkpointFiles(dir);
    expect(files).toEqual(['00000000000000000003.checkpoint.parquet']);
    const cp = readParquetTable(new Uint8Array(readFileSync(path.join(dir, '_delta_log', files[0]!))));
    const add = cp.schema.fields.find((f) => f.name === 'add')!;
    const addFields = (add.type as { children: { name: string }[] }).children.map((c) => c.name);
    expect(addFields).toContain('stats_parsed');
    expect(addFields).not.toContain('stats');
    // Only the checkpoint describes the files: the JSON commits before it are not read.
    for (let v = 0; v <= 3; v++) rmSync(path.join(dir, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    const snapshot = await loadSnapshot(store);
    expect(snapshot.version).toBe(3);
    expect(snapshot.files().every((f) => f.stats === undefined && f.statsParsed !== undefined)).toBe(true);
    expect(planScan(snapshot, { where: 'id >= 200' }).files).toHaveLength(2);
    expect(planScan(snapshot, { where: 'id = 105' }).files).toHaveLength(1);
    expect(planScan(snapshot, { where: 'id > 400' }).files).toHaveLength(0);
    expect(planScan(snapshot, { where: 'id IN (5, 305)' }).files).toHaveLength(2);
    expect(planScan(snapshot, { where: 'name IS NULL' }).files).toHaveLength(0);
    expect((await readAll(store)).length).toBe(40);
  });

  it('keeps unexpired tombstones in a post-commit checkpoint and drops expired ones', async () => {
    const dir = tempDir();
    const store = new LocalStore(dir);
    const HOUR = 3_600_000;
    // Post-commit checkpoints judge tombstones by the wall clock: the writes happen "in the past".
    let clock = Date.now() - 3 * 24 * HOUR;
    const now = () => clock;
    const properties = {
      'delta.checkpointInterval': '4',
      'delta.deletedFileRetentionDuration': 'interval 1 day',
    };
    await writeTable(store, batch(0, 5), { properties, now }); // v0
    clock += HOUR;
    const old = (await loadSnapshot(store)).files()[0]!.path;
    await writeTable(store, batch(5, 5), { mode: 'overwrite', now }); // v1 removes `old`
    clock += 2 * 24 * HOUR; // `old`'s tombstone (now - 71 h) is older than the 1-day retention
    const recent = (await loadSnapshot(store)).files()[0]!.path;
    await writeTable(store, batch(10, 5), { mode: 'overwrite', now }); // v2 removes `recent` (now - 23 h)
    clock += HOUR;
    await writeTable(store, batch(15, 5), { now }); // v3
    clock += HOUR;
    // v4 is due for a checkpoint.
    await writeTable(store, batch(20, 5), { now });
    expect(checkpointFiles(dir)).toEqual(['00000000000000000004.checkpoint.parquet']);
    const cp = readParquetTable(
      new Uint8Array(readFileSync(path.join(dir, '_delta_log', '00000000000000000004.checkpoint.parquet'))),
    );
    const removed: string[] = [];
    const removes = cp.getChild('remove')!;
    for (let i = 0; i < cp.numRows; i++) {
      const r = removes.get(i) as { path: string } | null;
      if (r?.path) removed.push(r.path);
    }
    expect(removed).toContain(recent);
    expect(removed).not.toContain(old);
  });
});
