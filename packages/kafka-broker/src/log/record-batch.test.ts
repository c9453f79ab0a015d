import { describe, expect, it } from 'vitest';
import { buildBatch } from '../__fixtures__/batches.js';
import { KafkaErrorCode } from '../errors.js';
import {
  batchCrcValid,
  compressionOf,
  isControl,
  isTransactional,
  readBatchHeader,
  scanBatches,
  setBaseOffset,
} from './record-batch.js';

const a = buildBatch({ records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
const b = buildBatch({ records: [{ value: 'd' }], producerId: 7, producerEpoch: 0, baseSequence: 3 });

describe('record batches', () => {
  it('reads the header fields', () => {
    const h = readBatchHeader(b);
    expect(h).toMatchObject({
      baseOffset: 0,
      magic: 2,
      lastOffsetDelta: 0,
      recordCount: 1,
      producerId: 7,
      producerEpoch: 0,
      baseSequence: 3,
      batchLength: b.length - 12,
    });
    expect(compressionOf(h.attributes)).toBe(0);
    expect(isTransactional(h.attributes)).toBe(false);
    expect(isControl(h.attributes)).toBe(false);
  });

  it('rewrites the base offset in place without changing the CRC', () => {
    const copy = Buffer.from(a);
    const crcBefore = copy.readUInt32BE(17);
    setBaseOffset(copy, 123_456_789_012);
    expect(readBatchHeader(copy).baseOffset).toBe(123_456_789_012);
    expect(copy.readUInt32BE(17)).toBe(crcBefore);
    expect(batchCrcValid(copy)).toBe(true);
    expect(copy.subarray(8).equals(a.subarray(8))).toBe(true);
  });

  it('splits a record set into whole batches (views, no copies)', () => {
    const set = Buffer.concat([a, b]);
    const scan = scanBatches(set, true);
    expect(scan.error).toBeUndefined();
    expect(scan.batches.map((x) => x.length)).toEqual([a.length, b.length]);
    expect(scan.batches[1]!.buffer).toBe(set.buffer);
    expect(scan.validBytes).toBe(set.length);
  });

  it('reports a torn tail, a bad CRC, a bad magic and a bad length as CORRUPT_MESSAGE', () => {
    const torn = scanBatches(Buffer.concat([a, b.subarray(0, 40)]), true);
    expect(torn.batches).toHaveLength(1);
    expect(torn.validBytes).toBe(a.length);
    expect(torn.error?.errorCode).toBe(KafkaErrorCode.CORRUPT_MESSAGE);

    const flipped = Buffer.from(a);
    flipped[flipped.length - 1]! ^= 1;
    expect(scanBatches(flipped, true).error?.reason).toMatch(/CRC/);
    expect(scanBatches(flipped, false).error).toBeUndefined();

    const magic1 = Buffer.from(a);
    magic1.writeInt8(1, 16);
    expect(scanBatches(magic1, false).error?.reason).toMatch(/magic 1/);

    const short = Buffer.from(a);
    short.writeInt32BE(10, 8);
    expect(scanBatches(short, false).error?.reason).toMatch(/too small/);
  });
});
