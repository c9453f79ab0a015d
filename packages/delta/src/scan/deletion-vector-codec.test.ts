import { createHash } from 'node:crypto';
import { isWeirError, type WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { z85Decode } from '../util/z85.js';
import {
  DeletedRows,
  DV_MAGIC_NATIVE,
  DV_MAGIC_PORTABLE,
  decodeDeletionVector,
  encodeDeletionVector,
} from './deletion-vector-codec.js';

const TWO_32 = 2 ** 32;
const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function caught(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err) {
    if (isWeirError(err)) return err;
    throw err;
  }
  throw new Error('expected an error');
}

function sortedUnique(rows: readonly number[]): number[] {
  return [...new Set(rows)].sort((a, b) => a - b);
}

function expectRows(set: DeletedRows, rows: readonly number[]): void {
  const want = sortedUnique(rows);
  expect(set.cardinality).toBe(want.length);
  expect(Array.from(set.toSortedArray())).toEqual(want);
  for (const r of want) expect(set.has(r)).toBe(true);
}

/** Seeded PRNG (LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / TWO_32;
  };
}

// The row sets below were serialized by the Java RoaringBitmap library 1.3.0 (what Delta Spark
// uses), one 32-bit RoaringBitmap per bucket, wrapped in Delta's magic + portable 64-bit layout.
function mixedRows(step: number): number[] {
  const rows: number[] = [];
  for (let v = 0; v < 10000; v++) rows.push(v);
  for (let v = 65536; v < 131072; v += step) rows.push(v);
  rows.push(200000, 200005);
  for (let v = 300000; v < 300100; v++) rows.push(v);
  rows.push(TWO_32 + 5);
  for (let v = TWO_32 + 70000; v <= TWO_32 + 70010; v++) rows.push(v);
  rows.push(5 * TWO_32 + 1);
  return rows;
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

const JAVA_SMALL = 'd1d339640100000000000000000000003a3000000100000000000500100000000300040007000b0012001d00';
/** 0..69999 after runOptimize: one bucket, cookie 12347 with 2 run containers, no offset header. */
const JAVA_RANGE_RUNS = 'd1d339640100000000000000000000003b300100030000ffff01006f1101000000ffff010000006f11';
/** mixedRows(1000) after runOptimize: bucket 0 has 4 containers (runs + arrays, offset header), bucket 1 has 2 (no offset header), bucket 5 has 1 (no runs). */
const JAVA_MIXED_RUNS = `
d1d339640300000000000000000000003b3003000900000f27010041000300010004006300250000002b000000af0000
00b3000000010000000f270000e803d007b80ba00f88137017581b401f28231027f82ae02ec832b036983a803e684250
46384a204e0852f055d859c05da86190657869606d487130751879007de880d084b888a08c889070945898409c28a010
a4f8a7e0abc8afb0b398b780bb68bf50c338c720cb08cff0d2d8d6c0daa8de90e278e660ea48ee30f218f600fae8fd40
0d450d0100e0936300010000003b300100020000000001000a000500010070110a00050000003a300000010000000000
0000100000000100`;
/** SHA-256 of Java's bytes for sets too large to inline (bitset containers are 8 KiB each). */
const JAVA_SHA256 = {
  range70000: '1d2fd50d2199cd08f282be9c111d8b7f23a22bca95699a1d8be8bae084d9c1b3',
  mixed3: '47e5c4d329bef94a9721959f48faa9c9cf2b44e7e1b17af680431778e0618870',
  mixed3Runs: '1439d8210c1780c787908baa4209ec84914386836a3ff879cb66b084db48e390',
  mixed1000: '186b3d27dbf3514658280dd0b7672d52fd8493573abe048ea061ffac41bc7f74',
};

describe('decodeDeletionVector', () => {
  it('decodes the inline example of PROTOCOL.md (the "native" layout, header big endian)', () => {
    const bytes = z85Decode('wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L', 40);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(0, false)).toBe(DV_MAGIC_NATIVE);
    expect(view.getUint32(4, false)).toBe(1); // one bitmap
    expect(view.getUint32(8, false)).toBe(28); // of 28 bytes
    expectRows(decodeDeletionVector(bytes), [3, 4, 7, 11, 18, 29]);
  });

  it('decodes the "native" layout with a little-endian header (what Delta Spark reads)', () => {
    const roaring = hex(JAVA_SMALL).subarray(16); // the 32-bit bitmap of [3, 4, 7, 11, 18, 29]
    const bytes = new Uint8Array(12 + roaring.length);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, DV_MAGIC_NATIVE, true);
    view.setUint32(4, 1, true);
    view.setUint32(8, roaring.length, true);
    bytes.set(roaring, 12);
    expectRows(decodeDeletionVector(bytes), [3, 4, 7, 11, 18, 29]);
    view.setUint32(8, roaring.length - 1, true); // stated length shorter than the bitmap
    expect(caught(() => decodeDeletionVector(bytes)).details.reason).toBe('malformed');
  });

  it('decodes bitmaps serialized by Java RoaringBitmap, with run containers and offset headers', () => {
    expectRows(decodeDeletionVector(hex(JAVA_SMALL)), [3, 4, 7, 11, 18, 29]);
    expectRows(decodeDeletionVector(hex(JAVA_RANGE_RUNS)), range(0, 70000));
    const mixed = decodeDeletionVector(hex(JAVA_MIXED_RUNS));
    expectRows(mixed, mixedRows(1000));
    expect(mixed.has(TWO_32 + 70011)).toBe(false);
    expect(mixed.has(5 * TWO_32)).toBe(false);
  });

  it('decodes what the krs-table-with-dv-small DV file holds (rows 0 and 9)', () => {
    const set = decodeDeletionVector(
      hex('d1d339640100000000000000000000003a30000001000000000001001000000000000900'),
    );
    expectRows(set, [0, 9]);
  });
});

describe('encodeDeletionVector', () => {
  it('writes exactly the bytes Java RoaringBitmap writes', () => {
    expect(toHex(encodeDeletionVector([29, 3, 4, 7, 11, 18, 3]))).toBe(JAVA_SMALL);
    expect(toHex(encodeDeletionVector(range(0, 70000), { runContainers: true }))).toBe(JAVA_RANGE_RUNS);
    expect(toHex(encodeDeletionVector(mixedRows(1000), { runContainers: true }))).toBe(
      JAVA_MIXED_RUNS.replace(/\s+/g, ''),
    );
    expect(sha256(encodeDeletionVector(range(0, 70000)))).toBe(JAVA_SHA256.range70000);
    expect(sha256(encodeDeletionVector(mixedRows(3)))).toBe(JAVA_SHA256.mixed3);
    expect(sha256(encodeDeletionVector(mixedRows(3), { runContainers: true }))).toBe(JAVA_SHA256.mixed3Runs);
    expect(sha256(encodeDeletionVector(mixedRows(1000)))).toBe(JAVA_SHA256.mixed1000);
  });

  it('starts with the portable magic number and encodes the empty set in 12 bytes', () => {
    const empty = encodeDeletionVector([]);
    expect(toHex(empty)).toBe('d1d33964' + '00'.repeat(8));
    expect(new DataView(empty.buffer).getUint32(0, true)).toBe(DV_MAGIC_PORTABLE);
    expect(decodeDeletionVector(empty).cardinality).toBe(0);
  });

  const cases: [string, number[]][] = [
    ['one row', [0]],
    ['the largest row index', [Number.MAX_SAFE_INTEGER]],
    ['a range across container boundaries', range(65530, 65546)],
    ['a full container plus one', range(0, 65537)],
    ['4096 values (largest array container)', range(0, 4096).map((v) => v * 2)],
    ['4097 values (smallest bitset container)', range(0, 4097).map((v) => v * 2)],
    ['rows in several high buckets', [1, TWO_32 - 1, TWO_32, TWO_32 + 1, 3 * TWO_32 + 65536, 2 ** 52 + 7]],
    ['a range across the 2^32 boundary', range(TWO_32 - 100, TWO_32 + 100)],
    ['alternating runs', range(0, 20000).filter((v) => v % 100 < 50)],
  ];
  for (const runContainers of [false, true]) {
    for (const [name, rows] of cases) {
      it(`round-trips ${name}${runContainers ? ' (run containers)' : ''}`, () => {
        const bytes = encodeDeletionVector(rows, { runContainers });
        const set = decodeDeletionVector(bytes);
        expectRows(set, rows);
        expect(toHex(encodeDeletionVector(set, { runContainers }))).toBe(toHex(bytes));
      });
    }
  }

  it('round-trips random sets and agrees with a Set on membership', () => {
    const next = rng(7);
    for (let round = 0; round < 20; round++) {
      const rows: number[] = [];
      const spread = [100, 70000, 2_000_000, 3 * TWO_32][round % 4] as number;
      const n = Math.floor(next() * 6000);
      for (let i = 0; i < n; i++) rows.push(Math.floor(next() * spread));
      const runContainers = round % 2 === 0;
      const set = decodeDeletionVector(encodeDeletionVector(rows, { runContainers }));
      expectRows(set, rows);
      const members = new Set(rows);
      for (let i = 0; i < 500; i++) {
        const probe = Math.floor(next() * spread);
        expect(set.has(probe)).toBe(members.has(probe));
      }
    }
  });

  it('run containers make contiguous deletes small', () => {
    const rows = range(1_000_000, 1_300_000);
    expect(encodeDeletionVector(rows, { runContainers: true }).length).toBeLessThan(120);
    expect(encodeDeletionVector(rows).length).toBeGreaterThan(30_000);
  });

  it('rejects row indexes that are not integers in [0, 2^53)', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
      expect(caught(() => encodeDeletionVector([1, bad])).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('DeletedRows', () => {
  const rows = [0, 1, 2, 9, 65535, 65536, 70000, TWO_32 + 3];
  const set = DeletedRows.from([...rows].reverse().concat(rows));

  it('is built from unsorted rows with duplicates', () => {
    expectRows(set, rows);
    expect([...set]).toEqual(rows);
    expect(set.maxRowIndex()).toBe(TWO_32 + 3);
    expect(set.isEmpty).toBe(false);
  });

  it('answers has() for non-members and odd input', () => {
    for (const r of [3, 8, 10, 65534, 65537, TWO_32, TWO_32 + 2, -1, 0.5, Number.NaN, 2 ** 60]) {
      expect(set.has(r)).toBe(false);
    }
  });

  it('builds selection vectors for batches at any offset', () => {
    expect([...set.selectionVector(11)]).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1]);
    expect([...set.selectionVector(4, 65534)]).toEqual([1, 0, 0, 1]);
    expect([...set.selectionVector(3, TWO_32 + 2)]).toEqual([1, 0, 1]);
    expect([...set.selectionVector(5, 100)]).toEqual([1, 1, 1, 1, 1]);
    expect([...DeletedRows.EMPTY.selectionVector(3)]).toEqual([1, 1, 1]);
  });

  it('selection vectors agree with has() over bitset and run containers', () => {
    const dense = range(0, 200_000).filter((v) => v % 7 !== 0 && v % 11 !== 0);
    for (const runContainers of [false, true]) {
      const s = decodeDeletionVector(encodeDeletionVector(dense, { runContainers }));
      const start = 60_000;
      const mask = s.selectionVector(20_000, start);
      for (let i = 0; i < mask.length; i++) expect(mask[i]).toBe(s.has(start + i) ? 0 : 1);
    }
  });

  it('has an empty instance', () => {
    expect(DeletedRows.EMPTY.cardinality).toBe(0);
    expect(DeletedRows.EMPTY.isEmpty).toBe(true);
    expect(DeletedRows.EMPTY.maxRowIndex()).toBeUndefined();
    expect(DeletedRows.EMPTY.toSortedArray().length).toBe(0);
  });
});

describe('decodeDeletionVector on corrupt input', () => {
  const valid = encodeDeletionVector(mixedRows(1000), { runContainers: true });

  function reasonOf(bytes: Uint8Array): unknown {
    const err = caught(() => decodeDeletionVector(bytes, { dataFile: 'part-0.parquet', dvPath: 'inline' }));
    expect(err.code).toBe('CORRUPT_DELETION_VECTOR');
    expect(err.message).toContain('part-0.parquet');
    expect(err.details.dataFile).toBe('part-0.parquet');
    return err.details.reason;
  }

  function patched(base: Uint8Array, at: number, values: number[]): Uint8Array {
    const copy = base.slice();
    copy.set(values, at);
    return copy;
  }

  it('rejects an unknown magic number', () => {
    expect(reasonOf(patched(valid, 0, [0, 0, 0, 0]))).toBe('bad-magic');
    expect(reasonOf(new Uint8Array(0))).toBe('truncated');
  });

  it('rejects every truncation of a valid bitmap', () => {
    for (let n = 0; n < valid.length; n++) {
      const reason = reasonOf(valid.subarray(0, n));
      expect(['truncated', 'malformed']).toContain(reason);
    }
  });

  it('never throws anything but CORRUPT_DELETION_VECTOR on random damage', () => {
    const next = rng(99);
    for (let round = 0; round < 500; round++) {
      const copy = valid.slice();
      const flips = 1 + Math.floor(next() * 3);
      for (let f = 0; f < flips; f++) copy[Math.floor(next() * copy.length)] = Math.floor(next() * 256);
      try {
        decodeDeletionVector(copy);
      } catch (err) {
        expect(isWeirError(err, 'CORRUPT_DELETION_VECTOR')).toBe(true);
      }
    }
  });

  it('checks bucket keys', () => {
    const two = encodeDeletionVector([1, TWO_32 + 1]);
    // Second bucket key: after magic (4), count (8), key 0 (4) and bucket 0 (8 + 4 + 4 + 2 bytes).
    const secondKeyAt = 4 + 8 + 4 + 18;
    expect(new DataView(two.buffer).getUint32(secondKeyAt, true)).toBe(1);
    expect(reasonOf(patched(two, secondKeyAt, [0, 0, 0, 0]))).toBe('malformed'); // not ascending
    expect(reasonOf(patched(two, secondKeyAt, [0, 0, 0, 0x80]))).toBe('malformed'); // sign bit
    expect(reasonOf(patched(two, secondKeyAt, [0, 0, 0x20, 0]))).toBe('unsupported'); // >= 2^53
    expect(reasonOf(patched(two, 4, [200, 0, 0, 0]))).toBe('malformed'); // bucket count too large
  });

  it('checks the Roaring cookie and containers', () => {
    const small = hex(JAVA_SMALL);
    const cookieAt = 16;
    expect(reasonOf(patched(small, cookieAt, [0x39, 0x30]))).toBe('malformed');
    // Array values must ascend: make the second value (4) equal to the first (3).
    const arrayAt = cookieAt + 8 + 4 + 4;
    expect(reasonOf(patched(small, arrayAt + 2, [3, 0]))).toBe('malformed');
    // Cardinality in the descriptive header larger than the data.
    expect(reasonOf(patched(small, cookieAt + 10, [9, 0]))).toBe('truncated');
  });

  it('checks bitset cardinality and run bounds', () => {
    const bitset = encodeDeletionVector(range(0, 5000));
    const headerCardAt = 16 + 8 + 2;
    expect(reasonOf(patched(bitset, headerCardAt, [0x88, 0x13]))).toBe('malformed'); // says 5001
    const runs = hex(JAVA_RANGE_RUNS);
    // First run (0, 65535) -> start 1, length-1 65535 leaves the container.
    const firstRunAt = 16 + 4 + 1 + 8 + 2;
    expect(reasonOf(patched(runs, firstRunAt, [1, 0]))).toBe('malformed');
  });
});
