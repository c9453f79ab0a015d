import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('continues over chunks', () => {
    const data = ascii('The quick brown fox jumps over the lazy dog');
    expect(crc32(data.subarray(10), crc32(data.subarray(0, 10)))).toBe(crc32(data));
  });

  it('matches the checksum stored in a real deletion vector file', () => {
    // krs-table-with-dv-small: 36 bitmap bytes followed by the big-endian CRC-32 0x2a671846.
    const bitmap = Uint8Array.from(
      Buffer.from('d1d339640100000000000000000000003a30000001000000000001001000000000000900', 'hex'),
    );
    expect(bitmap.length).toBe(36);
    expect(crc32(bitmap)).toBe(0x2a671846);
  });
});
