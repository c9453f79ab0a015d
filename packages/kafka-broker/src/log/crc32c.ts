/**
 * CRC-32C (Castagnoli), the checksum of Kafka record batches v2, in plain TypeScript
 * (slicing-by-8 tables, built on first use so importing the module does no work).
 *
 * Invariants: `crc32c(b, s, e)` equals the standard CRC-32C of bytes [s, e) of `b`
 * ("123456789" -> 0xE3069283); the result is an unsigned 32-bit number.
 */

const POLY = 0x82f63b78;
let tables: Uint32Array | undefined;

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + i]!;
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  if (tables === undefined) tables = buildTables();
  const t = tables;
  let crc = ~0;
  let i = start;
  while (i + 8 <= end) {
    const a = (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)) ^ crc;
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
    i += 8;
  }
  while (i < end) crc = t[(crc ^ buf[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
