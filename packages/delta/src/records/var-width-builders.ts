/**
 * Column builders for variable-width Arrow types: Utf8 (string) and Binary (binary).
 *
 * Invariants:
 * - Bytes go into one growing Uint8Array; `offsets[i]..offsets[i+1]` are value i's bytes and
 *   `offsets[length]` is the number of bytes in use, so `truncate(n)` is just `length = n`.
 * - Strings are encoded as UTF-8: short ASCII strings byte by byte, the rest with
 *   `TextEncoder.encodeInto` (a lone surrogate becomes U+FFFD, as everywhere in JS).
 * - Offsets are int32 (Arrow Utf8/Binary): a batch whose column passes 2 GiB is refused with
 *   `WeirError('BATCH_TOO_LARGE')` (flush more often).
 */
import { WeirError } from '@weir/storage';
import { makeData } from 'apache-arrow';
import { type AnyData, ColumnBuilder, grow, type KeyIdentity } from './column-builder.js';
import { coerceBinary, coerceString } from './scalar-coercion.js';

const MAX_BYTES = 2 ** 31 - 1;
/** Strings up to this many UTF-16 units are encoded in JS (faster than a native call). */
const SHORT_STRING = 48;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

abstract class VarWidthBuilder extends ColumnBuilder {
  protected offsets = new Int32Array(17);
  protected bytes = new Uint8Array(256);

  /** Makes room for `extra` more bytes and one more offset; returns the write position. */
  protected reserve(extra: number): number {
    const pos = this.offsets[this.length]!;
    if (pos + extra > MAX_BYTES)
      throw new WeirError(
        'BATCH_TOO_LARGE',
        `column of type ${this.type.type} would pass 2 GiB in one batch: flush smaller batches`,
      );
    if (pos + extra > this.bytes.length) this.bytes = grow(this.bytes, pos + extra);
    if (this.length + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 2);
    return pos;
  }

  protected commit(end: number): void {
    const i = this.length;
    this.offsets[i + 1] = end;
    this.validity.valid(i);
    this.length = i + 1;
  }

  appendNull(): void {
    const pos = this.reserve(0);
    const i = this.length;
    this.offsets[i + 1] = pos;
    this.validity.invalid(i);
    this.length = i + 1;
  }

  truncate(n: number): void {
    this.validity.truncate(n, this.length);
    this.length = Math.min(n, this.length);
  }

  finish(): AnyData {
    const length = this.length;
    const valueOffsets = this.offsets.slice(0, length + 1);
    const data = this.bytes.slice(0, this.offsets[length]!);
    this.length = 0;
    return makeData({
      type: this.arrowType,
      length,
      ...this.validity.finish(length),
      valueOffsets,
      data,
    } as never);
  }

  byteSize(): number {
    const n = this.length;
    return n === 0 ? 0 : this.offsets[n]! + 4 * (n + 1) + this.validity.byteSize(n);
  }

  protected slice(i: number): Uint8Array {
    return this.bytes.subarray(this.offsets[i]!, this.offsets[i + 1]!);
  }
}

/** string -> Utf8. */
export class Utf8Builder extends VarWidthBuilder {
  appendValue(v: unknown): void {
    const s = typeof v === 'string' ? v : coerceString(v, this.type);
    const n = s.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    let pos = this.reserve(n * 3);
    const bytes = this.bytes;
    let i = 0;
    if (n <= SHORT_STRING) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        bytes[pos + i] = c;
      }
      pos += i;
    }
    if (i < n) pos += encoder.encodeInto(i === 0 ? s : s.slice(i), bytes.subarray(pos)).written;
    this.commit(pos);
  }

  /**
   * Appends bytes [start, end) of `src` as one non-null value. They must be valid UTF-8 (the
   * JSON row decoder passes ASCII only); no nullability check is needed for a value.
   */
  appendUtf8(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    const pos = this.reserve(n);
    const bytes = this.bytes;
    if (n <= SHORT_STRING) for (let i = 0; i < n; i++) bytes[pos + i] = src[start + i]!;
    else bytes.set(src.subarray(start, end), pos);
    this.commit(pos + n);
  }

  override keyAt(i: number): KeyIdentity {
    return decoder.decode(this.slice(i));
  }
}

/** binary -> Binary. */
export class BinaryBuilder extends VarWidthBuilder {
  appendValue(v: unknown): void {
    const b = coerceBinary(v, this.type);
    const pos = this.reserve(b.length);
    this.bytes.set(b, pos);
    this.commit(pos + b.length);
  }

  override keyAt(i: number): KeyIdentity {
    return Buffer.from(this.slice(i)).toString('latin1');
  }
}
