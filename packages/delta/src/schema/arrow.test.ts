import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeirError } from '@weir/storage';
import {
  Bool,
  DateMillisecond,
  Decimal,
  Dictionary,
  Field,
  FixedSizeBinary,
  Float16,
  Int32,
  Int64,
  LargeBinary,
  LargeList,
  LargeUtf8,
  List,
  Map_,
  Null,
  Schema,
  Struct,
  Table,
  TimeMicrosecond,
  type TimestampMicrosecond,
  TimestampNanosecond,
  TimestampSecond,
  Type,
  tableFromIPC,
  tableToIPC,
  Uint8,
  Utf8,
} from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm/esm';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommitFile } from '../actions/codec.js';
import {
  ARROW_JSON_METADATA_KEYS,
  arrowSchemaToDelta,
  arrowTypeToDelta,
  deltaSchemaToArrow,
  deltaTypeToArrow,
  PARQUET_FIELD_ID_KEY,
} from './arrow.js';
import { parseSchema } from './parse.js';
import type { DataType, StructType } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_ROOT = path.resolve(here, '../../../../../shared/reference-tables');

function latestSchema(table: string): StructType {
  const dir = path.join(REFERENCE_ROOT, table, 'delta', '_delta_log');
  let schema: StructType | undefined;
  for (const file of readdirSync(dir)
    .filter((f) => /^\d{20}\.json$/.test(f))
    .sort()) {
    for (const a of parseCommitFile(readFileSync(path.join(dir, file), 'utf8'), { file, version: 0 })) {
      if ('metaData' in a) schema = parseSchema(a.metaData.schemaString);
    }
  }
  if (!schema) throw new Error(`no schema in ${table}`);
  return schema;
}

function allReferenceSchemas(): { table: string; schema: StructType }[] {
  const out: { table: string; schema: StructType }[] = [];
  for (const table of readdirSync(REFERENCE_ROOT).sort()) {
    const dir = path.join(REFERENCE_ROOT, table, 'delta', '_delta_log');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => /^\d{20}\.json$/.test(f))) {
      for (const a of parseCommitFile(readFileSync(path.join(dir, file), 'utf8'), { file, version: 0 })) {
        if ('metaData' in a)
          out.push({ table: `${table}/${file}`, schema: parseSchema(a.metaData.schemaString) });
      }
    }
  }
  return out;
}

function firstParquet(table: string): Uint8Array {
  const dir = path.join(REFERENCE_ROOT, table, 'delta');
  const file = readdirSync(dir).find((f) => f.endsWith('.parquet'))!;
  return new Uint8Array(readFileSync(path.join(dir, file)));
}

function catchError(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WeirError) return err;
    throw err;
  }
  throw new Error('expected a WeirError');
}

beforeAll(() => {
  const require = createRequire(import.meta.url);
  parquetWasm.initSync({ module: readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });
});

const f = (name: string, type: DataType, nullable = true, metadata: Record<string, unknown> = {}) => ({
  name,
  type,
  nullable,
  metadata,
});

describe('Delta -> Arrow', () => {
  it('maps primitives', () => {
    const cases: [DataType, string][] = [
      [{ type: 'string' }, 'Utf8'],
      [{ type: 'long' }, 'Int64'],
      [{ type: 'integer' }, 'Int32'],
      [{ type: 'short' }, 'Int16'],
      [{ type: 'byte' }, 'Int8'],
      [{ type: 'float' }, 'Float32'],
      [{ type: 'double' }, 'Float64'],
      [{ type: 'boolean' }, 'Bool'],
      [{ type: 'binary' }, 'Binary'],
      [{ type: 'date' }, 'Date32<DAY>'],
      [{ type: 'timestamp' }, 'Timestamp<MICROSECOND, UTC>'],
      [{ type: 'timestamp_ntz' }, 'Timestamp<MICROSECOND>'],
    ];
    for (const [t, s] of cases) expect(String(deltaTypeToArrow(t)), t.type).toBe(s);
    const ts = deltaTypeToArrow({ type: 'timestamp' }) as TimestampMicrosecond;
    expect(ts.timezone).toBe('UTC');
    expect((deltaTypeToArrow({ type: 'timestamp_ntz' }) as TimestampMicrosecond).timezone ?? null).toBeNull();
    const d = deltaTypeToArrow({ type: 'decimal', precision: 38, scale: 18 }) as Decimal;
    expect([d.precision, d.scale, d.bitWidth]).toEqual([38, 18, 128]);
  });

  it("names list elements 'element' and map entries 'entries' {key, value}", () => {
    const list = deltaTypeToArrow({
      type: 'array',
      elementType: { type: 'long' },
      containsNull: false,
    }) as List;
    expect(list.children[0]!.name).toBe('element');
    expect(list.children[0]!.nullable).toBe(false);
    const map = deltaTypeToArrow({
      type: 'map',
      keyType: { type: 'string' },
      valueType: { type: 'integer' },
      valueContainsNull: true,
    }) as Map_;
    const entries = map.children[0]!;
    expect(entries.name).toBe('entries');
    expect(entries.nullable).toBe(false);
    expect(entries.type.children.map((c: Field) => [c.name, c.nullable])).toEqual([
      ['key', false],
      ['value', true],
    ]);
    expect(map.keysSorted).toBe(false);
  });

  it('refuses variant', () => {
    const err = catchError(() =>
      deltaSchemaToArrow({ type: 'struct', fields: [f('v', { type: 'variant' })] }),
    );
    expect(err.code).toBe('UNSUPPORTED_TYPE');
    expect(err.message).toContain('field v');
  });

  it('stores strings as they are and other metadata JSON-encoded, listing the encoded keys', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [
        f('a', { type: 'long' }, false, {
          'delta.columnMapping.id': 7,
          'delta.columnMapping.physicalName': 'col-a',
          big: 2n ** 63n,
          j: '{"x":1}',
        }),
      ],
    };
    const field = deltaSchemaToArrow(schema).fields[0]!;
    expect(field.nullable).toBe(false);
    expect(Object.fromEntries(field.metadata)).toEqual({
      'delta.columnMapping.id': '7',
      'delta.columnMapping.physicalName': 'col-a',
      big: '9223372036854775808',
      j: '{"x":1}',
      [ARROW_JSON_METADATA_KEYS]: '["delta.columnMapping.id","big"]',
    });
    expect(arrowSchemaToDelta(deltaSchemaToArrow(schema))).toEqual(schema);
    const withIds = deltaSchemaToArrow(schema, { parquetFieldIds: true }).fields[0]!;
    expect(withIds.metadata.get(PARQUET_FIELD_ID_KEY)).toBe('7');
    // Parquet field ids are not Delta metadata: dropped on the way back.
    expect(arrowSchemaToDelta(deltaSchemaToArrow(schema, { parquetFieldIds: true }))).toEqual(schema);
  });
});

describe('Arrow -> Delta', () => {
  it('accepts large, view-less and other-unit variants', () => {
    const cases: [ConstructorParameters<typeof Field>[1], DataType][] = [
      [new LargeUtf8(), { type: 'string' }],
      [new LargeBinary(), { type: 'binary' }],
      [new FixedSizeBinary(16), { type: 'binary' }],
      [new DateMillisecond(), { type: 'date' }],
      [new TimestampNanosecond('Europe/Paris'), { type: 'timestamp' }],
      [new TimestampSecond(), { type: 'timestamp_ntz' }],
      [new TimestampNanosecond(), { type: 'timestamp_ntz' }],
      [new Decimal(2, 9, 64), { type: 'decimal', precision: 9, scale: 2 }],
      [new Dictionary(new Utf8(), new Int32()), { type: 'string' }],
      [
        new LargeList(new Field('item', new Int32(), false)),
        { type: 'array', elementType: { type: 'integer' }, containsNull: false },
      ],
    ];
    for (const [arrowType, delta] of cases)
      expect(arrowTypeToDelta(arrowType), String(arrowType)).toEqual(delta);
  });

  it('reads maps whatever the entries are called', () => {
    const entries = new Field(
      'key_value',
      new Struct([new Field('key', new Utf8(), false), new Field('value', new Bool(), false)]),
      false,
    );
    expect(arrowTypeToDelta(new Map_(entries))).toEqual({
      type: 'map',
      keyType: { type: 'string' },
      valueType: { type: 'boolean' },
      valueContainsNull: false,
    });
  });

  it('names the field and type it cannot map', () => {
    const schema = new Schema([
      new Field(
        's',
        new Struct([new Field('l', new List(new Field('element', new Uint8(), true)), true)]),
        true,
      ),
    ]);
    const err = catchError(() => arrowSchemaToDelta(schema));
    expect(err.code).toBe('UNSUPPORTED_TYPE');
    expect(err.message).toContain('field s.l.element');
    expect(err.details).toMatchObject({ field: 's.l.element', type: 'Uint8' });
    for (const t of [new Float16(), new TimeMicrosecond(), new Null(), new Decimal(0, 40, 256)]) {
      expect(catchError(() => arrowTypeToDelta(t, 'x')).code, String(t)).toBe('UNSUPPORTED_TYPE');
    }
  });

  it('keeps metadata that is not JSON-encoded as strings', () => {
    const schema = new Schema([
      new Field(
        'a',
        new Int64(),
        true,
        new Map([
          ['comment', '42'],
          [PARQUET_FIELD_ID_KEY, '3'],
        ]),
      ),
    ]);
    expect(arrowSchemaToDelta(schema)).toEqual({
      type: 'struct',
      fields: [f('a', { type: 'long' }, true, { comment: '42' })],
    });
  });
});

describe('reference schemas', () => {
  const schemas = allReferenceSchemas();

  it('convert to Arrow and back unchanged', () => {
    expect(schemas.length).toBeGreaterThan(30);
    for (const { table, schema } of schemas) {
      if (schema.fields.some((x) => JSON.stringify(x.type).includes('"variant"'))) continue;
      expect(arrowSchemaToDelta(deltaSchemaToArrow(schema)), table).toEqual(schema);
    }
  });

  it('survive Arrow IPC and a Parquet file written and read by parquet-wasm', () => {
    for (const table of [
      'golden-table-with-columnmapping-mode-name',
      'dat-nested_types',
      'golden-data-reader-map',
      'dat-all_primitive_types',
    ]) {
      const schema = latestSchema(table);
      const arrowSchema = deltaSchemaToArrow(schema);
      const empty = new Table(arrowSchema);
      const viaIpc = tableFromIPC(tableToIPC(empty, 'stream'));
      expect(arrowSchemaToDelta(viaIpc.schema), table).toEqual(schema);
      const parquet = parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(tableToIPC(empty, 'stream')));
      const back = tableFromIPC(parquetWasm.readParquet(parquet).intoIPCStream());
      expect(arrowSchemaToDelta(back.schema), table).toEqual(schema);
    }
  });

  it('match the Arrow schemas parquet-wasm reads from Spark-written data files', () => {
    for (const table of [
      'dat-nested_types',
      'golden-data-reader-map',
      'golden-data-reader-primitives',
      'golden-decimal-various-scale-precision',
    ]) {
      const schema = latestSchema(table);
      const fromFile = tableFromIPC(parquetWasm.readParquet(firstParquet(table)).intoIPCStream()).schema;
      expect(arrowSchemaToDelta(fromFile), table).toEqual(schema);
    }
  });

  it('a Spark-written map reads back with entries called entries', () => {
    const fromFile = tableFromIPC(
      parquetWasm.readParquet(firstParquet('golden-data-reader-map')).intoIPCStream(),
    ).schema;
    const map = fromFile.fields.find((x) => x.type.typeId === Type.Map)!;
    expect(map.type.children[0]!.name).toBe('entries');
  });
});
