import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeirError } from '@weir/storage';
import { type Field, Type, tableFromIPC } from 'apache-arrow';
import * as parquetWasm from 'parquet-wasm/esm';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommitFile, parseStats } from '../actions/codec.js';
import type { AddAction, MetadataAction, ProtocolAction } from '../actions/types.js';
import { PARQUET_FIELD_ID_KEY } from './arrow.js';
import {
  columnMappingId,
  columnMappingMode,
  physicalName,
  physicalPath,
  physicalSchema,
  protocolSupportsColumnMapping,
} from './column-mapping.js';
import { parseSchema } from './parse.js';
import type { DataType, StructField, StructType } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TABLE = path.resolve(
  here,
  '../../../../../shared/reference-tables/golden-table-with-columnmapping-mode-name/delta',
);

function loadTable(): { metaData: MetadataAction; protocol: ProtocolAction; adds: AddAction[] } {
  const text = readFileSync(path.join(TABLE, '_delta_log', '00000000000000000000.json'), 'utf8');
  const actions = parseCommitFile(text, { file: '00000000000000000000.json', version: 0 });
  const metaData = actions.flatMap((a) => ('metaData' in a ? [a.metaData] : []))[0]!;
  const protocol = actions.flatMap((a) => ('protocol' in a ? [a.protocol] : []))[0]!;
  return { metaData, protocol, adds: actions.flatMap((a) => ('add' in a ? [a.add] : [])) };
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

/** Field names at every struct level of a Delta type, as a nested list. */
function deltaNames(t: DataType): unknown {
  switch (t.type) {
    case 'struct':
      return t.fields.map((f) => [f.name, deltaNames(f.type)]);
    case 'array':
      return deltaNames(t.elementType);
    case 'map':
      return [deltaNames(t.keyType), deltaNames(t.valueType)];
    default:
      return null;
  }
}

/** The same shape from an Arrow field's type. */
function arrowNames(f: Field): unknown {
  const t = f.type;
  if (t.typeId === Type.Struct) return (t.children as Field[]).map((c) => [c.name, arrowNames(c)]);
  if (t.typeId === Type.List) return arrowNames(t.children[0]!);
  if (t.typeId === Type.Map) {
    const [k, v] = t.children[0]!.type.children as Field[];
    return [arrowNames(k!), arrowNames(v!)];
  }
  return null;
}

beforeAll(() => {
  const require = createRequire(import.meta.url);
  parquetWasm.initSync({ module: readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });
});

const field = (name: string, type: DataType, metadata: Record<string, unknown> = {}): StructField => ({
  name,
  type,
  nullable: true,
  metadata,
});
const mapped = (name: string, id: number, type: DataType = { type: 'long' }) =>
  field(name, type, { 'delta.columnMapping.id': id, 'delta.columnMapping.physicalName': `col-${id}` });

describe('columnMappingMode', () => {
  it('reads the table property', () => {
    expect(columnMappingMode({})).toBe('none');
    expect(columnMappingMode({ 'delta.columnMapping.mode': 'none' })).toBe('none');
    expect(columnMappingMode({ 'delta.columnMapping.mode': 'name' })).toBe('name');
    expect(columnMappingMode({ 'delta.columnMapping.mode': 'ID' })).toBe('id');
    const err = catchError(() => columnMappingMode({ 'delta.columnMapping.mode': 'guid' }));
    expect(err.code).toBe('UNSUPPORTED_FEATURE');
    expect(err.message).toContain("'guid'");
  });

  it('honors the property only when the protocol supports column mapping', () => {
    const name = { 'delta.columnMapping.mode': 'name' };
    expect(columnMappingMode(name, { minReaderVersion: 1, minWriterVersion: 2 })).toBe('none');
    expect(columnMappingMode(name, { minReaderVersion: 2, minWriterVersion: 5 })).toBe('name');
    expect(
      columnMappingMode(name, {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['deletionVectors'],
        writerFeatures: [],
      }),
    ).toBe('none');
    expect(
      columnMappingMode(name, {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ['columnMapping'],
        writerFeatures: ['columnMapping'],
      }),
    ).toBe('name');
    expect(protocolSupportsColumnMapping({ minReaderVersion: 2, minWriterVersion: 5 })).toBe(true);
  });
});

describe('physicalSchema', () => {
  const logical: StructType = {
    type: 'struct',
    fields: [
      mapped('a', 1),
      mapped('s', 2, { type: 'struct', fields: [mapped('x', 3)] }),
      mapped('arr', 4, {
        type: 'array',
        elementType: { type: 'struct', fields: [mapped('y', 5)] },
        containsNull: true,
      }),
      mapped('m', 6, {
        type: 'map',
        keyType: { type: 'struct', fields: [mapped('k', 7)] },
        valueType: { type: 'struct', fields: [mapped('v', 8)] },
        valueContainsNull: false,
      }),
    ],
  };

  it('is the logical schema itself in mode none', () => {
    expect(physicalSchema(logical, 'none')).toBe(logical);
  });

  it('renames every level, keeping shape, types, nullability and metadata', () => {
    for (const mode of ['name', 'id'] as const) {
      const p = physicalSchema(logical, mode);
      expect(deltaNames(p)).toEqual([
        ['col-1', null],
        ['col-2', [['col-3', null]]],
        ['col-4', [['col-5', null]]],
        ['col-6', [[['col-7', null]], [['col-8', null]]]],
      ]);
      expect(p.fields[3]!.metadata).toEqual(logical.fields[3]!.metadata);
      expect(p.fields[3]!.type).toMatchObject({ valueContainsNull: false });
    }
  });

  it('refuses a field without a physical name, naming its path', () => {
    const bad: StructType = {
      type: 'struct',
      fields: [mapped('s', 1, { type: 'struct', fields: [field('nope', { type: 'long' })] })],
    };
    const err = catchError(() => physicalSchema(bad, 'name'));
    expect(err.code).toBe('INVALID_SCHEMA');
    expect(err.message).toContain('field s.nope');
    expect(physicalName(field('nope', { type: 'long' }), 'none')).toBe('nope');
  });

  it('exposes ids and physical paths', () => {
    expect(columnMappingId(logical.fields[0]!)).toBe(1);
    expect(columnMappingId(field('z', { type: 'long' }))).toBeUndefined();
    expect(physicalPath(logical, ['s', 'x'], 'name')).toEqual(['col-2', 'col-3']);
    expect(physicalPath(logical, ['s', 'x'], 'none')).toEqual(['s', 'x']);
    expect(physicalPath(logical, ['s', 'q'], 'name')).toBeUndefined();
    expect(physicalPath(logical, ['a', 'b'], 'name')).toBeUndefined();
  });
});

describe('golden-table-with-columnmapping-mode-name', () => {
  const { metaData, protocol, adds } = loadTable();
  const logical = parseSchema(metaData.schemaString);
  const mode = columnMappingMode(metaData.configuration, protocol);

  it('is in name mode', () => {
    expect(mode).toBe('name');
  });

  it('physical names are the column names of the data files, at every level', () => {
    const p = physicalSchema(logical, mode);
    for (const file of readdirSync(TABLE).filter((f) => f.endsWith('.parquet'))) {
      const bytes = new Uint8Array(readFileSync(path.join(TABLE, file)));
      const arrowSchema = tableFromIPC(parquetWasm.readParquet(bytes).intoIPCStream()).schema;
      expect(arrowSchema.fields.map((f) => [f.name, arrowNames(f)])).toEqual(deltaNames(p));
      // Spark wrote the column mapping ids as Parquet field ids.
      arrowSchema.fields.forEach((f, i) => {
        expect(f.metadata.get(PARQUET_FIELD_ID_KEY)).toBe(String(columnMappingId(logical.fields[i]!)));
      });
    }
  });

  it('stats are keyed by physical names, nested like the schema', () => {
    const stats = parseStats(adds[0]!.stats)!;
    const p = physicalSchema(logical, mode);
    const top = new Set(p.fields.map((f) => f.name));
    for (const key of Object.keys(stats.nullCount!)) expect(top.has(key), key).toBe(true);
    const path = physicalPath(logical, ['nested_struct', 'ac', 'aca'], mode)!;
    let v: unknown = stats.minValues;
    for (const k of path) v = (v as Record<string, unknown>)[k];
    expect(v).toBe(1);
  });
});
