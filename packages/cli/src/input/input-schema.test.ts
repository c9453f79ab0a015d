import { parseSchema, typeToString } from '@weir/delta';
import { describe, expect, it } from 'vitest';
import { extendSchema, resolveRecordSchema, typeCsvSamples } from './input-schema.js';
import { parseDdl } from './schema-arg.js';

const show = (s: ReturnType<typeof parseDdl>) => s.fields.map((f) => `${f.name}: ${typeToString(f.type)}`);

describe('typeCsvSamples', () => {
  it('types cells by their text and keeps disagreeing columns as text', () => {
    const rows = [
      { a: '1', b: 'true', c: '1.5', d: '12', e: null },
      { a: '-2', b: 'FALSE', c: '3', d: 'n/a', e: 'x' },
    ];
    expect(typeCsvSamples(rows, ['a', 'b', 'c', 'd', 'e'])).toEqual([
      { a: 1, b: true, c: 1.5, d: '12', e: null },
      { a: -2, b: false, c: 3, d: 'n/a', e: 'x' },
    ]);
    expect(typeCsvSamples([{ big: '123456789012345678901' }], ['big'])).toEqual([
      { big: 123456789012345678901n },
    ]);
  });
});

describe('extendSchema', () => {
  it('adds missing columns and nested struct fields, keeping the table types', () => {
    const base = parseDdl('id INT NOT NULL, addr STRUCT<city: STRING>');
    const extra = parseDdl('ID BIGINT, addr STRUCT<city: STRING, zip: BIGINT>, note STRING');
    const merged = extendSchema(base, extra);
    expect(show(merged)).toEqual(['id: integer', 'addr: struct<city:string,zip:long>', 'note: string']);
    expect(merged.fields[0]!.nullable).toBe(false);
    expect(extendSchema(base, parseDdl('id BIGINT'))).toBe(base);
  });
});

describe('resolveRecordSchema', () => {
  const table = parseSchema(
    '{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}',
  );
  const spec = {
    table: '/t',
    file: 'in.ndjson',
    tableSchema: undefined,
    schemaArg: undefined,
    inferSchema: false,
    mergeSchema: false,
    samples: async () => [{ id: 1, ts: '2024-05-01T00:00:00Z' }],
  };

  it('needs --schema or --infer-schema for a new table', async () => {
    await expect(resolveRecordSchema(spec)).rejects.toThrow(
      /\/t is not a Delta table; .*--schema .* or --infer-schema/,
    );
    expect(show(await resolveRecordSchema({ ...spec, inferSchema: true }))).toEqual([
      'id: long',
      'ts: timestamp',
    ]);
    await expect(
      resolveRecordSchema({ ...spec, inferSchema: true, samples: async () => [] }),
    ).rejects.toThrow(/no records to infer a schema from/);
  });

  it('uses the table schema, extended only with --merge-schema', async () => {
    expect(await resolveRecordSchema({ ...spec, tableSchema: table })).toBe(table);
    expect(show(await resolveRecordSchema({ ...spec, tableSchema: table, mergeSchema: true }))).toEqual([
      'id: long',
      'ts: timestamp',
    ]);
  });

  it('names the file when samples disagree', async () => {
    await expect(
      resolveRecordSchema({ ...spec, inferSchema: true, samples: async () => [{ a: 1 }, { a: 'x' }] }),
    ).rejects.toThrow(/in\.ndjson: cannot infer a schema: field a/);
  });
});
