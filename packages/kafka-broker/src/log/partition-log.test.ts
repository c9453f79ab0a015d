import { describe, expect, it } from 'vitest';
import { buildBatch } from '../__fixtures__/batches.js';
import { PartitionLog } from './partition-log.js';
import { readBatchHeader } from './record-batch.js';

function filled(sizes: number[]): PartitionLog {
  const log = new PartitionLog('t', 0);
  sizes.forEach((n, i) => {
    const batch = buildBatch({ records: Array.from({ length: n }, (_, j) => ({ value: `${i}-${j}` })) });
    log.append(batch, n - 1, 1000 * i);
  });
  return log;
}

describe('PartitionLog', () => {
  it('assigns contiguous offsets by rewriting base offsets', () => {
    const log = filled([3, 1, 5]);
    expect(log.highWatermark).toBe(9);
    expect(log.logStartOffset).toBe(0);
    expect(log.liveBatches().map((b) => readBatchHeader(b.buf).baseOffset)).toEqual([0, 3, 4]);
  });

  it('reads whole batches from the one containing the offset, by reference', () => {
    const log = filled([3, 1, 5]);
    const all = log.liveBatches();
    expect(log.read(0, 1e9).batches).toEqual(all.map((b) => b.buf));
    expect(log.read(2, 1e9).batches[0]).toBe(all[0]!.buf);
    expect(log.read(3, 1e9).batches[0]).toBe(all[1]!.buf);
    expect(log.read(8, 1e9).batches).toEqual([all[2]!.buf]);
    expect(log.read(9, 1e9).batches).toEqual([]);
  });

  it('honours byte limits but returns an oversized first batch when allowed', () => {
    const log = filled([3, 1, 5]);
    const [b0, b1] = log.liveBatches();
    expect(log.read(0, b0!.bytes + b1!.bytes).batches).toHaveLength(2);
    expect(log.read(0, b0!.bytes - 1).batches).toHaveLength(0);
    expect(log.read(0, b0!.bytes - 1, Number.POSITIVE_INFINITY).batches).toHaveLength(1);
  });

  it('finds offsets by timestamp', () => {
    const log = new PartitionLog('t', 0);
    log.append(
      buildBatch({ records: [{ value: 'a' }, { value: 'b', timestampDelta: 50 }], baseTimestamp: 1000 }),
      1,
      0,
    );
    log.append(buildBatch({ records: [{ value: 'c' }], baseTimestamp: 2000 }), 0, 0);
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1000 });
    expect(log.offsetForTimestamp(1001)).toEqual({ offset: 1, timestamp: 1050 });
    expect(log.offsetForTimestamp(1500)).toEqual({ offset: 2, timestamp: 2000 });
    expect(log.offsetForTimestamp(2001)).toBeNull();
  });

  it('applies retention to whole head batches and moves the log start offset', () => {
    const log = filled([3, 1, 5]);
    const r = log.applyRetention(1500, { maxAgeMs: 400 });
    expect(r).toMatchObject({ batches: 2, records: 4 });
    expect(log.logStartOffset).toBe(4);
    expect(log.highWatermark).toBe(9);
    expect(log.read(3, 1e9).batches).toEqual([]);
    expect(log.read(4, 1e9).batches).toHaveLength(1);
  });

  it('restores batches from disk at their stored offsets', () => {
    const log = new PartitionLog('t', 0, 10);
    const batch = buildBatch({ records: [{ value: 'x' }, { value: 'y' }], baseOffset: 10 });
    log.restore(batch, 10, 1, 0);
    expect(log.logStartOffset).toBe(10);
    expect(log.highWatermark).toBe(12);
    expect(() => log.restore(batch, 10, 1, 0)).toThrow(/does not follow/);
  });
});
