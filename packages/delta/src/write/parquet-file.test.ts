import {
  Binary,
  Bool,
  Field,
  Int32,
  Int64,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { parquetModule, parquetRowGroups, readParquetTable } from '../parquet/wasm.js';
import { batchToJsonRows } from '../scan/json-rows.js';
import { deltaSchemaToArrow } from '../schema/arrow.js';
import type { StructType } from '../schema/types.js';
import { concatBatches } from './arrow-concat.js';
import {
  COALESCE_BYTES,
  COALESCE_ROWS,
  coalesced,
  dataFileSchema,
  encodeParquet,
  toFileBatch,
} from './parquet-file.js';

const cm = (id: number) => ({
  'delta.columnMapping.id': id,
  'delta.columnMapping.physicalName': `col-${id}`,
  comment: 'not copied',
});

const NESTED: StructType = {
  type: 'struct',
  fields: [
    { name: 'n', type: { type: 'long' }, nullable: true, metadata: cm(1) },
    {
      name: 's',
      type: {
        type: 'struct',
        fields: [
          { name: 'flag', type: { type: 'boolean' }, nullable: true, metadata: cm(3) },
          {
            name: 'tags',
            type: { type: 'array', elementType: { type: 'string' }, containsNull: true },
            nullable: true,
            metadata: cm(4),
          },
        ],
      },
      nullable: true,
      metadata: cm(2),
    },
    {
      name: 'm',
      type: {
        type: 'map',
        keyType: { type: 'string' },
        valueType: { type: 'integer' },
        valueContainsNull: true,
      },
      nullable: true,
      metadata: cm(5),
    },
  ],
};

function nestedBatch(n: number): RecordBatch {
  const schema = deltaSchemaToArrow(NESTED);
  const children = [
    vectorFromArray(
      Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : BigInt(i))),
      new Int64(),
    ).data[0]!,
    vectorFromArray(
      Array.from({ length: n }, (_, i) =>
        i % 7 === 0
          ? null
          : { flag: i % 3 === 0 ? null : i % 2 === 0, tags: i % 4 === 0 ? null : [`t${i}`, null] },
      ),
      schema.fields[1]!.type as Struct,
    ).data[0]!,
    vectorFromArray(
      Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : new Map([[`k${i}`, i % 2 ? null : i]]))),
      schema.fields[2]!.type as never,
    ).data[0]!,
  ];
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }),
  );
}

describe('concatBatches', () => {
  it('concatenates slices of nested columns (odd bit offsets included) row for row', () => {
    const whole = nestedBatch(203);
    const cuts = [0, 3, 11, 12, 64, 101, 150, 203];
    const slices = cuts.slice(1).map((end, k) => whole.slice(cuts[k]!, end));
    const joined = concatBatches(slices);
    expect(joined.numRows).toBe(203);
    expect(batchToJsonRows(joined)).toEqual(batchToJsonRows(whole));
    const bools = vectorFromArray(
      [true, false, null, true, true, false, null, false, true, true],
      new Bool(),
    );
    const schema = new Schema([new Field('b', new Bool(), true)]);
    const asBatch = (v: typeof bools) =>
      new RecordBatch(
        schema,
        makeData({ type: new Struct(schema.fields), length: v.length, nullCount: 0, children: [v.data[0]!] }),
      );
    const parts = [bools.slice(1, 4), bools.slice(5, 10), bools.slice(0, 1)].map(asBatch);
    expect(batchToJsonRows(concatBatches(parts)).map((r) => r.b)).toEqual([
      false,
      null,
      true,
      false,
      null,
      false,
      true,
      true,
      true,
    ]);
  });
});

/** `rows` rows of `rowBytes` bytes each, viewing one shared buffer (cheap at any size). */
function wide(rows: number, rowBytes: number): RecordBatch {
  const schema = new Schema([new Field('b', new Binary(), false)]);
  const offsets = Int32Array.from({ length: rows + 1 }, (_, i) => i * rowBytes);
  const payload = makeData({
    type: new Binary(),
    length: rows,
    nullCount: 0,
    valueOffsets: offsets,
    data: new Uint8Array(rows * rowBytes),
  });
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children: [payload] }),
  );
}

describe('coalesced', () => {
  it('joins small batches up to COALESCE_ROWS, keeping every row in order', () => {
    const small = Array.from({ length: 10 }, () => wide(10_000, 1));
    const out = [...coalesced(small)];
    // 7 x 10,000 rows is the first group to reach COALESCE_ROWS (65,536); the rest is the tail.
    expect(COALESCE_ROWS).toBe(65_536);
    expect(out.map((b) => b.numRows)).toEqual([70_000, 30_000]);
  });

  it('passes a batch that would take a group past COALESCE_BYTES on as it is (no copy)', () => {
    const half = Math.ceil(COALESCE_BYTES / 2 / 1000) + 1; // rows of 1000 bytes: just over half
    const tiny = wide(10, 1000);
    const big = wide(Math.ceil(COALESCE_BYTES / 1000), 1000);
    const a = wide(half, 1000);
    const b = wide(half, 1000);
    const out = [...coalesced([tiny, big, a, b])];
    // Each would take the group before it past the bound, so each goes on alone, uncopied.
    expect(out).toHaveLength(4);
    expect(out[0]).toBe(tiny);
    expect(out[1]).toBe(big);
    expect(out[2]).toBe(a);
    expect(out[3]).toBe(b);
    // Two quarters fit under the bound and are joined.
    const quarter = wide(Math.floor(COALESCE_BYTES / 4 / 1000), 1000);
    const joined = [...coalesced([quarter, quarter])];
    expect(joined).toHaveLength(1);
    expect(joined[0]!.numRows).toBe(2 * quarter.numRows);
  });
});

describe('dataFileSchema / toFileBatch', () => {
  it('uses physical names, field ids in id mode, and no Delta metadata', () => {
    const schema = dataFileSchema(NESTED, 'id');
    expect(schema.fields.map((f) => f.name)).toEqual(['col-1', 'col-2', 'col-5']);
    expect(schema.fields[0]!.metadata.get('PARQUET:field_id')).toBe('1');
    expect(schema.fields[0]!.metadata.has('comment')).toBe(false);
    expect(schema.fields[0]!.metadata.has('delta.columnMapping.physicalName')).toBe(false);
    const inner = (schema.fields[1]!.type as Struct).children;
    expect(inner.map((f) => [f.name, f.metadata.get('PARQUET:field_id')])).toEqual([
      ['col-3', '3'],
      ['col-4', '4'],
    ]);
    expect(dataFileSchema(NESTED, 'name').fields[0]!.metadata.has('PARQUET:field_id')).toBe(false);
    expect(dataFileSchema(NESTED, 'none').fields.map((f) => f.name)).toEqual(['n', 's', 'm']);
  });

  it('writes physical names at every level and reads back the same values', async () => {
    const batch = nestedBatch(50);
    const fileSchema = dataFileSchema(NESTED, 'name');
    const bytes = await encodeParquet([toFileBatch(batch, fileSchema)], { table: 't', file: 'f' });
    const table = readParquetTable(bytes);
    expect(String(table.schema.fields[1]!.type)).toContain('col-3');
    const logicalNames = (rows: ReturnType<typeof batchToJsonRows>) => JSON.stringify(rows);
    const back = logicalNames(batchToJsonRows(table.batches[0]!))
      .replaceAll('col-1', 'n')
      .replaceAll('col-2', 's')
      .replaceAll('col-3', 'flag')
      .replaceAll('col-4', 'tags')
      .replaceAll('col-5', 'm');
    expect(JSON.parse(back)).toEqual(batchToJsonRows(batch));
  });

  it('refuses a batch with the wrong number of columns', () => {
    expect(() => toFileBatch(nestedBatch(2).selectAt([0]), dataFileSchema(NESTED, 'none'))).toThrow(
      /columns/,
    );
  });
});

describe('encodeParquet', () => {
  const simple = (n: number, from = 0) => {
    const schema = new Schema([new Field('a', new Int32(), true), new Field('s', new Utf8(), true)]);
    const children = [
      vectorFromArray(
        Array.from({ length: n }, (_, i) => from + i),
        new Int32(),
      ).data[0]!,
      vectorFromArray(
        Array.from({ length: n }, (_, i) => `v${(from + i) % 13}`),
        new Utf8(),
      ).data[0]!,
    ];
    return new RecordBatch(
      schema,
      makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }),
    );
  };

  it.each([
    ['zstd', 5],
    ['snappy', 1],
    ['uncompressed', 0],
  ] as const)('compresses with %s, dictionary pages and V1 data pages', async (codec, expected) => {
    const bytes = await encodeParquet([simple(1000)], { table: 't', file: 'f' }, { compression: codec });
    const pw = parquetModule();
    const file = await pw.ParquetFile.fromFile(new Blob([bytes]));
    try {
      const rg = file.metadata().rowGroup(0);
      for (let c = 0; c < rg.numColumns(); c++) {
        const col = rg.column(c);
        expect(col.compression()).toBe(expected);
        expect(col.encodings()).toContain(pw.Encoding.RLE_DICTIONARY);
      }
    } finally {
      file.free();
    }
  });

  it('cuts row groups by rows and by Arrow bytes, across many small batches', async () => {
    const batches = Array.from({ length: 40 }, (_, k) => simple(250, k * 250));
    const byRows = await encodeParquet(batches, { table: 't', file: 'f' }, { maxRowGroupRows: 3000 });
    expect(await parquetRowGroups(byRows)).toEqual([3000, 3000, 3000, 1000]);
    const byBytes = await encodeParquet(batches, { table: 't', file: 'f' }, { rowGroupBytes: 40_000 });
    const groups = await parquetRowGroups(byBytes);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(10_000);
    const rows = readParquetTable(byRows).batches.flatMap((b) => batchToJsonRows(b));
    expect(rows.map((r) => r.a)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });

  it('reports an encoder failure as PARQUET_WRITE_FAILED naming the table and file', async () => {
    // A non-nullable list element holding a null is refused by the Arrow/Parquet writer.
    const type = new List(new Field('element', new Int32(), false));
    const schema = new Schema([new Field('l', type, true)]);
    const v = vectorFromArray([[1, null]], new List(new Field('element', new Int32(), true)));
    const data = makeData({
      type: new Struct(schema.fields),
      length: 1,
      nullCount: 0,
      children: [v.data[0]!.clone(type)],
    });
    await expect(
      encodeParquet([new RecordBatch(schema, data)], { table: 'tbl', file: 'x/part.parquet' }),
    ).rejects.toMatchObject({
      code: 'PARQUET_WRITE_FAILED',
      details: { table: 'tbl', file: 'x/part.parquet' },
    });
  });
});
