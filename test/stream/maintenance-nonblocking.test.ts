/**
 * Background maintenance never holds up a sink commit. Instead of timing commits (noisy on a
 * shared machine), the store stalls the maintenance work itself — compaction's reads of data
 * files, checkpoint writes, expired log deletes — indefinitely, and the sink must keep
 * committing epoch after epoch while that work hangs. Once released, the work completes and
 * the table holds every row once, compacted, checkpointed and cleaned.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTable, loadSnapshot, parseSchema, readHistory } from '@weir/delta';
import {
  type ListOptions,
  LocalStore,
  listAll,
  type ObjectMeta,
  type ObjectStore,
  type PutOptions,
} from '@weir/storage';
import { ContinuousSink, type EpochCommitted } from '@weir/stream';
import { afterEach, describe, expect, it } from 'vitest';
import { readAll } from '../support/tables.js';

class Gate {
  private release: (() => void) | undefined;
  private promise: Promise<void> | undefined;
  waiting = 0;
  close(): void {
    this.promise = new Promise((r) => {
      this.release = r;
    });
  }
  open(): void {
    this.release?.();
    this.promise = undefined;
  }
  async pass(): Promise<void> {
    if (!this.promise) return;
    this.waiting++;
    await this.promise;
    this.waiting--;
  }
}

/** A LocalStore whose maintenance-only operations wait at gates. */
class StallingStore implements ObjectStore {
  readonly dataReads = new Gate();
  readonly checkpointWrites = new Gate();
  readonly deletes = new Gate();
  constructor(private readonly inner: LocalStore) {}
  get root(): string {
    return this.inner.root;
  }
  private isDataFile(key: string): boolean {
    return !key.startsWith('_delta_log/') && key.endsWith('.parquet');
  }
  async get(key: string): Promise<Uint8Array> {
    if (this.isDataFile(key)) await this.dataReads.pass();
    return this.inner.get(key);
  }
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    if (this.isDataFile(key)) await this.dataReads.pass();
    return this.inner.getRange(key, offset, length);
  }
  async head(key: string): Promise<ObjectMeta> {
    return this.inner.head(key);
  }
  async put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<void> {
    if (key.includes('.checkpoint') || key.endsWith('_last_checkpoint')) await this.checkpointWrites.pass();
    return this.inner.put(key, data, options);
  }
  async putIfAbsent(key: string, data: Uint8Array): Promise<void> {
    if (key.includes('.checkpoint')) await this.checkpointWrites.pass();
    return this.inner.putIfAbsent(key, data);
  }
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectMeta> {
    return this.inner.list(prefix, options);
  }
  async delete(key: string): Promise<void> {
    await this.deletes.pass();
    return this.inner.delete(key);
  }
  async deleteMany(keys: readonly string[]): Promise<void> {
    await this.deletes.pass();
    for (const k of keys) await this.inner.delete(k);
  }
}

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'country', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, maxMs = 30_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('background maintenance never holds up sink commits', () => {
  it('epochs keep committing while compaction, checkpoints and log cleanup are stalled', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-nonblocking-'));
    dirs.push(dir);
    const local = new LocalStore(dir);
    await createTable(local, {
      schema,
      partitionColumns: ['country'],
      properties: { 'delta.checkpointInterval': '4', 'delta.logRetentionDuration': 'interval 0 seconds' },
    });
    const store = new StallingStore(local);
    const errors: unknown[] = [];
    const sink = await ContinuousSink.open(store, {
      epochMs: 60_000,
      autoCompaction: { minSmallFiles: 3 },
      onBackgroundError: (err) => errors.push(err),
    });
    const committed: EpochCommitted[] = [];
    sink.onEpochCommitted((e) => committed.push(e));
    let nextId = 0;
    const epoch = async () => {
      const rows = Array.from({ length: 10 }, () => {
        const id = nextId++;
        return { id, country: id % 2 ? 'DE' : 'FR' };
      });
      await sink.write(rows, { src: nextId });
      await sink.flush();
    };

    // Phase 1: compaction cannot read its inputs, checkpoints cannot be written.
    store.dataReads.close();
    store.checkpointWrites.close();
    for (let i = 0; i < 24; i++) await epoch();
    expect(committed.length).toBe(24);
    // A compaction is running, stuck (it starts its background worker first).
    await until('a compaction to wait at its read', () => store.dataReads.waiting > 0);
    expect(store.checkpointWrites.waiting).toBeGreaterThan(0); // a checkpoint is pending, stuck
    expect((await loadSnapshot(local)).version).toBe(24);

    // Phase 2: checkpoints go through, their expired-log cleanup cannot delete.
    store.deletes.close();
    store.checkpointWrites.open();
    await until('a log cleanup to wait at its delete', () => store.deletes.waiting > 0);
    for (let i = 0; i < 12; i++) await epoch();
    expect(committed.length).toBe(36);

    // Release everything: the stalled work finishes and the table is whole.
    store.dataReads.open();
    store.deletes.open();
    await sink.compactionIdle();
    await sink.close();
    expect(errors).toEqual([]);
    const ids = (await readAll(local)).map((r) => r.id as number).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 360 }, (_, i) => i));
    const history = await readHistory(local);
    expect(history.some((h) => h.operation === 'OPTIMIZE')).toBe(true);
    const snap = await loadSnapshot(local);
    expect(snap.appTransactionVersion('src')).toBe(360);
    // Cleanup ran: commit 0 is gone below a checkpoint, and the table still loads.
    const log = await listAll(local, '_delta_log/');
    expect(log.some((m) => m.key.endsWith('00000000000000000000.json'))).toBe(false);
    expect(log.some((m) => m.key.endsWith('.checkpoint.parquet'))).toBe(true);
  });
});
