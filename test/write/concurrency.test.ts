/**
 * Concurrent writers as real OS processes on one local table: 8 processes x 100 appends all
 * land exactly once on contiguous versions; an overwrite racing appends resolves per the Delta
 * rules (it wins cleanly or fails with CONCURRENT_APPEND, never mixes); a same-appId race lets
 * exactly one writer commit.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchToJsonRows, createTable, loadSnapshot, parseSchema, scanSnapshot } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { runFixture } from '../support/processes.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: true, metadata: {} },
      { name: 'writer', type: 'integer', nullable: true, metadata: {} },
      { name: 'batch', type: 'integer', nullable: true, metadata: {} },
    ],
  }),
);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function newTable(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-conc-'));
  dirs.push(dir);
  await createTable(new LocalStore(dir), { schema });
  return dir;
}

async function ids(dir: string): Promise<number[]> {
  const store = new LocalStore(dir);
  const out: number[] = [];
  for await (const b of scanSnapshot(store, await loadSnapshot(store))) {
    for (const r of batchToJsonRows(b)) out.push(r.id as number);
  }
  return out.sort((a, b) => a - b);
}

function commitVersions(dir: string): number[] {
  return readdirSync(path.join(dir, '_delta_log'))
    .filter((f) => /^\d{20}\.json$/.test(f))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
}

describe('concurrent writers (OS processes)', () => {
  it('8 processes x 100 appends: 800 commits, contiguous, every row exactly once', async () => {
    const dir = await newTable();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, w) => runFixture('writer-child.ts', [dir, 'append', String(w), '100'])),
    );
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.lines).toHaveLength(100);
    }
    const versions = commitVersions(dir);
    expect(versions).toEqual(Array.from({ length: 801 }, (_, i) => i));
    const reported = results.flatMap((r) => r.lines.map((l) => l.version as number)).sort((a, b) => a - b);
    expect(reported).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
    const snapshot = await loadSnapshot(new LocalStore(dir));
    expect(snapshot.files()).toHaveLength(800);
    const expected = Array.from({ length: 8 }, (_, w) =>
      Array.from({ length: 500 }, (_, k) => w * 1_000_000 + k),
    ).flat();
    expect(await ids(dir)).toEqual(expected.sort((a, b) => a - b));
    // Checkpoints were written along the way (every 10 commits) and read back consistently.
    expect(readdirSync(path.join(dir, '_delta_log')).some((f) => f.endsWith('.checkpoint.parquet'))).toBe(
      true,
    );
  }, 240_000);

  it('an overwrite racing appends either wins cleanly or fails with CONCURRENT_APPEND', async () => {
    const dir = await newTable();
    await runFixture('writer-child.ts', [dir, 'append', '1', '3']);
    const [appends, overwrite] = await Promise.all([
      runFixture('writer-child.ts', [dir, 'append', '2', '20']),
      runFixture('writer-child.ts', [dir, 'overwrite', '9']),
    ]);
    expect(appends.code).toBe(0);
    const got = await ids(dir);
    const appended = Array.from({ length: 100 }, (_, k) => 2_000_000 + k);
    if (overwrite.code === 0) {
      // Won: the table is its 3 rows plus whatever appends committed after it, nothing from before.
      const v = overwrite.lines[0]!.version as number;
      const after = appends.lines.filter((l) => (l.version as number) > v).map((l) => l.i as number);
      const expected = [
        9_000_000,
        9_000_001,
        9_000_002,
        ...after.flatMap((i) => appended.slice(i * 5, i * 5 + 5)),
      ];
      expect(got).toEqual(expected.sort((a, b) => a - b));
    } else {
      expect(overwrite.code).toBe(3);
      expect(overwrite.lines[0]!.conflict).toBe('CONCURRENT_APPEND');
      const before = Array.from({ length: 15 }, (_, k) => 1_000_000 + k);
      expect(got).toEqual([...before, ...appended].sort((a, b) => a - b));
    }
    expect(commitVersions(dir)).toEqual(Array.from({ length: commitVersions(dir).length }, (_, i) => i));
  }, 120_000);

  it('6 processes racing the same appId: exactly one commits', async () => {
    const dir = await newTable();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, w) => runFixture('writer-child.ts', [dir, 'appid', String(w)])),
    );
    const committed = results.filter((r) => r.code === 0 && r.lines[0]?.skipped === false);
    expect(committed).toHaveLength(1);
    for (const r of results) {
      if (r === committed[0]) continue;
      // The others either saw the stored version (skipped) or lost the race with a conflict.
      expect(r.code === 3 ? r.lines[0]!.conflict : r.lines[0]?.skipped).toBe(
        r.code === 3 ? 'CONCURRENT_TRANSACTION' : true,
      );
    }
    const snapshot = await loadSnapshot(new LocalStore(dir));
    expect(snapshot.appTransactionVersion('race')).toBe(1);
    expect(await ids(dir)).toHaveLength(1);
  }, 120_000);
});
