/**
 * `DeletedRows`: the in-memory form of a deletion vector, a read-only set of row indexes held as
 * 16-bit Roaring containers (sorted values, a 65536-bit bitset, or runs) keyed by `row >>> 16`.
 * Owns building such sets from row indexes; the byte format lives in deletion-vector-codec.ts.
 *
 * Invariants: every row index is an integer in [0, 2^53) (a row position in one Parquet file);
 * containers are sorted by key, non-empty, and `cardinality` is the sum of their cardinalities.
 * Containers are never mutated after construction.
 */

import { WeirError } from '@weir/storage';

/** Largest number of values an array container holds; more go into a bitset. */
export const ARRAY_MAX_CARDINALITY = 4096;
export const BITMAP_WORDS = 2048;
export const BITMAP_BYTES = 8192;

export const ARRAY = 0;
export const BITMAP = 1;
export const RUN = 2;

/** @internal One 16-bit Roaring container. */
export interface Container {
  readonly type: typeof ARRAY | typeof BITMAP | typeof RUN;
  /** ARRAY: Uint16Array of values; BITMAP: Uint32Array(2048) words; RUN: Uint16Array of (start, length - 1) pairs. */
  readonly data: Uint16Array | Uint32Array;
  readonly cardinality: number;
}

/** @internal Builds a DeletedRows from containers sorted by key (the decoder uses it). */
export let makeDeletedRows: (
  keys: Float64Array,
  containers: readonly Container[],
  cardinality: number,
) => DeletedRows;
/** @internal The containers of a DeletedRows (the encoder uses it). */
export let containersOf: (rows: DeletedRows) => { keys: Float64Array; containers: readonly Container[] };

/**
 * The rows a deletion vector removes from one data file. Immutable. `has` is O(log containers);
 * `selectionVector` and `toSortedArray` walk the containers once.
 */
export class DeletedRows implements Iterable<number> {
  /** Number of deleted rows. */
  readonly cardinality: number;
  /** Container keys (row index >>> 16 as a float), ascending. */
  readonly #keys: Float64Array;
  readonly #containers: readonly Container[];

  private constructor(keys: Float64Array, containers: readonly Container[], cardinality: number) {
    this.#keys = keys;
    this.#containers = containers;
    this.cardinality = cardinality;
  }

  static {
    makeDeletedRows = (keys, containers, cardinality) => new DeletedRows(keys, containers, cardinality);
    containersOf = (rows) => ({ keys: rows.#keys, containers: rows.#containers });
  }

  /** The empty set (a data file with no deletion vector). */
  static readonly EMPTY: DeletedRows = new DeletedRows(new Float64Array(0), [], 0);

  /** Builds a set from row indexes (any order, duplicates ignored). Throws `INVALID_ARGUMENT`. */
  static from(rows: Iterable<number>): DeletedRows {
    return fromSorted(sortedUnique(rows), false);
  }

  get isEmpty(): boolean {
    return this.cardinality === 0;
  }

  /** Whether row `rowIndex` (0-based position in the data file) is deleted. */
  has(rowIndex: number): boolean {
    if (!(rowIndex >= 0) || !Number.isSafeInteger(rowIndex)) return false;
    const key = Math.floor(rowIndex / 65536);
    const idx = searchKeys(this.#keys, key);
    if (idx < 0) return false;
    return containerHas(this.#containers[idx] as Container, rowIndex - key * 65536);
  }

  /** The largest deleted row index, or undefined when empty. */
  maxRowIndex(): number | undefined {
    const n = this.#containers.length;
    if (n === 0) return undefined;
    const c = this.#containers[n - 1] as Container;
    return (this.#keys[n - 1] as number) * 65536 + containerMax(c);
  }

  /** All deleted row indexes, ascending. */
  toSortedArray(): Float64Array {
    const out = new Float64Array(this.cardinality);
    let n = 0;
    this.#visit(0, Number.POSITIVE_INFINITY, (first, last) => {
      for (let r = first; r <= last; r++) out[n++] = r;
    });
    return out;
  }

  /**
   * A keep-mask for rows [startRow, startRow + numRows) of the data file: 1 = keep, 0 = deleted.
   * Callers scanning a file batch by batch pass each batch's first row index.
   */
  selectionVector(numRows: number, startRow = 0): Uint8Array {
    const mask = new Uint8Array(numRows).fill(1);
    const end = startRow + numRows;
    this.#visit(startRow, end, (first, last) => {
      const a = Math.max(first, startRow);
      const b = Math.min(last + 1, end);
      if (a < b) mask.fill(0, a - startRow, b - startRow);
    });
    return mask;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.#containers.length; i++) {
      const base = (this.#keys[i] as number) * 65536;
      const c = this.#containers[i] as Container;
      const ranges: number[] = [];
      forEachRange(c, (first, last) => {
        ranges.push(first, last);
      });
      for (let k = 0; k < ranges.length; k += 2) {
        for (let r = ranges[k] as number; r <= (ranges[k + 1] as number); r++) yield base + r;
      }
    }
  }

  /** Calls `fn(first, last)` for each run of deleted rows (inclusive) overlapping [from, to). */
  #visit(from: number, to: number, fn: (first: number, last: number) => void): void {
    const keys = this.#keys;
    let i = lowerBound(keys, Math.floor(from / 65536));
    for (; i < keys.length; i++) {
      const base = (keys[i] as number) * 65536;
      if (base >= to) break;
      forEachRange(this.#containers[i] as Container, (first, last) => fn(base + first, base + last));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Building

/** Sorted, de-duplicated, validated row indexes. */
export function sortedUnique(rows: Iterable<number>): Float64Array {
  const all = Float64Array.from(rows);
  for (const r of all) {
    if (!Number.isSafeInteger(r) || r < 0) {
      throw new WeirError('INVALID_ARGUMENT', `row index ${r} is not an integer in [0, 2^53)`, {
        details: { rowIndex: r },
      });
    }
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) {
    if (i === 0 || all[i] !== all[i - 1]) all[n++] = all[i] as number;
  }
  return all.subarray(0, n);
}

/** Builds containers from sorted unique rows (array <= 4096 values, else bitset; runs if asked and smaller). */
export function fromSorted(sorted: Float64Array, useRuns: boolean): DeletedRows {
  const keys: number[] = [];
  const containers: Container[] = [];
  for (let i = 0; i < sorted.length; ) {
    const key = Math.floor((sorted[i] as number) / 65536);
    const base = key * 65536;
    let j = i;
    while (j < sorted.length && (sorted[j] as number) < base + 65536) j++;
    const values = new Uint16Array(j - i);
    for (let k = i; k < j; k++) values[k - i] = (sorted[k] as number) - base;
    keys.push(key);
    containers.push(makeContainer(values, useRuns));
    i = j;
  }
  return makeDeletedRows(Float64Array.from(keys), containers, sorted.length);
}

function makeContainer(values: Uint16Array, useRuns: boolean): Container {
  const card = values.length;
  const plainBytes = card <= ARRAY_MAX_CARDINALITY ? 2 * card : BITMAP_BYTES;
  if (useRuns) {
    let runs = 1;
    for (let k = 1; k < card; k++) if ((values[k] as number) !== (values[k - 1] as number) + 1) runs++;
    if (2 + 4 * runs < plainBytes) {
      const pairs = new Uint16Array(runs * 2);
      let r = 0;
      let runStart = values[0] as number;
      for (let k = 1; k <= card; k++) {
        if (k === card || (values[k] as number) !== (values[k - 1] as number) + 1) {
          pairs[r++] = runStart;
          pairs[r++] = (values[k - 1] as number) - runStart;
          if (k < card) runStart = values[k] as number;
        }
      }
      return { type: RUN, data: pairs, cardinality: card };
    }
  }
  if (card <= ARRAY_MAX_CARDINALITY) return { type: ARRAY, data: values, cardinality: card };
  const words = new Uint32Array(BITMAP_WORDS);
  for (const v of values) words[v >>> 5] = (words[v >>> 5] as number) | (1 << (v & 31));
  return { type: BITMAP, data: words, cardinality: card };
}

// ---------------------------------------------------------------------------------------------
// Container helpers

function containerHas(c: Container, low: number): boolean {
  const d = c.data;
  if (c.type === BITMAP) return (((d[low >>> 5] as number) >>> (low & 31)) & 1) === 1;
  if (c.type === ARRAY) {
    let lo = 0;
    let hi = d.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = d[mid] as number;
      if (v === low) return true;
      if (v < low) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
  // RUN: find the last run starting at or before `low`.
  let lo = 0;
  let hi = d.length / 2 - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if ((d[mid * 2] as number) <= low) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && low <= (d[found * 2] as number) + (d[found * 2 + 1] as number);
}

function containerMax(c: Container): number {
  const d = c.data;
  if (c.type === ARRAY) return d[d.length - 1] as number;
  if (c.type === RUN) return (d[d.length - 2] as number) + (d[d.length - 1] as number);
  for (let w = BITMAP_WORDS - 1; w >= 0; w--) {
    const word = d[w] as number;
    if (word !== 0) return w * 32 + 31 - Math.clz32(word);
  }
  return -1;
}

/** Calls `fn(first, last)` for each maximal run of values (inclusive, 16-bit) in ascending order. */
function forEachRange(c: Container, fn: (first: number, last: number) => void): void {
  const d = c.data;
  if (c.type === RUN) {
    for (let k = 0; k < d.length; k += 2) fn(d[k] as number, (d[k] as number) + (d[k + 1] as number));
    return;
  }
  if (c.type === ARRAY) {
    let first = d[0] as number;
    let last = first;
    for (let k = 1; k < d.length; k++) {
      const v = d[k] as number;
      if (v === last + 1) last = v;
      else {
        fn(first, last);
        first = last = v;
      }
    }
    fn(first, last);
    return;
  }
  let first = -1;
  for (let w = 0; w < BITMAP_WORDS; w++) {
    let word = d[w] as number;
    if (word === 0) {
      if (first >= 0) {
        fn(first, w * 32 - 1);
        first = -1;
      }
      continue;
    }
    for (let bit = 0; bit < 32; bit++, word >>>= 1) {
      if (word & 1) {
        if (first < 0) first = w * 32 + bit;
      } else if (first >= 0) {
        fn(first, w * 32 + bit - 1);
        first = -1;
      }
    }
  }
  if (first >= 0) fn(first, 65535);
}

function searchKeys(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = keys[mid] as number;
    if (v === key) return mid;
    if (v < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function lowerBound(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
