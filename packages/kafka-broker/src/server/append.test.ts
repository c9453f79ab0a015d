import { describe, expect, it } from 'vitest';
import { buildBatch } from '../__fixtures__/batches.js';
import { KafkaErrorCode } from '../errors.js';
import { crc32c } from '../log/crc32c.js';
import { PartitionLog } from '../log/partition-log.js';
import { appendRecords } from './append.js';

const opts = { verifyCrc: true, now: 1 };
const values = (n: number, tag = 'v') => Array.from({ length: n }, (_, i) => ({ value: `${tag}${i}` }));

function recrc(b: Buffer): Buffer {
  b.writeUInt32BE(crc32c(b, 21), 17);
  return b;
}

describe('appendRecords', () => {
  it('appends every batch of a record set with consecutive offsets', () => {
    const log = new PartitionLog('t', 0);
    const r = appendRecords(
      log,
      Buffer.concat([buildBatch({ records: values(2) }), buildBatch({ records: values(3) })]),
      opts,
    );
    expect(r).toMatchObject({ baseOffset: 0, duplicates: 0 });
    expect(r.appended).toHaveLength(2);
    expect(r.rejected).toBeUndefined();
    expect(log.highWatermark).toBe(5);
  });

  it('refuses the whole set, appending nothing, when any batch is malformed', () => {
    const log = new PartitionLog('t', 0);
    const good = buildBatch({ records: values(2) });
    const control = recrc(buildBatch({ records: values(1) }));
    control.writeInt16BE(0x20, 21);
    recrc(control);
    const lying = buildBatch({ records: values(3) });
    lying.writeInt32BE(1000, 23); // lastOffsetDelta says 1001 records, the header count says 3
    recrc(lying);
    for (const bad of [control, lying]) {
      const r = appendRecords(log, Buffer.concat([good, bad]), opts);
      expect(r.rejected?.errorCode).toBe(KafkaErrorCode.INVALID_RECORD);
      expect(r.appended).toEqual([]);
    }
    const flipped = Buffer.from(good);
    flipped[flipped.length - 1]! ^= 1;
    expect(appendRecords(log, flipped, opts).rejected?.errorCode).toBe(KafkaErrorCode.CORRUPT_MESSAGE);
    expect(appendRecords(log, null, opts).rejected?.errorCode).toBe(KafkaErrorCode.CORRUPT_MESSAGE);
    expect(log.highWatermark).toBe(0);
  });

  it('answers an idempotent retry with its original offset and refuses a gap', () => {
    const log = new PartitionLog('t', 0);
    const first = buildBatch({ records: values(2), producerId: 9, producerEpoch: 0, baseSequence: 0 });
    const second = buildBatch({ records: values(2, 'w'), producerId: 9, producerEpoch: 0, baseSequence: 2 });
    expect(appendRecords(log, Buffer.from(first), opts).baseOffset).toBe(0);
    expect(appendRecords(log, Buffer.from(second), opts).baseOffset).toBe(2);
    const retry = appendRecords(log, Buffer.from(first), opts);
    expect(retry).toMatchObject({ baseOffset: 0, duplicates: 1, appended: [] });
    const gap = buildBatch({ records: values(1), producerId: 9, producerEpoch: 0, baseSequence: 7 });
    expect(appendRecords(log, gap, opts).rejected?.errorCode).toBe(
      KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    expect(log.highWatermark).toBe(4);
  });
});
