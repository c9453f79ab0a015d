/**
 * Test fixture: builds record batches (magic v2, uncompressed or gzip) the way a client does,
 * with a correct CRC-32C, so log and protocol units can be tested without a client.
 */
import { gzipSync } from 'node:zlib';
import { crc32c } from '../log/crc32c.js';

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varint(n: number): Buffer {
  let v = zigzag(n);
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export interface FixtureRecord {
  key?: string | null;
  value: string;
  timestampDelta?: number;
}

export interface BatchFixture {
  records: FixtureRecord[];
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  gzip?: boolean;
  baseOffset?: number;
}

export function buildBatch(f: BatchFixture): Buffer {
  const recs = f.records.map((r, i) => {
    const key = r.key === undefined || r.key === null ? null : Buffer.from(r.key);
    const value = Buffer.from(r.value);
    const body = Buffer.concat([
      Buffer.from([0]),
      varint(r.timestampDelta ?? 0),
      varint(i),
      key === null ? varint(-1) : Buffer.concat([varint(key.length), key]),
      varint(value.length),
      value,
      varint(0),
    ]);
    return Buffer.concat([varint(body.length), body]);
  });
  let payload = Buffer.concat(recs);
  if (f.gzip) payload = gzipSync(payload);
  const h = Buffer.alloc(61);
  const baseTs = f.baseTimestamp ?? 1_700_000_000_000;
  const maxDelta = Math.max(0, ...f.records.map((r) => r.timestampDelta ?? 0));
  h.writeBigInt64BE(BigInt(f.baseOffset ?? 0), 0);
  h.writeInt32BE(61 - 12 + payload.length, 8);
  h.writeInt32BE(-1, 12);
  h.writeInt8(2, 16);
  h.writeInt16BE(f.gzip ? 1 : 0, 21);
  h.writeInt32BE(f.records.length - 1, 23);
  h.writeBigInt64BE(BigInt(baseTs), 27);
  h.writeBigInt64BE(BigInt(baseTs + maxDelta), 35);
  h.writeBigInt64BE(BigInt(f.producerId ?? -1), 43);
  h.writeInt16BE(f.producerEpoch ?? -1, 51);
  h.writeInt32BE(f.baseSequence ?? -1, 53);
  h.writeInt32BE(f.records.length, 57);
  const batch = Buffer.concat([h, payload]);
  batch.writeUInt32BE(crc32c(batch, 21), 17);
  return batch;
}
