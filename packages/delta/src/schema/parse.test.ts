import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { parseCommitFile } from '../actions/codec.js';
import { fieldAtPath, isPrimitive, parseSchema, serializeSchema, typesEqual, typeToString } from './parse.js';
import type { DataType, StructType } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_ROOT = path.resolve(here, '../../../../../shared/reference-tables');

/** Every schemaString in every reference log, with where it came from. */
function referenceSchemas(): { where: string; schemaString: string }[] {
  const out: { where: string; schemaString: string }[] = [];
  for (const table of readdirSync(REFERENCE_ROOT).sort()) {
    const dir = path.join(REFERENCE_ROOT, table, 'delta', '_delta_log');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => /^\d{20}\.json$/.test(f))) {
      const text = readFileSync(path.join(dir, file), 'utf8');
      for (const a of parseCommitFile(text, { file, version: Number(file.slice(0, 20)) })) {
        if ('metaData' in a) out.push({ where: `${table}/${file}`, schemaString: a.metaData.schemaString });
      }
    }
  }
  return out;
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

const field = (name: string, type: DataType, nullable = true, metadata: Record<string, unknown> = {}) => ({
  name,
  type,
  nullable,
  metadata,
});

describe('reference schemas', () => {
  const schemas = referenceSchemas();

  it('finds them', () => {
    expect(schemas.length).toBeGreaterThan(30);
  });

  it('parse, and serialize back to the same JSON text', () => {
    for (const { where, schemaString } of schemas) {
      const schema = parseSchema(schemaString, { file: where });
      const text = serializeSchema(schema);
      expect(JSON.parse(text), where).toEqual(JSON.parse(schemaString));
      expect(text, where).toBe(schemaString);
      expect(parseSchema(text)).toEqual(schema);
    }
  });

  it('reads the column mapping table: nested types, decimals and metadata', () => {
    const s = schemas.find((x) => x.where.startsWith('golden-table-with-columnmapping-mode-name'))!;
    const schema = parseSchema(s.schemaString);
    expect(schema.fields).toHaveLength(19);
    expect(fieldAtPath(schema, ['decimal'])?.type).toEqual({ type: 'decimal', precision: 10, scale: 2 });
    expect(fieldAtPath(schema, ['nested_struct', 'ac', 'aca'])).toEqual(
      field('aca', { type: 'integer' }, true, {
        'delta.columnMapping.id': 16,
        'delta.columnMapping.physicalName': 'col-47272f8f-d4ab-45e7-a6b8-09a5684bcd0b',
      }),
    );
    expect(typeToString(fieldAtPath(schema, ['map_of_arrays'])!.type)).toBe('map<long,array<integer>>');
    expect(typeToString(fieldAtPath(schema, ['array_of_structs'])!.type)).toBe('array<struct<ab:long>>');
  });
});

describe('parseSchema', () => {
  it('reads every primitive, decimals, and nested types', () => {
    const text = JSON.stringify({
      type: 'struct',
      fields: [
        ...[
          'string',
          'long',
          'integer',
          'short',
          'byte',
          'float',
          'double',
          'boolean',
          'binary',
          'date',
          'timestamp',
          'timestamp_ntz',
        ].map((t) => ({ name: `c_${t}`, type: t, nullable: true, metadata: {} })),
        { name: 'd', type: 'decimal(38, 18)', nullable: false, metadata: { comment: 'x' } },
        { name: 'd0', type: 'decimal', nullable: true },
        {
          name: 'm',
          type: {
            type: 'map',
            keyType: 'string',
            valueType: { type: 'array', elementType: 'long', containsNull: false },
            valueContainsNull: true,
          },
          nullable: true,
          metadata: {},
        },
      ],
    });
    const s = parseSchema(text);
    expect(s.fields).toHaveLength(15);
    expect(s.fields[12]).toEqual(
      field('d', { type: 'decimal', precision: 38, scale: 18 }, false, { comment: 'x' }),
    );
    expect(s.fields[13]).toEqual(field('d0', { type: 'decimal', precision: 10, scale: 0 }));
    expect(s.fields[14]!.type).toEqual({
      type: 'map',
      keyType: { type: 'string' },
      valueType: { type: 'array', elementType: { type: 'long' }, containsNull: false },
      valueContainsNull: true,
    });
    // Missing metadata is written back as {}.
    expect(serializeSchema(s)).toContain(
      '{"name":"d0","type":"decimal(10,0)","nullable":true,"metadata":{}}',
    );
  });

  it('keeps metadata exactly, including longs beyond 2^53 and JSON-looking strings', () => {
    const text =
      '{"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":' +
      '{"delta.identity.start":1,"delta.identity.highWaterMark":9223372036854775807,"delta.identity.allowExplicitInsert":false,' +
      '"delta.invariants":"{\\"expression\\":{\\"expression\\":\\"id > 3\\"}}","nested":{"a":[1,2]}}}]}';
    const s = parseSchema(text);
    expect(s.fields[0]!.metadata['delta.identity.highWaterMark']).toBe(9223372036854775807n);
    expect(typeof s.fields[0]!.metadata['delta.invariants']).toBe('string');
    expect(serializeSchema(s)).toBe(text);
  });

  it('names the field path and type of an unsupported type', () => {
    const text = JSON.stringify({
      type: 'struct',
      fields: [
        {
          name: 'a',
          type: {
            type: 'array',
            elementType: {
              type: 'struct',
              fields: [{ name: 'b', type: 'void', nullable: true, metadata: {} }],
            },
            containsNull: true,
          },
          nullable: true,
          metadata: {},
        },
      ],
    });
    const err = catchError(() => parseSchema(text, { table: 's3://t', version: 4 }));
    expect(err.code).toBe('UNSUPPORTED_TYPE');
    expect(err.message).toBe("s3://t version 4: field a.element.b: type 'void' is not supported");
    expect(err.details).toMatchObject({ field: 'a.element.b', type: 'void', table: 's3://t', version: 4 });
    const udt =
      '{"type":"struct","fields":[{"name":"u","type":{"type":"udt","class":"x"},"nullable":true,"metadata":{}}]}';
    expect(catchError(() => parseSchema(udt)).code).toBe('UNSUPPORTED_TYPE');
    const bigDecimal =
      '{"type":"struct","fields":[{"name":"d","type":"decimal(39,0)","nullable":true,"metadata":{}}]}';
    expect(catchError(() => parseSchema(bigDecimal)).code).toBe('UNSUPPORTED_TYPE');
    const negScale =
      '{"type":"struct","fields":[{"name":"d","type":"decimal(5,-1)","nullable":true,"metadata":{}}]}';
    expect(catchError(() => parseSchema(negScale)).code).toBe('UNSUPPORTED_TYPE');
  });

  it('rejects malformed schemas with INVALID_SCHEMA', () => {
    const cases = [
      'not json',
      '"string"',
      '{"type":"array","elementType":"long","containsNull":true}',
      '{"type":"struct"}',
      '{"type":"struct","fields":[{"name":"a","type":"long"}]}',
      '{"type":"struct","fields":[{"type":"long","nullable":true}]}',
      '{"type":"struct","fields":[{"name":"a","type":{"type":"array","elementType":"long"},"nullable":true}]}',
      '{"type":"struct","fields":[{"name":"a","type":7,"nullable":true}]}',
      '{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":[]}]}',
    ];
    for (const text of cases) {
      expect(catchError(() => parseSchema(text)).code, text).toBe('INVALID_SCHEMA');
    }
    expect(
      catchError(() => parseSchema('{"type":"struct","fields":[{"name":"a","type":"long"}]}')).message,
    ).toContain("field a: 'nullable' must be a boolean");
  });
});

describe('helpers', () => {
  const schema: StructType = {
    type: 'struct',
    fields: [
      field('Id', { type: 'long' }, false),
      field('s', { type: 'struct', fields: [field('Inner', { type: 'decimal', precision: 5, scale: 2 })] }),
      field('a', { type: 'array', elementType: { type: 'string' }, containsNull: true }),
    ],
  };

  it('typeToString', () => {
    expect(typeToString(schema)).toBe('struct<Id:long,s:struct<Inner:decimal(5,2)>,a:array<string>>');
    expect(
      typeToString({
        type: 'map',
        keyType: { type: 'string' },
        valueType: { type: 'timestamp_ntz' },
        valueContainsNull: true,
      }),
    ).toBe('map<string,timestamp_ntz>');
  });

  it('isPrimitive', () => {
    expect(isPrimitive({ type: 'long' })).toBe(true);
    expect(isPrimitive({ type: 'decimal', precision: 1, scale: 0 })).toBe(true);
    expect(isPrimitive(schema)).toBe(false);
    expect(isPrimitive(schema.fields[2]!.type)).toBe(false);
  });

  it('fieldAtPath matches exactly first, then case-insensitively', () => {
    expect(fieldAtPath(schema, ['s', 'Inner'])?.name).toBe('Inner');
    expect(fieldAtPath(schema, ['S', 'inner'])?.name).toBe('Inner');
    expect(fieldAtPath(schema, ['id'])?.name).toBe('Id');
    expect(fieldAtPath(schema, ['a', 'element'])).toBeUndefined();
    expect(fieldAtPath(schema, ['nope'])).toBeUndefined();
    expect(fieldAtPath(schema, [])).toBeUndefined();
  });

  it('typesEqual compares names, types and nullability; metadata only when asked', () => {
    const copy = parseSchema(serializeSchema(schema));
    expect(typesEqual(schema, copy)).toBe(true);
    const nullable: StructType = {
      ...schema,
      fields: [{ ...schema.fields[0]!, nullable: true }, ...schema.fields.slice(1)],
    };
    expect(typesEqual(schema, nullable)).toBe(false);
    expect(typesEqual(schema, nullable, { ignoreNullability: true })).toBe(true);
    const withMeta: StructType = {
      ...schema,
      fields: [{ ...schema.fields[0]!, metadata: { c: 1 } }, ...schema.fields.slice(1)],
    };
    expect(typesEqual(schema, withMeta)).toBe(true);
    expect(typesEqual(schema, withMeta, { compareMetadata: true })).toBe(false);
    expect(
      typesEqual({ type: 'decimal', precision: 5, scale: 2 }, { type: 'decimal', precision: 5, scale: 1 }),
    ).toBe(false);
    expect(typesEqual({ type: 'timestamp' }, { type: 'timestamp_ntz' })).toBe(false);
  });
});
