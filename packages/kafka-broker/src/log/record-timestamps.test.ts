import { describe, expect, it } from 'vitest';
import { buildBatch } from '../__fixtures__/batches.js';
import { setBaseOffset } from './record-batch.js';
import { firstRecordAtOrAfter, recordTimestamps } from './record-timestamps.js';

const records = [0, 10, 20, 30].map((d) => ({ value: `v${d}`, timestampDelta: d }));

describe('record timestamps', () => {
  for (const gzip of [false, true]) {
    it(`reads every record's offset and timestamp (${gzip ? 'gzip' : 'uncompressed'})`, () => {
      const batch = buildBatch({ records, baseTimestamp: 1000, gzip });
      setBaseOffset(batch, 100);
      expect(recordTimestamps(batch)).toEqual([
        { offset: 100, timestamp: 1000 },
        { offset: 101, timestamp: 1010 },
        { offset: 102, timestamp: 1020 },
        { offset: 103, timestamp: 1030 },
      ]);
      expect(firstRecordAtOrAfter(batch, 1015)).toEqual({ offset: 102, timestamp: 1020 });
      expect(firstRecordAtOrAfter(batch, 1031)).toBeNull();
    });
  }

  it('falls back to the batch for codecs it does not inflate', () => {
    const batch = buildBatch({ records, baseTimestamp: 1000 });
    batch.writeInt16BE(4, 21); // claims zstd
    expect(recordTimestamps(batch)).toBeNull();
    expect(firstRecordAtOrAfter(batch, 1015)).toEqual({ offset: 0, timestamp: 1000 });
  });
});
