/**
 * Z85 (ZeroMQ RFC 32) base-85 text encoding, as Delta uses it for inline deletion vectors and
 * for the UUID that names a deletion-vector file (PROTOCOL.md "Deletion Vector Descriptor Schema").
 *
 * Invariants:
 * - Every 4 bytes (big-endian 32-bit word) become 5 characters; text is always a multiple of 5.
 * - Delta's variant accepts any byte length on encode: the input is padded with zero bytes up to a
 *   multiple of 4. The padding is not recorded in the text; a decoder that needs the exact bytes
 *   is told the length (`sizeInBytes` for inline DVs, 16 for UUIDs) and drops the rest.
 * - Decoding rejects characters outside the alphabet, lengths that are not a multiple of 5 and
 *   5-character groups whose value does not fit in 32 bits (`INVALID_Z85`).
 */

import { WeirError } from '@weir/storage';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

const ENCODE = new Uint8Array(85);
for (let i = 0; i < ALPHABET.length; i++) ENCODE[i] = ALPHABET.charCodeAt(i);

/** Characters needed for `byteLength` bytes (after padding to a multiple of 4). */
export function z85EncodedLength(byteLength: number): number {
  return Math.ceil(byteLength / 4) * 5;
}

/** Encodes bytes as Z85, padding the input with zero bytes to a multiple of 4 (Delta's variant). */
export function z85Encode(bytes: Uint8Array): string {
  const blocks = Math.ceil(bytes.length / 4);
  const out = new Uint8Array(blocks * 5);
  for (let b = 0; b < blocks; b++) {
    const i = b * 4;
    // Bytes past the end read as undefined -> 0 (the zero padding).
    let value =
      (((bytes[i] ?? 0) << 24) |
        ((bytes[i + 1] ?? 0) << 16) |
        ((bytes[i + 2] ?? 0) << 8) |
        (bytes[i + 3] ?? 0)) >>>
      0;
    const o = b * 5;
    for (let k = 4; k >= 0; k--) {
      out[o + k] = ENCODE[value % 85] as number;
      value = Math.floor(value / 85);
    }
  }
  let text = '';
  // Chunked to stay clear of argument-count limits on large inputs.
  for (let i = 0; i < out.length; i += 8192) {
    text += String.fromCharCode(...out.subarray(i, i + 8192));
  }
  return text;
}

/**
 * Decodes Z85 text. Without `outputLength` the result has `text.length / 5 * 4` bytes (padding
 * included); with it, exactly `outputLength` bytes (the padding is dropped). Throws `INVALID_Z85`.
 */
export function z85Decode(text: string, outputLength?: number): Uint8Array {
  if (text.length % 5 !== 0) {
    throw invalid(`length ${text.length} is not a multiple of 5`, text);
  }
  const fullLength = (text.length / 5) * 4;
  if (outputLength !== undefined) {
    if (!Number.isInteger(outputLength) || outputLength < 0 || outputLength > fullLength) {
      throw invalid(`cannot produce ${outputLength} bytes from ${text.length} characters`, text);
    }
  }
  const out = new Uint8Array(fullLength);
  for (let c = 0, o = 0; c < text.length; c += 5, o += 4) {
    let value = 0;
    for (let k = 0; k < 5; k++) {
      const code = text.charCodeAt(c + k);
      const digit = code < 128 ? (DECODE[code] as number) : -1;
      if (digit < 0)
        throw invalid(`invalid character ${JSON.stringify(text[c + k])} at position ${c + k}`, text);
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) throw invalid(`group at position ${c} overflows 32 bits`, text);
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return outputLength === undefined || outputLength === fullLength ? out : out.subarray(0, outputLength);
}

/** Decodes the 20-character Z85 form of a UUID to its canonical text (`8-4-4-4-12`, lower case). */
export function z85DecodeUuid(text: string): string {
  if (text.length !== 20) throw invalid(`a UUID is 20 characters, got ${text.length}`, text);
  const bytes = z85Decode(text);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Encodes a canonical UUID (`8-4-4-4-12` hex) as 20 Z85 characters. */
export function z85EncodeUuid(uuid: string): string {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
    throw new WeirError('INVALID_ARGUMENT', `not a UUID: ${JSON.stringify(uuid)}`, { details: { uuid } });
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return z85Encode(bytes);
}

function invalid(what: string, text: string): WeirError {
  const shown = text.length > 64 ? `${text.slice(0, 64)}...` : text;
  return new WeirError('INVALID_Z85', `invalid Z85 text: ${what} (${JSON.stringify(shown)})`, {
    details: { reason: what, length: text.length },
  });
}
