/**
 * Crash safety of the write path: a child process writes a deterministic sequence of batches
 * with application transactions (appId + batch number, the exactly-once idiom) and is killed
 * with SIGKILL at random moments — mid data-file upload, mid commit, mid checkpoint. Each
 * restart resumes after the version stored in the table. At the end every batch is in the
 * table exactly once, versions are contiguous, and no version references a missing file.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchToJsonRows, createTable, loadSnapshot, parseSchema, scanSnapshot } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { runFixture, startFixture } from '../support/processes.js';
import { seededRandom } from '../support/random.js';

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

const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('write path under SIGKILL', () => {
  it('20 SIGKILLs at random moments, then completion: every batch exactly once', async () => {
    const seed = Number(process.env.WEIR_CRASH_SEED ?? Date.now() % 1_000_000);
    console.log(`crash test seed ${seed} (WEIR_CRASH_SEED to replay)`);
    const random = seededRandom(seed);
    const store = new LocalStore(dir);
    await createTable(store, { schema });
    const BATCHES = 150;
    let kills = 0;
    for (let round = 0; round < 40 && kills < 20; round++) {
      const { child, done } = startFixture('writer-child.ts', [dir, 'exactly-once', '7', String(BATCHES)]);
      // A quarter of the kills land at any moment from start-up on; the rest after the child has
      // committed once, a random few ms into the next batch (mid upload, mid commit, mid checkpoint).
      let timer: NodeJS.Timeout | undefined;
      if (random() < 0.25) {
        timer = setTimeout(() => child.kill('SIGKILL'), random() * 1500);
      } else {
        child.stdout!.once('data', () => {
          timer = setTimeout(() => child.kill('SIGKILL'), random() * 300);
        });
      }
      const r = await done;
      clearTimeout(timer);
      if (r.signal === 'SIGKILL') kills++;
      else expect(r.stderr).toBe('');
    }
    expect(kills).toBe(20);
    const final = await runFixture('writer-child.ts', [dir, 'exactly-once', '7', String(BATCHES)]);
    expect(final.stderr).toBe('');
    expect(final.code).toBe(0);

    const snapshot = await loadSnapshot(store);
    expect(snapshot.appTransactionVersion('crash-7')).toBe(BATCHES - 1);
    const versions = readdirSync(path.join(dir, '_delta_log'))
      .filter((f) => /^\d{20}\.json$/.test(f))
      .map((f) => Number(f.slice(0, 20)));
    expect(versions.sort((a, b) => a - b)).toEqual(Array.from({ length: versions.length }, (_, i) => i));
    expect(versions.length).toBe(BATCHES + 1);

    const rows: number[] = [];
    for await (const b of scanSnapshot(store, snapshot))
      for (const r of batchToJsonRows(b)) rows.push(r.id as number);
    rows.sort((a, b) => a - b);
    expect(rows).toEqual(Array.from({ length: BATCHES * 20 }, (_, k) => 7_000_000 + k));
    // Every version is readable: no commit references a file that a crash left missing.
    for (const v of [1, Math.floor(BATCHES / 2), BATCHES]) {
      const s = await loadSnapshot(store, { version: v });
      let n = 0;
      for await (const b of scanSnapshot(store, s)) n += b.numRows;
      expect(n).toBe(v * 20);
    }
  }, 300_000);
});
