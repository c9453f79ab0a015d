import { type RecordBatch, Table, tableToIPC } from 'apache-arrow';
import { describe, expect, it, vi } from 'vitest';
import type { DataType, StructField, StructType } from '../schema/types.js';
import { TimestampBuilder } from './fixed-width-builders.js';
import { RecordBatchBuilder, type RecordBatchBuilderOptions } from './record-batch-builder.js';

const f = (name: string, type: DataType, nullable = true): StructField => ({
  name,
  type,
  nullable,
  metadata: {},
});

const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    f('id', { type: 'long' }, false),
    f('n', { type: 'integer' }),
    f('x', { type: 'double' }),
    f('r', { type: 'float' }),
    f('amount', { type: 'decimal', precision: 12, scale: 2 }),
    f('big', { type: 'decimal', precision: 30, scale: 4 }),
    f('s', { type: 'string' }),
    f('é', { type: 'string' }),
    f('ok', { type: 'boolean' }),
    f('ts', { type: 'timestamp' }),
    f('day', { type: 'date' }),
    f('bin', { type: 'binary' }),
    f('point', {
      type: 'struct',
      fields: [f('a', { type: 'double' }), f('b', { type: 'string' })],
    }),
    f('tags', { type: 'array', elementType: { type: 'integer' }, containsNull: true }),
    f('attrs', {
      type: 'map',
      keyType: { type: 'string' },
      valueType: { type: 'long' },
      valueContainsNull: true,
    }),
    f('constructor', { type: 'string' }),
  ],
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

type Outcome = { taken: boolean } | { error: string };

/** The slow path every caller falls back to: decode, JSON.parse, assign `set`, append. */
function slowAppend(b: RecordBatchBuilder, bytes: Uint8Array, set?: Record<string, unknown>): Outcome {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return { error: 'unparsable' };
  }
  if (set !== undefined && value !== null && typeof value === 'object') Object.assign(value, set);
  try {
    b.append(value);
    return { taken: false };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { error: `${e.code}: ${e.message}` };
  }
}

function ipc(batch: RecordBatch): Uint8Array {
  return tableToIPC(new Table([batch]), 'stream');
}

/** Both paths over the same inputs: the same outcomes and byte-identical batches. */
function compare(
  inputs: readonly Uint8Array[],
  options: RecordBatchBuilderOptions = {},
  set?: (i: number) => Record<string, unknown> | undefined,
  schema: StructType = SCHEMA,
): { fast: number; outcomes: Outcome[] } {
  const fastBuilder = new RecordBatchBuilder(schema, options);
  const slowBuilder = new RecordBatchBuilder(schema, options);
  let fast = 0;
  const outcomes: Outcome[] = [];
  inputs.forEach((bytes, i) => {
    const extra = set?.(i);
    const expected = slowAppend(slowBuilder, bytes, extra);
    let got: Outcome;
    if (fastBuilder.tryAppendJson(bytes, 0, bytes.length, extra)) {
      fast++;
      got = { taken: false };
    } else got = slowAppend(fastBuilder, bytes, extra);
    expect(got, `record ${i}: ${Buffer.from(bytes).toString('latin1')}`).toEqual(expected);
    outcomes.push(got);
    expect(fastBuilder.numRows).toBe(slowBuilder.numRows);
  });
  expect(ipc(fastBuilder.flush())).toEqual(ipc(slowBuilder.flush()));
  return { fast, outcomes };
}

const bytesOf = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** A deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBER_TEXTS = [
  '0',
  '-0',
  '1',
  '-1',
  '42',
  '1.5',
  '-0.0',
  '12.30',
  '0.1',
  '0.000123',
  '123456789012345',
  '1234567890123456',
  '9007199254740993',
  '1e3',
  '1E-7',
  '2.5e+2',
  '-1.25e-5',
  '1e400',
  '0.30000000000000004',
  '3.14159265358979323846',
  '0.00000000000000000000001',
  '99999999999.99',
  '100000000000',
  '1.005',
  '17976931348623157e292',
  '5e-324',
  '787925859526488.71',
  '5.7937969788920883',
  '718237.16741914317',
  '12.345',
  '2147483647',
  '2147483648',
  '-2147483649',
];
const STRING_TEXTS = [
  '""',
  '"abc"',
  '"merchant_123"',
  '"caf\u00e9"',
  '"\\u00e9t\\u00e9"',
  '"tab\\there"',
  '"quote\\"d"',
  '"\\ud83d\\ude00"',
  '"\ud83d\ude00 emoji"',
  '"\\ud800"',
  '"2024-01-02T03:04:05.123456Z"',
  '"2024-01-02 03:04:05"',
  '"2024-02-30"',
  '"2024-03-01"',
  '"2024-01-02T03:04:05+05:30"',
  '"42"',
  '" 42 "',
  '"NaN"',
  '"true"',
  '"aGVsbG8="',
  '"12.34"',
  '"1e5"',
  '"slash\\/"',
  '"\\b\\f\\n\\r"',
  `"${'x'.repeat(80)}"`,
  `"${'y'.repeat(40)}\u00fc"`,
];
const OTHER_TEXTS = [
  'true',
  'false',
  'null',
  '{}',
  '[]',
  '[1,2,null]',
  '[1, "2", 3.5]',
  '{"a":1.5,"b":"x"}',
  '{"a":"nope"}',
  '{"a":1,"c":2}',
  '{"k":1,"\\u006b2":null}',
  '{"k":"v"}',
  '[[1]]',
  '{"a":{"deep":[1,{"x":null}]}}',
  '[104,105]',
];
const ALL_VALUES = [...NUMBER_TEXTS, ...STRING_TEXTS, ...OTHER_TEXTS];
const KEYS = [...SCHEMA.fields.map((x) => x.name), 'unknown', 'toString', '__proto__', 'i\\u0064'];
const WS = ['', ' ', '\n', '\t', '\r\n  '];

function randomRecord(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const ws = () => (rand() < 0.8 ? '' : pick(WS));
  const entries: string[] = [];
  if (rand() < 0.95) entries.push(`"id":${Math.floor(rand() * 1e6)}`);
  const n = Math.floor(rand() * 8);
  for (let k = 0; k < n; k++) entries.push(`${ws()}"${pick(KEYS)}"${ws()}:${ws()}${pick(ALL_VALUES)}${ws()}`);
  for (let k = entries.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [entries[k], entries[j]] = [entries[j]!, entries[k]!];
  }
  return `${ws()}{${entries.join(',')}}${ws()}`;
}

/** A record with one random byte changed, removed or inserted (mostly invalid JSON). */
function mutate(text: string, rand: () => number): Uint8Array {
  const b = Buffer.from(text, 'utf8');
  const at = Math.floor(rand() * b.length);
  const noise = [
    0x22, 0x5c, 0x2c, 0x7d, 0x7b, 0x3a, 0x30, 0x2e, 0x65, 0x2d, 0x00, 0x0a, 0xff, 0xc3, 0x80, 0x20,
  ];
  const byte = noise[Math.floor(rand() * noise.length)]!;
  const r = rand();
  if (r < 0.4) {
    b[at] = byte;
    return b;
  }
  if (r < 0.7) return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  return Buffer.concat([b.subarray(0, at), Buffer.from([byte]), b.subarray(at)]);
}

describe('RecordBatchBuilder.tryAppendJson', () => {
  it('takes plain records on the fast path with the same rows as append(JSON.parse(text))', () => {
    const lines = [
      '{"id":1,"n":7,"x":1.5,"r":0.1,"amount":12.30,"big":123456789.1234,"s":"abc","é":"ü","ok":true,' +
        '"ts":"2024-01-02T03:04:05.123456Z","day":"2024-03-01","bin":"aGVsbG8=","point":{"a":1,"b":"q"},' +
        '"tags":[1,null,3],"attrs":{"k":5},"constructor":"c"}',
      '{"id":2}',
      ' { "id" : 3 , "s" : null , "x" : -0 } ',
      '{"s":"tail","id":4,"x":1e-7,"n":-2147483648}',
    ];
    const { fast } = compare(lines.map(bytesOf));
    expect(fast).toBe(lines.length);
  });

  it('gives the same results as the slow path on 20,000 random records, valid and mutated', () => {
    for (const ignoreUnknownFields of [false, true]) {
      const rand = prng(ignoreUnknownFields ? 7 : 11);
      const inputs: Uint8Array[] = [];
      for (let i = 0; i < 10_000; i++) {
        const text = randomRecord(rand);
        inputs.push(rand() < 0.25 ? mutate(text, rand) : bytesOf(text));
      }
      const { fast, outcomes } = compare(inputs, { ignoreUnknownFields, table: 't' });
      // The fast path must actually take the records it can (a decoder that refuses
      // everything would also "agree"), and the mix must hold rows and errors alike.
      const rows = outcomes.filter((o) => 'taken' in o).length;
      expect(fast).toBeGreaterThan(rows * 0.6);
      expect(outcomes.length - rows).toBeGreaterThan(1000);
    }
  });

  it('reads timestamp texts in place with the results and errors of append', () => {
    const schema: StructType = {
      type: 'struct',
      fields: [f('ts', { type: 'timestamp' }), f('wall', { type: 'timestamp_ntz' })],
    };
    const inPlace = [
      '2024-01-02T03:04:05.123456Z',
      '2024-01-02t03:04:05z',
      '2024-01-02 03:04:05.1+05:30',
      '1969-12-31T23:59:59.999999999-08:00',
      '2024-02-29T00:00:00Z',
    ];
    const elsewhere = [
      '2024-01-02', // a date: midnight UTC, by the full parser
      '2024-01-02T03:04:05.1234567890Z', // ten fraction digits
      '2023-02-29T00:00:00Z', // no such day
      '2024-13-01T00:00:00Z',
      '2024-01-02T24:00:00Z',
      '2024-01-02T03:04:05+5:30',
      '99999-01-01T00:00:00Z',
      'soon',
      '',
    ];
    const lines = [
      ...inPlace.map((t) => `{"ts":"${t}","wall":"${t.replace(/[zZ]$|[+-]\d\d:\d\d$/, '')}"}`),
      ...elsewhere.map((t) => `{"ts":"${t}"}`),
      // A zone is an error for timestamp_ntz, whichever path reads it.
      '{"wall":"2024-01-02T03:04:05Z"}',
      '{"wall":"2024-01-02T03:04:05+01:00"}',
    ];
    const slowCalls = vi.spyOn(TimestampBuilder.prototype, 'appendValue');
    try {
      const { outcomes } = compare(lines.map(bytesOf), {}, undefined, schema);
      expect(outcomes.filter((o) => 'error' in o).length).toBeGreaterThan(5);
      // The fast path ran append's coercion only for the texts outside the ISO forms it reads
      // (twice for a refused record: once by the fast path, once by the fallback), never for
      // the in-place ones.
      const seen = slowCalls.mock.calls.map((c) => c[0]);
      for (const t of inPlace) expect(seen.filter((v) => v === t)).toHaveLength(1);
      for (const t of elsewhere) expect(seen.filter((v) => v === t).length).toBeGreaterThanOrEqual(2);
    } finally {
      slowCalls.mockRestore();
    }
  });

  it('matches keys in place only when they are exactly the expected name', () => {
    // Names that prefix each other, and names that a key can only spell with escapes.
    const schema: StructType = {
      type: 'struct',
      fields: [
        f('i', { type: 'long' }),
        f('id', { type: 'long' }),
        f('a"b', { type: 'string' }),
        f('c\\d', { type: 'string' }),
        f('tab\tname', { type: 'string' }),
      ],
    };
    const lines = [
      '{"i":1,"id":2}',
      '{"id":2,"i":1}',
      '{"i":1,"i\\u0064":5}', // "id" spelled with an escape
      '{"i\\u0064":5,"i":1}',
      '{"a\\"b":"x","c\\\\d":"y","tab\\tname":"z"}',
      '{"i":1,"idx":3}', // "id" followed by more characters: an unknown field
      '{"i":1,"id":2,"id":3}',
      '{"i":1,"i":2}',
      '{"i":1,"i',
      // Invalid JSON whose raw key bytes equal a name: must not be taken in place.
      '{"id":1,"a"b":"x"}',
      '{"a\\"b":"x","c\\d":"y"}',
      '{"a\\"b":"x","c\\\\d":"y","tab\tname":"z"}',
    ];
    for (const ignoreUnknownFields of [false, true]) {
      const { fast, outcomes } = compare(lines.map(bytesOf), { ignoreUnknownFields }, undefined, schema);
      expect(outcomes.slice(0, 5).every((o) => 'taken' in o)).toBe(true);
      expect(fast).toBeGreaterThanOrEqual(5);
    }
  });

  it('refuses what it does not settle, leaving the builder unchanged', () => {
    const b = new RecordBatchBuilder(SCHEMA);
    const refused = [
      '\ufeff{"id":1}', // a byte-order mark
      '{"id":1,"id":2}', // a duplicate key: JSON.parse keeps the last
      '{"id":1,"zzz":2}', // unknown field, unknown fields are errors
      '{"id":1,"n":1.5}', // a value the column refuses
      '{"id":1}x', // trailing bytes
      '{"id":1,"s":"\\x"}', // a bad escape
      '[1]',
      '{"n":1}', // a missing non-nullable field
      '{"id":1,"s":"a\u0001"}', // an unescaped control character
    ];
    for (const text of refused) expect(b.tryAppendJson(bytesOf(text)), text).toBe(false);
    // Invalid UTF-8 in a value, and in a skipped value when unknown fields are dropped.
    expect(b.tryAppendJson(Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toBe(false);
    const ignoring = new RecordBatchBuilder(SCHEMA, { ignoreUnknownFields: true });
    const skipped = Buffer.from('{"id":1,"zzz":{"k":["\xff"]}}', 'latin1');
    expect(ignoring.tryAppendJson(skipped)).toBe(false);
    for (const bad of ['"\\q"', '"\\u12g4"', '["\\', '{"a":1,}', '[1,]', '01', '1.', '-', 'tru', 'nul'])
      expect(ignoring.tryAppendJson(bytesOf(`{"id":1,"zzz":${bad}}`)), bad).toBe(false);
    expect(ignoring.tryAppendJson(bytesOf('{"id":1,"zzz":{"k":["ÿ"]}}'))).toBe(true);
    expect(b.numRows).toBe(0);
    expect(b.tryAppendJson(bytesOf('{"id":9}'))).toBe(true);
    expect(b.numRows).toBe(1);
  });

  it('reads only [start, end) of a shared buffer', () => {
    const buf = bytesOf('{"id":1,"n":2}{"id":3,"n":45}\n');
    const fastBuilder = new RecordBatchBuilder(SCHEMA);
    expect(fastBuilder.tryAppendJson(buf, 0, 14)).toBe(true);
    // The number 4 ends at the slice's end; the 5 after it is not part of the record.
    expect(fastBuilder.tryAppendJson(buf, 14, 27)).toBe(false);
    expect(fastBuilder.tryAppendJson(buf, 14, 29)).toBe(true);
    const slow = new RecordBatchBuilder(SCHEMA);
    slow.append({ id: 1, n: 2 });
    slow.append({ id: 3, n: 45 });
    expect(ipc(fastBuilder.flush())).toEqual(ipc(slow.flush()));
  });

  it('applies `set` over the JSON as Object.assign would', () => {
    const inputs = ['{"id":1,"s":"from json"}', '{"id":2,"s":"a","s":"b"}', '{"id":3}', '{"s":"x"}'].map(
      bytesOf,
    );
    const { fast } = compare(inputs, {}, (i) =>
      i === 2 ? { s: null, n: 5 } : { s: `set ${i}`, id: 100 + i },
    );
    expect(fast).toBe(inputs.length);
    const unknown = new RecordBatchBuilder(SCHEMA);
    expect(unknown.tryAppendJson(bytesOf('{"id":1}'), 0, 8, { nope: 1 })).toBe(false);
    const ignoring = new RecordBatchBuilder(SCHEMA, { ignoreUnknownFields: true });
    expect(ignoring.tryAppendJson(bytesOf('{"id":1}'), 0, 8, { nope: 1 })).toBe(true);
  });

  it('refuses nesting deeper than it tracks and the slow path decides', () => {
    const deep = `{"id":1,"point":{"a":1,"b":"x"},"unknown":${'['.repeat(1500)}${']'.repeat(1500)}}`;
    const b = new RecordBatchBuilder(SCHEMA, { ignoreUnknownFields: true });
    expect(b.tryAppendJson(bytesOf(deep))).toBe(false);
    const shallow = `{"id":1,"unknown":${'['.repeat(50)}${']'.repeat(50)}}`;
    expect(b.tryAppendJson(bytesOf(shallow))).toBe(true);
  });
});
