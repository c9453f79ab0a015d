/**
 * Crash safety of OPTIMIZE: a child process compacts a partitioned table in many small commit
 * groups and is killed with SIGKILL at random moments (mid bin, mid upload, mid commit, mid
 * checkpoint). After every kill the table must be either unchanged or hold only complete
 * OPTIMIZE groups: every row exactly once, every live file present, versions contiguous, each
 * OPTIMIZE commit balanced (rows removed = rows added). A final run completes the compaction,
 * and a full VACUUM (retention 0, forced) then removes the orphans the kills left behind.
 * Once with bins rewritten (decode on a worker thread), once with bins stitched (row groups
 * copied, `stitchMinRowGroupBytes: 0`).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  batchToJsonRows,
  createTable,
  loadSnapshot,
  parquetRowGroupInfo,
  parseSchema,
  RecordBatchBuilder,
  readHistory,
  scanSnapshot,
  vacuum,
  writeTable,
} from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { runFixture, startFixture } from '../support/processes.js';
import { seededRandom } from '../support/random.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: true, metadata: {} },
      { name: 'part', type: 'string', nullable: true, metadata: {} },
      { name: 'payload', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);
const PARTS = ['a', 'b', 'c', 'd'];
const BATCHES = 40;
const ROWS_PER_PART = 25;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function tableIds(store: LocalStore): Promise<number[]> {
  const ids: number[] = [];
  const snapshot = await loadSnapshot(store);
  for await (const b of scanSnapshot(store, snapshot))
    for (const r of batchToJsonRows(b)) ids.push(r.id as number);
  return ids.sort((x, y) => x - y);
}

async function assertConsistent(
  dir: string,
  store: LocalStore,
  expectedIds: readonly number[],
  baseVersion: number,
) {
  const snapshot = await loadSnapshot(store);
  for (const f of snapshot.files()) await expect(store.head(f.path)).resolves.toBeDefined();
  expect(await tableIds(store)).toEqual(expectedIds);
  const versions = readdirSync(path.join(dir, '_delta_log'))
    .filter((f) => /^\d{20}\.json$/.test(f))
    .map((f) => Number(f.slice(0, 20)))
    .sort((x, y) => x - y);
  expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i));
  const history = await readHistory(store);
  for (const h of history.filter((e) => e.version > baseVersion)) {
    expect(h.operation).toBe('OPTIMIZE');
    const m = h.operationMetrics as Record<string, string>;
    expect(Number(m.numRemovedFiles)).toBeGreaterThan(0);
  }
  return snapshot;
}

const STRATEGIES = [
  { name: 'rewritten', options: { decodeOnWorker: true } }, // kills also land while a decode thread runs
  { name: 'stitched', options: { stitchMinRowGroupBytes: 0 } },
] as const;

describe('OPTIMIZE under SIGKILL', () => {
  it.each(STRATEGIES)(
    'random kills leave the table unchanged or with whole groups committed; nothing references a missing file (bins $name)',
    async (strategy) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-optimize-crash-'));
      dirs.push(dir);
      const seed = Number(process.env.WEIR_CRASH_SEED ?? Date.now() % 1_000_000);
      console.log(`optimize crash test seed ${seed} (WEIR_CRASH_SEED to replay)`);
      const random = seededRandom(seed);
      const store = new LocalStore(dir);
      await createTable(store, { schema, partitionColumns: ['part'] });
      const ids: number[] = [];
      for (let i = 0; i < BATCHES; i++) {
        const b = new RecordBatchBuilder(schema);
        for (const [p, part] of PARTS.entries()) {
          for (let k = 0; k < ROWS_PER_PART; k++) {
            const id = (i * PARTS.length + p) * ROWS_PER_PART + k;
            ids.push(id);
            b.append({ id, part, payload: `row ${id} ${'x'.repeat(40)}` });
          }
        }
        await writeTable(store, b.flush());
      }
      ids.sort((x, y) => x - y);
      const base = await loadSnapshot(store);
      expect(base.numFiles).toBe(BATCHES * PARTS.length);
      // Bins of ~3 files, one commit per bin, one bin at a time: a run has ~50 commits to kill.
      const fileSize = base.files()[0]!.size;
      const options = JSON.stringify({
        targetSize: fileSize * 3 + 100,
        minInputFiles: 2,
        binsPerCommit: 1,
        maxConcurrentBins: 1,
        ...strategy.options,
      });

      let kills = 0;
      let completed = 0;
      for (let round = 0; round < 16 && kills < 6; round++) {
        const { child, done } = startFixture('optimize-child.ts', [dir, 'once', options]);
        let timer: NodeJS.Timeout | undefined;
        if (random() < 0.3) {
          timer = setTimeout(() => child.kill('SIGKILL'), 300 + random() * 1500);
        } else {
          child.stdout!.once('data', () => {
            timer = setTimeout(() => child.kill('SIGKILL'), random() * 250);
          });
        }
        const r = await done;
        clearTimeout(timer);
        if (r.signal === 'SIGKILL') kills++;
        else {
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          completed++;
        }
        await assertConsistent(dir, store, ids, base.version);
      }
      console.log(`optimize crash test (${strategy.name}): ${kills} kills, ${completed} completed runs`);
      expect(kills).toBeGreaterThanOrEqual(3);

      const final = await runFixture('optimize-child.ts', [dir, 'once', options]);
      expect(final.stderr).toBe('');
      expect(final.code).toBe(0);
      const snapshot = await assertConsistent(dir, store, ids, base.version);
      expect(snapshot.numFiles).toBeLessThan(base.numFiles);
      // Every input holds one row group: a stitched output keeps theirs, a rewritten one makes one.
      let multiGroup = 0;
      for (const f of snapshot.files()) {
        const groups = await parquetRowGroupInfo(await store.get(f.path));
        if (groups.length > 1) multiGroup++;
      }
      if (strategy.name === 'stitched') expect(multiGroup).toBeGreaterThan(0);
      else expect(multiGroup).toBe(0);

      // The kills left unreferenced files; a full vacuum removes exactly those (and the inputs).
      const live = new Set(snapshot.files().map((f) => f.path));
      const v = await vacuum(store, { mode: 'full', retentionHours: 0, force: true });
      expect(v.files.some((f) => live.has(f.key))).toBe(false);
      const inputsStillLive = base.files().filter((f) => live.has(f.path)).length;
      expect(v.filesDeleted).toBeGreaterThanOrEqual(base.numFiles - inputsStillLive);
      await assertConsistent(dir, store, ids, base.version);
      const dataFiles = readdirSync(dir, { recursive: true, withFileTypes: true }).filter(
        (e) => e.isFile() && e.name.endsWith('.parquet') && !e.parentPath.includes('_delta_log'),
      );
      expect(dataFiles.length).toBe(snapshot.numFiles);
    },
    240_000,
  );
});
