import { isWeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { z85Decode, z85DecodeUuid, z85Encode, z85EncodedLength, z85EncodeUuid } from './z85.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isWeirError(err) ? err.code : `not a WeirError: ${String(err)}`;
  }
  return undefined;
}

describe('z85', () => {
  it('matches the ZeroMQ RFC 32 test vector', () => {
    const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
    expect(z85Encode(bytes)).toBe('HelloWorld');
    expect([...z85Decode('HelloWorld')]).toEqual([...bytes]);
  });

  it('encodes the extremes of a 4-byte group', () => {
    expect(z85Encode(new Uint8Array(4))).toBe('00000');
    expect(z85Encode(Uint8Array.from([0xff, 0xff, 0xff, 0xff]))).toBe('%nSc0');
    expect([...z85Decode('%nSc0')]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });

  it('pads unaligned input with zero bytes and drops the padding given the length', () => {
    for (let n = 0; n <= 13; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      const text = z85Encode(bytes);
      expect(text.length).toBe(z85EncodedLength(n));
      const padded = z85Decode(text);
      expect(padded.length).toBe(Math.ceil(n / 4) * 4);
      expect([...padded.subarray(n)].every((b) => b === 0)).toBe(true);
      expect([...z85Decode(text, n)]).toEqual([...bytes]);
    }
  });

  it('round-trips random data', () => {
    let seed = 42;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let round = 0; round < 50; round++) {
      const bytes = Uint8Array.from({ length: round * 3 }, next);
      expect([...z85Decode(z85Encode(bytes), bytes.length)]).toEqual([...bytes]);
    }
  });

  it('rejects bad text with INVALID_Z85', () => {
    expect(codeOf(() => z85Decode('Hell'))).toBe('INVALID_Z85'); // not a multiple of 5
    expect(codeOf(() => z85Decode('Hel"o'))).toBe('INVALID_Z85'); // '"' is not in the alphabet
    expect(codeOf(() => z85Decode('Hel\u00e9o'))).toBe('INVALID_Z85'); // non-ASCII
    expect(codeOf(() => z85Decode('#####'))).toBe('INVALID_Z85'); // 85^5 - 1 > 2^32 - 1
    expect(codeOf(() => z85Decode('HelloWorld', 9))).toBe('INVALID_Z85'); // more bytes than encoded
  });

  it('decodes the UUIDs of PROTOCOL.md and of a real table', () => {
    // PROTOCOL.md "JSON Example 1": prefix "ab" + this UUID -> ab/deletion_vector_d2c639aa-....bin
    expect(z85DecodeUuid('^-aqEH.-t@S}K{vb[*k^')).toBe('d2c639aa-8816-431a-aaf6-d3fe2512ff61');
    // krs-table-with-dv-small: the DV file on disk is deletion_vector_61d16c75-....bin
    expect(z85DecodeUuid('vBn[lx{q8@P<9BNH/isA')).toBe('61d16c75-6994-46b7-a15b-8b538852e50e');
    expect(z85EncodeUuid('61d16c75-6994-46b7-a15b-8b538852e50e')).toBe('vBn[lx{q8@P<9BNH/isA');
    expect(codeOf(() => z85DecodeUuid('vBn[lx'))).toBe('INVALID_Z85');
    expect(codeOf(() => z85EncodeUuid('not-a-uuid'))).toBe('INVALID_ARGUMENT');
  });
});
