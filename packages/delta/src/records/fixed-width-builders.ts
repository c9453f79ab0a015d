/**
 * Column builders for fixed-width Arrow types: Int8/16/32 (byte, short, integer), Float32/64,
 * Date32, Bool, Int64 (long), Timestamp(µs) (timestamp, timestamp_ntz) and Decimal128.
 *
 * Invariants:
 * - Values are written straight into growable typed arrays; no per-value objects on the common
 *   path. 64-bit values are written as two little-endian int32 words: a safe-integer number is
 *   split arithmetically, only a bigint goes through a one-element BigInt64Array scratch.
 * - Decimal128 values are four little-endian 32-bit words (two's complement), as Arrow JS
 *   stores them (`Uint32Array`).
 * - A null slot holds 0 / false.
 */
import { type DataType as ArrowDataType, makeData } from 'apache-arrow';
import type { DataType, DecimalType } from '../schema/types.js';
import { type AnyData, ColumnBuilder, grow, type KeyIdentity } from './column-builder.js';
import { coerceBoolean, coerceDecimal, coerceFloat, coerceLong, coerceSmallInt } from './scalar-coercion.js';
import { coerceDate, coerceTimestamp, fastTimestampBytes } from './temporal-coercion.js';

const TWO_32 = 4_294_967_296;

type NumberArray = Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** byte, short, integer, float, double and date: one JS number per value. */
export class NumberBuilder extends ColumnBuilder {
  private values: NumberArray;
  private readonly coerce: (v: unknown) => number;

  constructor(type: DataType, arrowType: ArrowDataType, nullable: boolean) {
    super(type, arrowType, nullable);
    switch (type.type) {
      case 'byte':
        this.values = new Int8Array(16);
        this.coerce = (v) => coerceSmallInt(v, type, -128, 127);
        break;
      case 'short':
        this.values = new Int16Array(16);
        this.coerce = (v) => coerceSmallInt(v, type, -32_768, 32_767);
        break;
      case 'integer':
        this.values = new Int32Array(16);
        this.coerce = (v) => coerceSmallInt(v, type, -2_147_483_648, 2_147_483_647);
        break;
      case 'date':
        this.values = new Int32Array(16);
        this.coerce = (v) => coerceDate(v, type);
        break;
      case 'float':
        this.values = new Float32Array(16);
        this.coerce = (v) => coerceFloat(v, type, true);
        break;
      default:
        this.values = new Float64Array(16);
        this.coerce = (v) => coerceFloat(v, type, false);
    }
  }

  appendValue(v: unknown): void {
    const n = this.coerce(v);
    const i = this.length;
    if (i === this.values.length) this.values = grow(this.values, i + 1);
    this.values[i] = n;
    this.validity.valid(i);
    this.length = i + 1;
  }

  appendNull(): void {
    const i = this.length;
    if (i === this.values.length) this.values = grow(this.values, i + 1);
    this.values[i] = 0;
    this.validity.invalid(i);
    this.length = i + 1;
  }

  truncate(n: number): void {
    this.validity.truncate(n, this.length);
    this.length = Math.min(n, this.length);
  }

  finish(): AnyData {
    const length = this.length;
    const data = this.values.slice(0, length);
    this.length = 0;
    return makeData({ type: this.arrowType, length, ...this.validity.finish(length), data } as never);
  }

  byteSize(): number {
    return this.length * this.values.BYTES_PER_ELEMENT + this.validity.byteSize(this.length);
  }

  override keyAt(i: number): KeyIdentity {
    return this.values[i];
  }
}

/** boolean: bit-packed values. */
export class BoolBuilder extends ColumnBuilder {
  private bits = new Uint8Array(16);

  appendValue(v: unknown): void {
    this.push(coerceBoolean(v, this.type));
    this.validity.valid(this.length - 1);
  }

  appendNull(): void {
    this.push(false);
    this.validity.invalid(this.length - 1);
  }

  private push(b: boolean): void {
    const i = this.length;
    const byte = i >> 3;
    if (byte >= this.bits.length) this.bits = grow(this.bits, byte + 1);
    if (b) this.bits[byte]! |= 1 << (i & 7);
    else this.bits[byte]! &= ~(1 << (i & 7));
    this.length = i + 1;
  }

  truncate(n: number): void {
    this.validity.truncate(n, this.length);
    this.length = Math.min(n, this.length);
  }

  finish(): AnyData {
    const length = this.length;
    const data = this.bits.slice(0, (length + 7) >> 3);
    if ((length & 7) !== 0) data[data.length - 1]! &= (1 << (length & 7)) - 1;
    this.length = 0;
    return makeData({ type: this.arrowType, length, ...this.validity.finish(length), data } as never);
  }

  byteSize(): number {
    return ((this.length + 7) >> 3) + this.validity.byteSize(this.length);
  }

  override keyAt(i: number): KeyIdentity {
    return ((this.bits[i >> 3]! >> (i & 7)) & 1) === 1;
  }
}

const scratch64 = new BigInt64Array(2);
const scratchWords = new Int32Array(scratch64.buffer);

/** Values made of `stride` int32 words: long and timestamps (2), decimal(p,s) (4). */
abstract class WordsBuilder extends ColumnBuilder {
  protected words: Int32Array;

  constructor(
    type: DataType,
    arrowType: ArrowDataType,
    nullable: boolean,
    private readonly stride: 2 | 4,
  ) {
    super(type, arrowType, nullable);
    this.words = new Int32Array(16 * stride);
  }

  /** Writes a coerced value (safe-integer number or bigint) as value `length`. */
  protected write(n: number | bigint): void {
    const i = this.length;
    const stride = this.stride;
    const at = i * stride;
    if (at + stride > this.words.length) this.words = grow(this.words, at + stride);
    const words = this.words;
    if (typeof n === 'number') {
      const hi = Math.floor(n / TWO_32);
      words[at] = n - hi * TWO_32;
      words[at + 1] = hi;
      if (stride === 4) {
        const sign = hi < 0 ? -1 : 0;
        words[at + 2] = sign;
        words[at + 3] = sign;
      }
    } else {
      scratch64[0] = BigInt.asIntN(64, n);
      words[at] = scratchWords[0]!;
      words[at + 1] = scratchWords[1]!;
      if (stride === 4) {
        scratch64[1] = BigInt.asIntN(64, n >> 64n);
        words[at + 2] = scratchWords[2]!;
        words[at + 3] = scratchWords[3]!;
      }
    }
    this.validity.valid(i);
    this.length = i + 1;
  }

  appendNull(): void {
    const i = this.length;
    const at = i * this.stride;
    if (at + this.stride > this.words.length) this.words = grow(this.words, at + this.stride);
    this.words.fill(0, at, at + this.stride);
    this.validity.invalid(i);
    this.length = i + 1;
  }

  truncate(n: number): void {
    this.validity.truncate(n, this.length);
    this.length = Math.min(n, this.length);
  }

  finish(): AnyData {
    const length = this.length;
    const copy = this.words.slice(0, length * this.stride);
    const data = this.stride === 2 ? new BigInt64Array(copy.buffer) : new Uint32Array(copy.buffer);
    this.length = 0;
    return makeData({ type: this.arrowType, length, ...this.validity.finish(length), data } as never);
  }

  byteSize(): number {
    return this.length * this.stride * 4 + this.validity.byteSize(this.length);
  }

  override keyAt(i: number): KeyIdentity {
    const at = i * this.stride;
    let key = '';
    for (let k = 0; k < this.stride; k++) key += `${this.words[at + k]},`;
    return key;
  }
}

/** long -> Int64. */
export class LongBuilder extends WordsBuilder {
  constructor(type: DataType, arrowType: ArrowDataType, nullable: boolean) {
    super(type, arrowType, nullable, 2);
  }

  appendValue(v: unknown): void {
    // The common case inline: a safe integer number.
    this.write(typeof v === 'number' && Number.isSafeInteger(v) ? v : coerceLong(v, this.type));
  }
}

/** timestamp / timestamp_ntz -> Timestamp(MICROSECOND[, 'UTC']). */
export class TimestampBuilder extends WordsBuilder {
  private readonly ntz: boolean;

  constructor(
    type: DataType,
    arrowType: ArrowDataType,
    nullable: boolean,
    private readonly factor: number,
  ) {
    super(type, arrowType, nullable, 2);
    this.ntz = type.type === 'timestamp_ntz';
  }

  appendValue(v: unknown): void {
    this.write(coerceTimestamp(v, this.type, this.ntz, this.factor));
  }

  /**
   * Appends the timestamp text whose UTF-8 is bytes [start, end) of src (no escapes): the
   * common ISO forms are read in place, any other text goes through `append` as a string, so
   * the result or error is exactly `append`'s.
   */
  appendText(src: Buffer, start: number, end: number): void {
    const micros = fastTimestampBytes(src, start, end, this.ntz);
    if (Number.isNaN(micros)) this.append(src.toString('utf8', start, end));
    else this.write(micros || 0);
  }
}

/** decimal(p,s) -> Decimal128 (unscaled, four words). */
export class DecimalBuilder extends WordsBuilder {
  constructor(type: DataType, arrowType: ArrowDataType, nullable: boolean) {
    super(type, arrowType, nullable, 4);
  }

  appendValue(v: unknown): void {
    this.write(coerceDecimal(v, this.type as DecimalType));
  }
}
