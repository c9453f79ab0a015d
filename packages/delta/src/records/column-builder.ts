/**
 * The column builder contract and the buffers builders share: growable typed arrays and a lazily
 * allocated validity bitmap.
 *
 * A `ColumnBuilder` appends coerced values for one Arrow column (Delta type + the exact Arrow
 * type `deltaTypeToArrow` gives) and hands out `Data` on `finish()`.
 *
 * Invariants:
 * - A builder's `length` grows only after a value (and, for nested builders, all of its
 *   children) was written completely; a throwing `append` may leave child builders or byte
 *   buffers longer than the parent implies, and `truncate(n)` restores exactly the state after
 *   the n-th value (cascading into children) — the batch builder's rollback relies on this.
 * - `appendNull()` writes a null slot without a nullability check: parents use it for children
 *   of a null struct; `append()` checks the field's nullability.
 * - `finish()` copies the used part of each buffer into the Data (so buffers are reused by the
 *   next batch) and resets the builder to length 0.
 * - Validity: no bitmap is kept until the first null; bits of indexes < length are always exact
 *   (every append sets or clears its bit explicitly once the bitmap is active).
 */
import type { DataType as ArrowDataType, Data } from 'apache-arrow';
import type { DataType } from '../schema/types.js';
import { fail } from './record-errors.js';

export type AnyData = Data<ArrowDataType>;

/** Typed arrays the builders grow. */
export type GrowableArray = Int8Array | Int16Array | Int32Array | Uint8Array | Float32Array | Float64Array;

/** A copy of `arr` with room for at least `min` elements (doubling), its contents kept. */
export function grow<T extends GrowableArray>(arr: T, min: number): T {
  let capacity = Math.max(16, arr.length * 2);
  while (capacity < min) capacity *= 2;
  const Ctor = arr.constructor as new (n: number) => T;
  const next = new Ctor(capacity);
  next.set(arr as never);
  return next;
}

/** Validity bits of one column (see the module header). */
export class Validity {
  private bits = new Uint8Array(0);
  private active = false;
  nullCount = 0;

  /** Marks index i valid. */
  valid(i: number): void {
    if (!this.active) return;
    const byte = i >> 3;
    if (byte >= this.bits.length) this.bits = grow(this.bits, byte + 1);
    this.bits[byte]! |= 1 << (i & 7);
  }

  /** Marks index i null. */
  invalid(i: number): void {
    const byte = i >> 3;
    if (byte >= this.bits.length) this.bits = grow(this.bits, byte + 1);
    if (!this.active) {
      // Everything before i was valid.
      this.bits.fill(0xff, 0, byte);
      this.bits[byte] = (1 << (i & 7)) - 1;
      this.active = true;
    }
    this.bits[byte]! &= ~(1 << (i & 7));
    this.nullCount++;
  }

  /** Drops indexes [n, length): their nulls no longer count. */
  truncate(n: number, length: number): void {
    if (this.nullCount === 0) return;
    for (let i = n; i < length; i++) if ((this.bits[i >> 3]! & (1 << (i & 7))) === 0) this.nullCount--;
    // No null left: back to "no bitmap", exactly the state before the first null.
    if (this.nullCount === 0) this.active = false;
  }

  /** The bitmap for `length` values (none when there are no nulls), then resets. */
  finish(length: number): { nullCount: number; nullBitmap?: Uint8Array } {
    const nullCount = this.nullCount;
    this.nullCount = 0;
    this.active = false;
    if (nullCount === 0) return { nullCount: 0 };
    const nullBitmap = this.bits.slice(0, (length + 7) >> 3);
    if ((length & 7) !== 0) nullBitmap[nullBitmap.length - 1]! &= (1 << (length & 7)) - 1;
    return { nullCount, nullBitmap };
  }

  /** Bytes the bitmap of `length` values takes (0 while no value is null). */
  byteSize(length: number): number {
    return this.active ? (length + 7) >> 3 : 0;
  }
}

/** A comparable identity of a primitive value (map key deduplication); undefined: not comparable. */
export type KeyIdentity = string | number | boolean | undefined;

/** Options every builder of one schema shares. */
export interface BuilderContext {
  /** Drop object keys that are not schema fields instead of failing (default false). */
  ignoreUnknownFields: boolean;
  /** Microseconds per unit of a numeric timestamp (1000 for milliseconds). */
  timestampFactor: number;
}

export abstract class ColumnBuilder {
  length = 0;
  protected readonly validity = new Validity();

  constructor(
    readonly type: DataType,
    readonly arrowType: ArrowDataType,
    readonly nullable: boolean,
  ) {}

  /** Appends a value coerced to the type; null/undefined are null (an error if not nullable). */
  append(v: unknown): void {
    if (v === null || v === undefined) {
      if (!this.nullable)
        throw fail(
          this.type,
          v,
          v === null ? 'null in a non-nullable field' : 'missing value for a non-nullable field',
        );
      this.appendNull();
    } else this.appendValue(v);
  }

  /** Appends a non-null value coerced to the type. */
  abstract appendValue(v: unknown): void;
  /** Appends a null slot (no nullability check). */
  abstract appendNull(): void;
  /** Restores the state after the first n values (see the module header). */
  abstract truncate(n: number): void;
  /** The column so far as Arrow Data; resets to length 0. */
  abstract finish(): AnyData;
  /** Bytes the column's buffers take so far (used part, not capacity). */
  abstract byteSize(): number;

  get nullCount(): number {
    return this.validity.nullCount;
  }

  /** A comparable identity of value i, for map key deduplication (undefined: none). */
  keyAt(_i: number): KeyIdentity {
    return undefined;
  }
}
