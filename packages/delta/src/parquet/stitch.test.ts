import { Float64, Int64, type RecordBatch, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { encodeParquet } from '../write/parquet-file.js';
import {
  PARQUET_CODECS,
  type ParquetFooter,
  ParquetStitcher,
  parseParquetFooter,
  stitchRefusal,
} from './stitch.js';
import {
  getInt,
  getList,
  getStruct,
  readStruct,
  type TStruct,
  TType,
  writeStruct,
} from './thrift-compact.js';
import { bytesSource, openParquetBlob, readParquetTable } from './wasm.js';

function batch(from: number, rows: number): RecordBatch {
  const ids = Array.from({ length: rows }, (_, i) => BigInt(from + i));
  const names = Array.from({ length: rows }, (_, i) =>
    (from + i) % 7 === 0 ? null : `name-${(from + i) % 50}`,
  );
  const scores = Array.from({ length: rows }, (_, i) => (from + i) / 3);
  return new Table({
    id: vectorFromArray(ids, new Int64()),
    name: vectorFromArray(names, new Utf8()),
    score: vectorFromArray(scores, new Float64()),
  }).batches[0]!;
}

async function file(from: number, rows: number, maxRowGroupRows = 1_000_000): Promise<Uint8Array> {
  return encodeParquet([batch(from, rows)], { table: 't', file: `f${from}` }, { maxRowGroupRows });
}

function footerOf(bytes: Uint8Array, name: string): ParquetFooter {
  const f = parseParquetFooter(bytes, bytes.length, name);
  if ('needBytes' in f) throw new Error('tail too short');
  return f;
}

function stitch(files: Uint8Array[]): Uint8Array {
  const footers = files.map((b, i) => footerOf(b, `in-${i}`));
  const s = new ParquetStitcher();
  const parts = [s.head()];
  footers.forEach((f, i) => {
    parts.push(s.append(f, files[i]!.subarray(4, f.metaStart)));
  });
  parts.push(s.tail());
  const out = Buffer.concat(parts);
  expect(out.length).toBe(s.size);
  return new Uint8Array(out);
}

describe('thrift compact codec', () => {
  it('round-trips every wire type it reads', () => {
    const s: TStruct = {
      fields: [
        { id: 1, type: TType.I32, value: -5 },
        { id: 2, type: TType.I64, value: -(2n ** 62n) },
        { id: 3, type: TType.TRUE, value: true },
        { id: 4, type: TType.FALSE, value: false },
        { id: 5, type: TType.BINARY, value: new TextEncoder().encode('héllo') },
        { id: 6, type: TType.DOUBLE, value: 1.5 },
        { id: 40, type: TType.BYTE, value: -3 },
        {
          id: 41,
          type: TType.LIST,
          value: { elemType: TType.I64, items: Array.from({ length: 20 }, (_, i) => BigInt(i * 1000)) },
        },
        {
          id: 42,
          type: TType.MAP,
          value: {
            keyType: TType.I32,
            valueType: TType.TRUE,
            entries: [
              [1, true],
              [2, false],
            ],
          },
        },
        { id: 43, type: TType.STRUCT, value: { fields: [{ id: 1, type: TType.I16, value: 7 }] } },
      ],
    };
    const bytes = writeStruct(s);
    const back = readStruct(bytes);
    expect(back.end).toBe(bytes.length);
    expect(writeStruct(back.struct)).toEqual(bytes);
    expect(back.struct).toEqual(s);
  });

  it('refuses truncated input with a typed error', () => {
    const bytes = writeStruct({ fields: [{ id: 1, type: TType.BINARY, value: new Uint8Array(100) }] });
    expect(() => readStruct(bytes.subarray(0, 50))).toThrow(
      expect.objectContaining({ code: 'CORRUPT_DATA_FILE' }),
    );
  });

  it('re-encodes a parquet-wasm footer byte for byte', async () => {
    const bytes = await file(0, 5000, 1000);
    const f = footerOf(bytes, 'x');
    expect(Buffer.from(writeStruct(f.meta))).toEqual(
      Buffer.from(bytes.subarray(f.metaStart, bytes.length - 8)),
    );
  });
});

describe('ParquetStitcher', () => {
  it('joins files row group by row group into a file every reader sees whole', async () => {
    const inputs = [await file(0, 3000, 1000), await file(3000, 2500), await file(5500, 4000, 1500)];
    const footers = inputs.map((b, i) => footerOf(b, `in-${i}`));
    expect(stitchRefusal(footers, { minRowGroupBytes: 1, codec: PARQUET_CODECS.zstd })).toBeUndefined();
    const out = stitch(inputs);
    const table = readParquetTable(out);
    expect(table.numRows).toBe(9500);
    const ids = table.getChild('id')!.toArray() as BigInt64Array;
    expect(Array.from(ids, Number)).toEqual(Array.from({ length: 9500 }, (_, i) => i));
    const names = table.getChild('name')!;
    expect(names.get(7)).toBeNull();
    expect(names.get(8)).toBe('name-8');
    expect(table.getChild('score')!.get(9499)).toBeCloseTo(9499 / 3);
    // Row groups are the inputs', in order, readable one at a time through the page indexes.
    const reader = await openParquetBlob(bytesSource(out));
    try {
      expect(reader.rowGroups.map((g) => g.numRows)).toEqual([1000, 1000, 1000, 2500, 1500, 1500, 1000]);
      const sixth = await reader.read(5);
      expect(Number(sixth.getChild('id')!.get(0))).toBe(7000);
    } finally {
      reader.free();
    }
    // Footer facts: ordinals renumbered, offsets inside the file, offset indexes point at pages.
    const f = footerOf(out, 'out');
    expect(getInt(f.meta, 3)).toBe(9500n);
    const groups = getList(f.meta, 4)!.items as TStruct[];
    for (const rg of groups) {
      for (const c of getList(rg, 1)!.items as TStruct[]) {
        const meta = getStruct(c, 3)!;
        const data = Number(getInt(meta, 9));
        expect(data).toBeGreaterThanOrEqual(4);
        expect(data).toBeLessThan(f.metaStart);
        const oi = getInt(c, 4);
        if (oi === undefined) continue;
        const index = readStruct(out, Number(oi), Number(oi + getInt(c, 5)!)).struct;
        const firstPage = getList(index, 1)!.items[0] as TStruct;
        const dict = getInt(meta, 11);
        // The first data page follows the dictionary page, or is where the chunk starts.
        expect(Number(getInt(firstPage, 1))).toBe(data);
        if (dict !== undefined && dict > 0n) expect(Number(dict)).toBeLessThan(data);
      }
    }
  });

  it('says why files cannot be stitched', async () => {
    const a = footerOf(await file(0, 2000), 'a');
    const other = await encodeParquet(new Table({ id: vectorFromArray([1n, 2n], new Int64()) }).batches, {
      table: 't',
      file: 'b',
    });
    const b = footerOf(other, 'b');
    expect(stitchRefusal([a, b], { minRowGroupBytes: 1 })).toMatch(/b has another Parquet schema/);
    expect(stitchRefusal([a], { minRowGroupBytes: 1 << 30 })).toMatch(/row groups average/);
    expect(stitchRefusal([a], { minRowGroupBytes: 1, codec: PARQUET_CODECS.snappy })).toMatch(
      /another compression codec/,
    );
  });

  it('asks for more of the tail when the footer does not fit, and names a file that is not Parquet', async () => {
    const bytes = await file(0, 100);
    const need = parseParquetFooter(bytes.subarray(bytes.length - 10), bytes.length, 'x');
    expect('needBytes' in need && need.needBytes).toBeGreaterThan(10);
    expect(() =>
      parseParquetFooter(new TextEncoder().encode('not parquet at all'), 18, 'bad.parquet'),
    ).toThrow(
      expect.objectContaining({ code: 'CORRUPT_DATA_FILE', message: expect.stringContaining('bad.parquet') }),
    );
  });
});
