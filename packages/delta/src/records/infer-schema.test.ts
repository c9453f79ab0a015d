import { describe, expect, it } from 'vitest';
import { batchToJsonRows } from '../scan/json-rows.js';
import { typeToString } from '../schema/parse.js';
import type { StructType } from '../schema/types.js';
import { inferSchema } from './infer-schema.js';
import { RecordBatchBuilder } from './record-batch-builder.js';

const shape = (s: StructType) => typeToString(s);

/** The inferred schema must take every sample. */
function acceptsAll(records: unknown[], options: Parameters<typeof inferSchema>[1] = {}): StructType {
  const schema = inferSchema(records, options);
  const b = new RecordBatchBuilder(schema);
  for (const r of records) b.append(r);
  expect(b.flush().numRows).toBe(records.length);
  expect(schema.fields.every((f) => f.nullable)).toBe(true);
  return schema;
}

describe('inferSchema', () => {
  it('infers scalars', () => {
    const s = acceptsAll([
      { id: 1, price: 1.5, name: 'a', ok: true, at: '2024-01-01T00:00:00Z', nothing: null, big: 2n ** 40n },
      { id: 2, price: 2, name: 'b', ok: false, at: '2024-01-02T00:00:00Z', nothing: null, big: 3 },
    ]);
    expect(shape(s)).toBe(
      'struct<id:long,price:double,name:string,ok:boolean,at:string,nothing:string,big:long>',
    );
  });

  it('infers double when any number is not a safe integer', () => {
    expect(shape(acceptsAll([{ n: 1 }, { n: 2 ** 53 }]))).toBe('struct<n:double>');
    expect(shape(acceptsAll([{ n: 1 }, { n: Number.NaN }]))).toBe('struct<n:double>');
    expect(shape(acceptsAll([{ n: 1n }, { n: 0.5 }]))).toBe('struct<n:double>');
  });

  it('infers decimal(38,0) for bigints beyond long', () => {
    expect(shape(acceptsAll([{ n: 2n ** 64n }, { n: 1 }]))).toBe('struct<n:decimal(38,0)>');
    expect(() => inferSchema([{ n: 10n ** 38n }])).toThrow(
      expect.objectContaining({ code: 'SCHEMA_INFERENCE_CONFLICT' }),
    );
  });

  it('detects ISO-8601 timestamps and dates on request', () => {
    const records = [
      {
        at: '2024-01-01T00:00:00Z',
        day: '2024-01-01',
        mixed: '2024-01-01',
        text: '2024-01-01',
        when: new Date(0),
      },
      {
        at: '2024-01-01 10:00:00.5',
        day: '2024-02-29',
        mixed: '2024-01-01T10:00:00+02:00',
        text: 'soon',
        when: '2024-01-01T00:00:00Z',
      },
    ];
    const s = acceptsAll(records, { detectTimestamps: true });
    expect(shape(s)).toBe('struct<at:timestamp,day:date,mixed:timestamp,text:string,when:timestamp>');
    const rows = (() => {
      const b = new RecordBatchBuilder(s);
      for (const r of records) b.append(r);
      return batchToJsonRows(b.flush());
    })();
    expect(rows[1]).toMatchObject({
      at: '2024-01-01T10:00:00.500000Z',
      day: '2024-02-29',
      mixed: '2024-01-01T08:00:00.000000Z',
    });
    expect(shape(acceptsAll([{ at: '2024-01-01T00:00:00Z' }]))).toBe('struct<at:string>');
    expect(() => inferSchema([{ when: new Date(0) }, { when: 'x' }], { detectTimestamps: true })).toThrow(
      expect.objectContaining({ code: 'SCHEMA_INFERENCE_CONFLICT' }),
    );
  });

  it('merges object keys across samples in order of first appearance', () => {
    const s = acceptsAll([
      { user: { id: 1, name: 'a' } },
      { user: { id: 2, email: 'x@y' }, extra: true },
      { user: null },
      {},
    ]);
    expect(shape(s)).toBe('struct<user:struct<id:long,name:string,email:string>,extra:boolean>');
  });

  it('infers arrays of the merged element type', () => {
    const s = acceptsAll([
      { tags: ['a'], pts: [{ x: 1 }], nums: [1, 2.5], empty: [], nested: [[1], [], null] },
      { tags: [], pts: [{ y: 'z' }, null], nums: null, empty: [], nested: [[2, null]] },
    ]);
    expect(shape(s)).toBe(
      'struct<tags:array<string>,pts:array<struct<x:long,y:string>>,nums:array<double>,empty:array<string>,nested:array<array<long>>>',
    );
    const tags = s.fields[0]!.type;
    expect(tags).toEqual({ type: 'array', elementType: { type: 'string' }, containsNull: true });
  });

  it('infers binary from bytes and map<string,string> from always-empty objects', () => {
    expect(shape(acceptsAll([{ b: new Uint8Array([1]) }, { b: null }]))).toBe('struct<b:binary>');
    expect(shape(acceptsAll([{ meta: {} }, { meta: {} }]))).toBe('struct<meta:map<string,string>>');
  });

  it('refuses conflicting kinds, naming the field and the records', () => {
    let err: unknown;
    try {
      inferSchema([{ a: { b: 1 } }, { a: { b: 2 } }, { a: { b: 'x' } }]);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'SCHEMA_INFERENCE_CONFLICT',
      details: { field: 'a.b', kinds: ['number', 'string'], records: { number: 0, string: 2 } },
    });
    expect(String(err)).toMatch(
      /field a\.b: conflicting kinds of values: the samples hold number \(record 0\), string \(record 2\)/,
    );
    for (const records of [
      [{ a: 1 }, { a: true }],
      [{ a: {} }, { a: [] }],
      [{ a: [1] }, { a: 1 }],
      [{ a: ['x', 1] }],
      [{ a: 'x' }, { a: new Uint8Array() }],
    ])
      expect(() => inferSchema(records)).toThrow(
        expect.objectContaining({ code: 'SCHEMA_INFERENCE_CONFLICT' }),
      );
  });

  it('refuses samples that are not objects or hold values with no Delta type', () => {
    expect(() => inferSchema([{}, 'x'])).toThrow(
      expect.objectContaining({
        code: 'INVALID_RECORD',
        details: expect.objectContaining({ recordIndex: 1 }),
      }),
    );
    expect(() => inferSchema([{ f: () => 1 }])).toThrow(expect.objectContaining({ code: 'INVALID_RECORD' }));
    expect(() => inferSchema([{ m: new Map() }])).toThrow(
      expect.objectContaining({ code: 'INVALID_RECORD' }),
    );
  });

  it('gives an empty struct for no samples', () => {
    expect(inferSchema([])).toEqual({ type: 'struct', fields: [] });
  });

  it('infers from NDJSON-like samples that the builder then takes', () => {
    const lines = [
      '{"event":"click","ts":"2024-05-01T10:00:00.123Z","user":{"id":17,"tags":["a","b"]},"amount":12.5}',
      '{"event":"view","ts":"2024-05-01T10:00:01Z","user":{"id":18,"tags":[]},"amount":3,"ref":null}',
      '{"event":"buy","ts":"2024-05-01T10:00:02+02:00","user":{"id":19},"amount":null,"ref":"mail"}',
    ];
    const records = lines.map((l) => JSON.parse(l) as unknown);
    const s = acceptsAll(records, { detectTimestamps: true });
    expect(shape(s)).toBe(
      'struct<event:string,ts:timestamp,user:struct<id:long,tags:array<string>>,amount:double,ref:string>',
    );
  });
});
