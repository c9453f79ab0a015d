/**
 * Exactly-once under SIGKILL for both sink faces, with real child processes and a
 * deterministic replayable source (test/fixtures/sink-child.ts, 4 partitions):
 * - ContinuousSink (40 ms epochs): killed 20 times at random moments — mid-write, mid-upload,
 *   mid-commit, mid-checkpoint — each restart resumes from storedPositions;
 * - MicroBatchSink: killed 20 times, each restart replays every batch from 0 and the committed
 *   batch ids are skipped;
 * - switching mode between runs (continuous -> microbatch -> continuous) on one table.
 * At the end every record is in the table exactly once (checked by partition and offset).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchToJsonRows, createTable, loadSnapshot, parseSchema, scanSnapshot } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { runFixture, startFixture } from '../support/processes.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'part', type: 'integer', nullable: true, metadata: {} },
      { name: 'off', type: 'long', nullable: true, metadata: {} },
      { name: 'payload', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function newTable(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-sinkcrash-'));
  dirs.push(dir);
  await createTable(new LocalStore(dir), { schema, partitionColumns: ['part'] });
  return dir;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function assertExactlyOnce(dir: string, perPartition: number): Promise<void> {
  const store = new LocalStore(dir);
  const snapshot = await loadSnapshot(store);
  const seen: number[] = [];
  for await (const b of scanSnapshot(store, snapshot, { columns: ['id'] }))
    for (const r of batchToJsonRows(b)) seen.push(r.id as number);
  seen.sort((a, b) => a - b);
  const expected = Array.from({ length: 4 }, (_, p) =>
    Array.from({ length: perPartition }, (_, o) => p * 1_000_000 + o),
  ).flat();
  expect(seen.length).toBe(expected.length);
  expect(seen).toEqual(expected);
  const versions = readdirSync(path.join(dir, '_delta_log'))
    .filter((f) => /^\d{20}\.json$/.test(f))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
  expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i));
}

async function killRepeatedly(
  dir: string,
  mode: string,
  total: number,
  chunk: number,
  kills: number,
  seed: number,
  pauseMs = 5,
) {
  const random = rng(seed);
  let killed = 0;
  for (let round = 0; round < kills * 2 && killed < kills; round++) {
    const { child, done } = startFixture('sink-child.ts', [
      dir,
      mode,
      String(total),
      String(chunk),
      String(pauseMs),
    ]);
    let timer: NodeJS.Timeout | undefined;
    if (random() < 0.25) {
      timer = setTimeout(() => child.kill('SIGKILL'), random() * 1500);
    } else {
      // After the first commit of this run, a random moment into the next ones.
      child.stdout!.on('data', (c: Buffer) => {
        if (timer === undefined && c.toString().includes('committed')) {
          timer = setTimeout(() => child.kill('SIGKILL'), random() * 250);
        }
      });
    }
    const r = await done;
    clearTimeout(timer);
    if (r.signal === 'SIGKILL') killed++;
    else {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  }
  return killed;
}

describe('sinks under SIGKILL (OS processes)', () => {
  const seed = Number(process.env.WEIR_CRASH_SEED ?? Date.now() % 1_000_000);

  it('ContinuousSink: 20 kills, restarts resume from storedPositions, every record once', async () => {
    console.log(`sink crash seed ${seed}`);
    const dir = await newTable();
    const total = 10_000;
    const killed = await killRepeatedly(dir, 'continuous', total, 20, 20, seed, 20);
    expect(killed).toBe(20);
    const final = await runFixture('sink-child.ts', [dir, 'continuous', String(total), '200']);
    expect(final.stderr).toBe('');
    expect(final.lines.at(-1)).toEqual({ done: true });
    await assertExactlyOnce(dir, total);
  }, 300_000);

  it('MicroBatchSink: 20 kills, every restart replays all batches, committed ids are skipped', async () => {
    const dir = await newTable();
    const total = 2000;
    const killed = await killRepeatedly(dir, 'addbatch', total, 20, 20, seed + 1);
    expect(killed).toBe(20);
    const final = await runFixture('sink-child.ts', [dir, 'addbatch', String(total), '20']);
    expect(final.stderr).toBe('');
    await assertExactlyOnce(dir, total);
    expect((await loadSnapshot(new LocalStore(dir))).appTransactionVersion('batch-query')).toBe(
      total / 20 - 1,
    );
  }, 300_000);

  it('switching mode between runs keeps exactly-once', async () => {
    const dir = await newTable();
    const random = rng(seed + 2);
    for (const [i, mode] of ['continuous', 'microbatch', 'continuous', 'microbatch'].entries()) {
      const { child, done } = startFixture('sink-child.ts', [dir, mode, '1500', '40']);
      const timer = setTimeout(() => child.kill('SIGKILL'), 1200 + random() * 1500 + i * 100);
      await done;
      clearTimeout(timer);
    }
    const final = await runFixture('sink-child.ts', [dir, 'continuous', '1500', '40']);
    expect(final.stderr).toBe('');
    await assertExactlyOnce(dir, 1500);
  }, 300_000);
});
