/**
 * Deletion-vector bitmaps (PROTOCOL.md "Deletion Vector Format"): the serialized RoaringBitmapArray
 * <-> `DeletedRows`, a read-only set of row indexes. Pure and synchronous; no IO.
 *
 * Format (all little endian): a 4-byte magic number, then
 * - magic 1681511377 ("portable", what the protocol specifies and what Weir writes): the 64-bit
 *   portable Roaring format: u64 number of buckets, then per bucket in ascending key order a u32 key
 *   (the high 32 bits of the row indexes, most significant bit 0) and a standard 32-bit Roaring
 *   bitmap (RoaringFormatSpec: cookie, descriptive header, optional offset header, then array,
 *   bitset and run containers) holding the low 32 bits;
 * - magic 1681511376 ("native", read only): u32 number of bitmaps, then per bitmap i (key = i) a
 *   u32 byte length and a standard 32-bit Roaring bitmap. Delta Spark still reads it (little
 *   endian). The inline example of PROTOCOL.md ("JSON Example 3") is this layout with the magic,
 *   count and length written big endian (Delta Spark's reader refuses it); the magic makes the byte
 *   order unambiguous, so Weir reads both. The Roaring bitmaps inside are little endian either way.
 *
 * Row indexes must be below 2^53 (see deletion-vector-rows.ts). Decoding validates every
 * structural invariant it can check cheaply (magic, sorted keys, cookie, container
 * cardinalities, run bounds, truncation) and throws `CORRUPT_DELETION_VECTOR`.
 *
 * Why hand-written: the maintained npm Roaring packages wrap CRoaring (`roaring` builds a native
 * addon, `roaring-wasm` ships a WASM module) and neither reads Delta's magic-prefixed 64-bit
 * wrapper; a pure TypeScript reader of three container types is ~300 lines, runs everywhere
 * `@weir/delta` runs and needs no install step.
 */

import { WeirError } from '@weir/storage';
import {
  ARRAY,
  ARRAY_MAX_CARDINALITY,
  BITMAP,
  BITMAP_BYTES,
  BITMAP_WORDS,
  type Container,
  containersOf,
  DeletedRows,
  fromSorted,
  makeDeletedRows,
  RUN,
  sortedUnique,
} from './deletion-vector-rows.js';

export { DeletedRows } from './deletion-vector-rows.js';

/** Magic number of the portable RoaringBitmapArray format (the one the protocol specifies). */
export const DV_MAGIC_PORTABLE = 1681511377;
/** Magic number of Delta Spark's older "native" RoaringBitmapArray format (read only). */
export const DV_MAGIC_NATIVE = 1681511376;

const COOKIE_NO_RUN = 12346;
const COOKIE_RUN = 12347;
const NO_OFFSET_THRESHOLD = 4;
/** High 32 bits of the largest row index Weir accepts (2^53 - 1). */
const MAX_HIGH_KEY = 0x1fffff;

/** What is wrong with a deletion vector; carried as `details.reason` on the error. */
export type DvCorruption =
  | 'bad-magic'
  | 'bad-version'
  | 'checksum-mismatch'
  | 'size-mismatch'
  | 'cardinality-mismatch'
  | 'truncated'
  | 'malformed'
  | 'unknown-storage-type'
  | 'unsupported';

/** Where a deletion vector came from, for error messages. */
export interface DvErrorContext {
  /** The data file (add.path) the DV belongs to. */
  dataFile?: string;
  /** The DV file's key, or 'inline'. */
  dvPath?: string;
  /** The descriptor's offset into the DV file. */
  dvOffset?: number;
}

/** Builds the `CORRUPT_DELETION_VECTOR` error naming the data file, DV path and offset. */
export function corruptDeletionVector(
  reason: DvCorruption,
  what: string,
  context: DvErrorContext,
  byteOffset?: number,
  cause?: unknown,
): WeirError {
  const where: string[] = [];
  if (context.dataFile !== undefined) where.push(`data file ${context.dataFile}`);
  if (context.dvPath !== undefined) where.push(`DV ${context.dvPath}`);
  if (context.dvOffset !== undefined) where.push(`offset ${context.dvOffset}`);
  const at = byteOffset === undefined ? '' : ` (at byte ${byteOffset} of the bitmap)`;
  const prefix = where.length > 0 ? ` (${where.join(', ')})` : '';
  return new WeirError('CORRUPT_DELETION_VECTOR', `corrupt deletion vector${prefix}: ${what}${at}`, {
    details: { ...context, reason, ...(byteOffset === undefined ? {} : { byteOffset }) },
    ...(cause === undefined ? {} : { cause }),
  });
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes a serialized RoaringBitmapArray (magic number included), e.g. the bytes of an inline DV
 * or the `bitmapData` of one DV in a DV file. Throws `CORRUPT_DELETION_VECTOR` naming `context`.
 */
export function decodeDeletionVector(bytes: Uint8Array, context: DvErrorContext = {}): DeletedRows {
  const cur = new Cursor(bytes, context);
  const magic = cur.u32('magic number');
  const keys: number[] = [];
  const containers: Container[] = [];
  let cardinality = 0;
  if (magic === DV_MAGIC_PORTABLE) {
    const countLow = cur.u32('bucket count');
    const countHigh = cur.u32('bucket count');
    // Each bucket takes at least 12 bytes (key + an empty 32-bit bitmap's 8-byte header).
    if (countHigh !== 0 || countLow > (bytes.length - cur.pos) / 12) {
      throw cur.corrupt(
        'malformed',
        `bucket count ${countHigh * 2 ** 32 + countLow} does not fit in ${bytes.length} bytes`,
        cur.pos - 8,
      );
    }
    let previous = -1;
    for (let b = 0; b < countLow; b++) {
      const keyAt = cur.pos;
      const high = cur.u32('bucket key');
      if (high >= 0x80000000)
        throw cur.corrupt('malformed', `bucket key ${high} has its most significant bit set`, keyAt);
      if (high <= previous)
        throw cur.corrupt('malformed', `bucket key ${high} is not above the previous key ${previous}`, keyAt);
      if (high > MAX_HIGH_KEY)
        throw cur.corrupt('unsupported', `bucket key ${high} means row indexes of 2^53 or more`, keyAt);
      previous = high;
      cardinality += readRoaring32(cur, high, keys, containers);
    }
  } else if (magic === DV_MAGIC_NATIVE || byteSwap(magic) === DV_MAGIC_NATIVE) {
    const littleEndian = magic === DV_MAGIC_NATIVE;
    const countAt = cur.pos;
    const count = cur.u32('bitmap count', littleEndian);
    if (count > (bytes.length - cur.pos) / 12) {
      throw cur.corrupt('malformed', `bitmap count ${count} does not fit in ${bytes.length} bytes`, countAt);
    }
    if (count > MAX_HIGH_KEY + 1)
      throw cur.corrupt('unsupported', `${count} bitmaps mean row indexes of 2^53 or more`, countAt);
    for (let high = 0; high < count; high++) {
      const size = cur.u32('bitmap length', littleEndian);
      const start = cur.pos;
      cur.need(size, 'bitmap');
      cardinality += readRoaring32(cur, high, keys, containers);
      if (cur.pos - start > size) {
        throw cur.corrupt(
          'malformed',
          `bitmap ${high} takes ${cur.pos - start} bytes, more than its stated length ${size}`,
          start,
        );
      }
      cur.pos = start + size;
    }
  } else {
    throw cur.corrupt('bad-magic', `unknown magic number ${magic} (expected ${DV_MAGIC_PORTABLE})`, 0);
  }
  return makeDeletedRows(Float64Array.from(keys), containers, cardinality);
}

/** Reads one standard 32-bit Roaring bitmap; appends its containers; returns its cardinality. */
function readRoaring32(cur: Cursor, high: number, keysOut: number[], out: Container[]): number {
  const start = cur.pos;
  const cookie = cur.u32('Roaring cookie');
  let size: number;
  let runFlags: Uint8Array | undefined;
  if (cookie === COOKIE_NO_RUN) {
    size = cur.u32('container count');
    if (size > 65536) throw cur.corrupt('malformed', `container count ${size} exceeds 65536`, cur.pos - 4);
  } else if ((cookie & 0xffff) === COOKIE_RUN) {
    size = (cookie >>> 16) + 1;
    const flagBytes = (size + 7) >>> 3;
    cur.need(flagBytes, 'run-container flags');
    runFlags = cur.bytes.subarray(cur.pos, cur.pos + flagBytes);
    cur.pos += flagBytes;
  } else {
    throw cur.corrupt('malformed', `unknown Roaring cookie ${cookie}`, start);
  }
  cur.need(size * 4, 'container headers');
  const headerAt = cur.pos;
  const cards = new Uint32Array(size);
  const base = high * 65536;
  let previousKey = -1;
  for (let i = 0; i < size; i++) {
    const key = cur.u16();
    if (key <= previousKey)
      throw cur.corrupt(
        'malformed',
        `container key ${key} is not above the previous key ${previousKey}`,
        headerAt + i * 4,
      );
    previousKey = key;
    keysOut.push(base + key);
    cards[i] = cur.u16() + 1;
  }
  if (runFlags === undefined || size >= NO_OFFSET_THRESHOLD) {
    // Offset header: container positions; containers are read sequentially, so it is skipped.
    cur.need(size * 4, 'offset header');
    cur.pos += size * 4;
  }
  let total = 0;
  for (let i = 0; i < size; i++) {
    const card = cards[i] as number;
    const isRun = runFlags !== undefined && ((runFlags[i >>> 3] as number) & (1 << (i & 7))) !== 0;
    const at = cur.pos;
    if (isRun) out.push(readRun(cur, card, at));
    else if (card <= ARRAY_MAX_CARDINALITY) out.push(readArray(cur, card, at));
    else out.push(readBitmap(cur, card, at));
    total += card;
  }
  return total;
}

function readArray(cur: Cursor, card: number, at: number): Container {
  cur.need(card * 2, 'array container');
  const values = new Uint16Array(card);
  let previous = -1;
  for (let j = 0; j < card; j++) {
    const v = cur.u16();
    if (v <= previous)
      throw cur.corrupt(
        'malformed',
        `array container values are not strictly ascending (${v} after ${previous})`,
        at,
      );
    values[j] = v;
    previous = v;
  }
  return { type: ARRAY, data: values, cardinality: card };
}

function readBitmap(cur: Cursor, card: number, at: number): Container {
  cur.need(BITMAP_BYTES, 'bitset container');
  const words = new Uint32Array(BITMAP_WORDS);
  let count = 0;
  for (let w = 0; w < BITMAP_WORDS; w++) {
    const word = cur.u32('bitset word');
    words[w] = word;
    count += popcount(word);
  }
  if (count !== card)
    throw cur.corrupt('malformed', `bitset container holds ${count} values but its header says ${card}`, at);
  return { type: BITMAP, data: words, cardinality: card };
}

function readRun(cur: Cursor, card: number, at: number): Container {
  cur.need(2, 'run count');
  const runs = cur.u16();
  cur.need(runs * 4, 'run container');
  const pairs = new Uint16Array(runs * 2);
  let count = 0;
  let previousEnd = -1;
  for (let j = 0; j < runs; j++) {
    const startValue = cur.u16();
    const lengthMinusOne = cur.u16();
    const end = startValue + lengthMinusOne;
    if (startValue <= previousEnd || end > 0xffff) {
      throw cur.corrupt(
        'malformed',
        `run [${startValue}, ${end}] overlaps the previous run or leaves the container`,
        at,
      );
    }
    pairs[j * 2] = startValue;
    pairs[j * 2 + 1] = lengthMinusOne;
    count += lengthMinusOne + 1;
    previousEnd = end;
  }
  if (count !== card)
    throw cur.corrupt('malformed', `run container holds ${count} values but its header says ${card}`, at);
  return { type: RUN, data: pairs, cardinality: card };
}

class Cursor {
  pos = 0;
  readonly #view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly context: DvErrorContext,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) {
      throw this.corrupt(
        'truncated',
        `${what} needs ${n} bytes but only ${this.bytes.length - this.pos} remain`,
        this.pos,
      );
    }
  }
  u16(): number {
    const v = this.#view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what: string, littleEndian = true): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.pos, littleEndian);
    this.pos += 4;
    return v;
  }
  corrupt(reason: DvCorruption, what: string, at: number): WeirError {
    return corruptDeletionVector(reason, what, this.context, at);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

export interface EncodeDeletionVectorOptions {
  /**
   * Use run containers where they are smaller than array/bitset ones (Roaring's runOptimize).
   * Default false: array and bitset containers only, the widest-read form.
   */
  runContainers?: boolean;
}

/**
 * Serializes row indexes as a portable RoaringBitmapArray with the magic number: the bytes an
 * inline DV encodes (Z85) and a DV file stores as `bitmapData`. Throws `INVALID_ARGUMENT` for a row
 * index that is not an integer in [0, 2^53).
 */
export function encodeDeletionVector(
  rows: Iterable<number> | DeletedRows,
  options: EncodeDeletionVectorOptions = {},
): Uint8Array {
  const sorted = rows instanceof DeletedRows ? rows.toSortedArray() : sortedUnique(rows);
  const set = fromSorted(sorted, options.runContainers ?? false);
  const { keys, containers } = containersOf(set);

  // Group containers into buckets by the high 32 bits and size everything first.
  const buckets: { high: number; from: number; to: number; hasRun: boolean; bytes: number }[] = [];
  for (let i = 0; i < keys.length; ) {
    const high = Math.floor((keys[i] as number) / 65536);
    let j = i;
    let hasRun = false;
    let body = 0;
    while (j < keys.length && Math.floor((keys[j] as number) / 65536) === high) {
      const c = containers[j] as Container;
      hasRun ||= c.type === RUN;
      body += containerBytes(c);
      j++;
    }
    const n = j - i;
    const header = hasRun ? 4 + ((n + 7) >>> 3) + 4 * n + (n >= NO_OFFSET_THRESHOLD ? 4 * n : 0) : 8 + 8 * n;
    buckets.push({ high, from: i, to: j, hasRun, bytes: header + body });
    i = j;
  }
  const total = 12 + buckets.reduce((sum, b) => sum + 4 + b.bytes, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let p = 0;
  view.setUint32(p, DV_MAGIC_PORTABLE, true);
  view.setUint32(p + 4, buckets.length, true);
  view.setUint32(p + 8, 0, true);
  p += 12;
  for (const b of buckets) {
    view.setUint32(p, b.high, true);
    p += 4;
    const start = p;
    const n = b.to - b.from;
    if (b.hasRun) {
      view.setUint32(p, COOKIE_RUN | ((n - 1) << 16), true);
      p += 4;
      for (let k = 0; k < n; k++) {
        if ((containers[b.from + k] as Container).type === RUN)
          out[p + (k >>> 3)] = (out[p + (k >>> 3)] as number) | (1 << (k & 7));
      }
      p += (n + 7) >>> 3;
    } else {
      view.setUint32(p, COOKIE_NO_RUN, true);
      view.setUint32(p + 4, n, true);
      p += 8;
    }
    for (let k = b.from; k < b.to; k++) {
      view.setUint16(p, (keys[k] as number) % 65536, true);
      view.setUint16(p + 2, (containers[k] as Container).cardinality - 1, true);
      p += 4;
    }
    if (!b.hasRun || n >= NO_OFFSET_THRESHOLD) {
      let offset = p + 4 * n - start;
      for (let k = b.from; k < b.to; k++) {
        view.setUint32(p, offset, true);
        p += 4;
        offset += containerBytes(containers[k] as Container);
      }
    }
    for (let k = b.from; k < b.to; k++) p = writeContainer(view, p, containers[k] as Container);
  }
  return out;
}

function containerBytes(c: Container): number {
  if (c.type === ARRAY) return 2 * c.cardinality;
  if (c.type === BITMAP) return BITMAP_BYTES;
  return 2 + 2 * c.data.length;
}

function writeContainer(view: DataView, p: number, c: Container): number {
  if (c.type === BITMAP) {
    for (const word of c.data) {
      view.setUint32(p, word, true);
      p += 4;
    }
    return p;
  }
  if (c.type === RUN) {
    view.setUint16(p, c.data.length / 2, true);
    p += 2;
  }
  for (const v of c.data) {
    view.setUint16(p, v, true);
    p += 2;
  }
  return p;
}

function byteSwap(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
