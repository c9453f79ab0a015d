import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { batchToJsonRows } from '../scan/json-rows.js';
import type { DataType, StructField, StructType } from '../schema/types.js';
import { RecordBatchBuilder } from './record-batch-builder.js';

function t(name: string): DataType {
  const m = /^decimal\((\d+),(\d+)\)$/.exec(name);
  if (m) return { type: 'decimal', precision: Number(m[1]), scale: Number(m[2]) };
  return { type: name } as DataType;
}
function f(name: string, type: DataType | string, nullable = true): StructField {
  return { name, type: typeof type === 'string' ? t(type) : type, nullable, metadata: {} };
}
function struct(...fields: StructField[]): StructType {
  return { type: 'struct', fields };
}
function array(elementType: DataType | string, containsNull = true): DataType {
  return {
    type: 'array',
    elementType: typeof elementType === 'string' ? t(elementType) : elementType,
    containsNull,
  };
}
function map(keyType: DataType | string, valueType: DataType | string, valueContainsNull = true): DataType {
  return {
    type: 'map',
    keyType: typeof keyType === 'string' ? t(keyType) : keyType,
    valueType: typeof valueType === 'string' ? t(valueType) : valueType,
    valueContainsNull,
  };
}

/** The INVALID_RECORD error `append` throws (fails the test when it does not throw). */
function appendError(
  b: RecordBatchBuilder,
  record: unknown,
  where?: { recordIndex?: number; source?: string },
) {
  try {
    b.append(record, where);
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    expect((err as WeirError).code).toBe('INVALID_RECORD');
    return err as WeirError;
  }
  throw new Error(
    `append accepted ${JSON.stringify(record, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`,
  );
}

// [Delta type, input, reason pattern]
const REFUSED: [string, unknown, RegExp][] = [
  ['long', 1.5, /not an integer/],
  ['long', 2 ** 53, /lost digits.*bigint or integer text/],
  ['long', Number.NaN, /not a finite number/],
  ['long', '1e3', /not integer text/],
  ['long', '4.0', /not integer text/],
  ['long', '9223372036854775808', /out of range for long/],
  ['long', -(2n ** 63n) - 1n, /out of range for long/],
  ['long', true, /expected an integer/],
  ['long', {}, /expected an integer/],
  ['integer', 2_147_483_648, /out of range for integer/],
  ['short', '40000', /out of range for short/],
  ['byte', 128, /out of range for byte/],
  ['byte', 300n, /out of range for byte/],
  ['byte', 1.5, /not an integer/],
  ['float', 1e39, /out of range for float/],
  ['float', '1e39', /out of range for float/],
  ['double', 'abc', /not number text/],
  ['double', '', /not number text/],
  ['double', true, /expected a number/],
  ['boolean', 1, /expected true\/false/],
  ['boolean', 'yes', /expected true\/false/],
  ['string', 42, /expected a string, got a number/],
  ['string', true, /expected a string, got a boolean/],
  ['string', 7n, /expected a string, got a bigint/],
  ['string', { a: 1 }, /got an object/],
  ['string', ['a'], /got an object/],
  ['binary', 'not base64!', /not base64 text/],
  ['binary', 'abcde', /not base64 text/],
  ['binary', [1, 256], /element 1 is not a byte/],
  ['binary', [1, 'a'], /element 1 is not a byte/],
  ['binary', 42, /expected bytes/],
  ['date', '2024-02-30', /not a date/],
  ['date', 'yesterday', /not a date/],
  ['date', 1.5, /must be an integer/],
  ['date', 2 ** 40, /out of range for date/],
  ['date', new Date(Number.NaN), /invalid Date/],
  ['date', true, /expected 'YYYY-MM-DD'/],
  ['timestamp', 'yesterday', /not an ISO-8601 timestamp/],
  ['timestamp', '2024-01-01T24:00:00Z', /not an ISO-8601 timestamp/],
  ['timestamp', '2024-01-01T10:00:00+19:00', /not an ISO-8601 timestamp/],
  ['timestamp', Number.POSITIVE_INFINITY, /not a finite number/],
  ['timestamp', new Date(Number.NaN), /invalid Date/],
  ['timestamp', 2n ** 63n, /out of range/],
  ['timestamp', 1e20, /out of range/],
  ['timestamp', { at: 1 }, /expected ISO-8601 text/],
  ['timestamp', true, /expected ISO-8601 text/],
  ['timestamp_ntz', '2024-01-01T00:00:00Z', /cannot carry a time zone/],
  ['timestamp_ntz', '2024-01-01 00:00:00+01:00', /cannot carry a time zone/],
  ['decimal(10,2)', 1.234, /more than 2 fraction digits/],
  ['decimal(10,2)', '1.235', /more than 2 fraction digits/],
  ['decimal(10,2)', 0.1 + 0.2, /more than 2 fraction digits/],
  ['decimal(10,2)', 1e-7, /more than 2 fraction digits/],
  ['decimal(10,2)', 123_456_789.5, /more than 10 digits/],
  ['decimal(10,2)', '100000000', /more than 10 digits/],
  ['decimal(10,2)', 10n ** 9n, /more than 10 digits/],
  ['decimal(5,0)', '1e5', /more than 5 digits/],
  ['decimal(10,2)', 'abc', /not decimal text/],
  ['decimal(10,2)', '1.2.3', /not decimal text/],
  ['decimal(10,2)', Number.NaN, /not a finite number/],
  ['decimal(10,2)', true, /expected a number, decimal text or a bigint/],
];

describe('refused values', () => {
  it.each(REFUSED)('%s refuses %o', (type, input, reason) => {
    const b = new RecordBatchBuilder(struct(f('v', type)), { table: 'events' });
    const err = appendError(b, { v: input });
    expect(err.details).toMatchObject({ table: 'events', field: 'v', expectedType: type, recordIndex: 0 });
    expect(err.details.reason).toMatch(reason);
    expect(err.message).toMatch(reason);
    expect(b.numRows).toBe(0);
  });

  it.each([
    [struct(f('v', struct(f('a', 'long')))), 'x', /expected an object/],
    [struct(f('v', struct(f('a', 'long')))), [1], /expected an object/],
    [struct(f('v', struct(f('a', 'long')))), new Date(0), /expected an object/],
    [struct(f('v', array('long'))), { 0: 1 }, /expected an array/],
    [struct(f('v', array('long'))), 'abc', /expected an array/],
    [
      struct(f('v', map('string', 'long'))),
      5,
      /expected an object, an array of \[key, value\] pairs or a Map/,
    ],
    [struct(f('v', map('string', 'long'))), [['a', 1], ['b']], /entry 1 is not a \[key, value\] pair/],
    [
      struct(f('v', map('string', 'long'))),
      [
        ['a', 1],
        ['a', 2],
      ],
      /duplicate map key "a"/,
    ],
    [struct(f('v', map('long', 'long'))), { '1': 1, '01': 2 }, /duplicate map key "01"/],
    [
      struct(f('v', map('long', 'long'))),
      new Map<unknown, number>([
        [1, 1],
        ['1', 2],
      ]),
      /duplicate map key "1"/,
    ],
  ] as [StructType, unknown, RegExp][])('nested types refuse %#', (schema, input, reason) => {
    const b = new RecordBatchBuilder(schema);
    const err = appendError(b, { v: input });
    expect(err.details.field).toBe('v');
    expect(err.message).toMatch(reason);
  });
});

describe('INVALID_RECORD errors', () => {
  const schema = struct(
    f('id', 'long', false),
    f(
      'payment',
      struct(f('card', struct(f('number', 'string'), f('expiry', 'date'))), f('amount', 'decimal(10,2)')),
    ),
    f('items', array(struct(f('sku', 'string', false), f('qty', 'integer')))),
    f('attrs', map('string', 'integer', false)),
    f('counts', map('long', 'long')),
    f('matrix', array(array('integer', false))),
  );

  it('names the table, record, source, field path, expected type and value', () => {
    const b = new RecordBatchBuilder(schema, { table: 'payments' });
    b.append({ id: 1 });
    const err = appendError(
      b,
      { id: 2, payment: { card: { number: '4111', expiry: 'soon' } } },
      { recordIndex: 17, source: 'payments/3@1842' },
    );
    expect(err.message).toBe(
      'table payments record 17 (payments/3@1842): field payment.card.expiry: expected date, got "soon": ' +
        'not a date (YYYY-MM-DD) or ISO-8601 timestamp',
    );
    expect(err.details).toEqual({
      table: 'payments',
      recordIndex: 17,
      source: 'payments/3@1842',
      field: 'payment.card.expiry',
      expectedType: 'date',
      value: '"soon"',
      reason: 'not a date (YYYY-MM-DD) or ISO-8601 timestamp',
    });
  });

  it('counts append calls as the default record index and omits an absent table', () => {
    const b = new RecordBatchBuilder(schema);
    b.append({ id: 1 });
    expect(appendError(b, { id: 'x' }).details.recordIndex).toBe(1);
    const err = appendError(b, { id: 'y' });
    expect(err.details.recordIndex).toBe(2);
    expect(err.details.table).toBeUndefined();
    expect(err.message).toMatch(/^record 2: field id: expected long, got "y"/);
  });

  it('truncates long values to about 100 characters', () => {
    const b = new RecordBatchBuilder(schema);
    const err = appendError(b, { id: 'x'.repeat(5000) });
    const value = err.details.value as string;
    expect(value.length).toBeLessThanOrEqual(100);
    expect(value.endsWith('…')).toBe(true);
    expect(err.message.length).toBeLessThan(300);
    const big = appendError(b, { id: 1, payment: { card: { number: { deep: 'y'.repeat(1000) } } } });
    expect((big.details.value as string).length).toBeLessThanOrEqual(100);
  });

  it.each([
    [{ id: 1, items: [{ sku: 'a' }, { sku: 'b' }, { sku: 7 }] }, 'items[2].sku', 'string'],
    [{ id: 1, items: [{ sku: 'a', qty: 'many' }] }, 'items[0].qty', 'integer'],
    [{ id: 1, items: [{ qty: 1 }] }, 'items[0].sku', 'string'],
    [{ id: 1, attrs: { ok: 1, k: 'v' } }, 'attrs["k"]', 'integer'],
    [{ id: 1, attrs: { k: null } }, 'attrs["k"]', 'integer'],
    [{ id: 1, counts: { abc: 1 } }, 'counts[key "abc"]', 'long'],
    [{ id: 1, counts: [[null, 1]] }, 'counts[key null]', 'long'],
    [{ id: 1, matrix: [[1], [2, null]] }, 'matrix[1][1]', 'integer'],
    [{ id: 1, matrix: [[1], [2, 'x']] }, 'matrix[1][1]', 'integer'],
    [{ id: 1, payment: { amount: 1.005 } }, 'payment.amount', 'decimal(10,2)'],
    [{ id: null }, 'id', 'long'],
    [{}, 'id', 'long'],
  ])('reports the field path of %o', (record, field, expectedType) => {
    const err = appendError(new RecordBatchBuilder(schema), record);
    expect(err.details.field).toBe(field);
    expect(err.details.expectedType).toBe(expectedType);
    expect(err.message).toContain(`field ${field}: expected ${expectedType}`);
  });

  it('distinguishes missing from null in non-nullable fields', () => {
    expect(appendError(new RecordBatchBuilder(schema), {}).details.reason).toBe(
      'missing value for a non-nullable field',
    );
    expect(appendError(new RecordBatchBuilder(schema), { id: null }).details.reason).toBe(
      'null in a non-nullable field',
    );
  });

  it('refuses records that are not objects', () => {
    for (const record of [null, undefined, 'x', 42, [1], new Map()]) {
      const err = appendError(new RecordBatchBuilder(schema), record);
      expect(err.details.field).toBe('');
      expect(err.message).toMatch(/field <record>: expected struct<id:long,/);
    }
  });

  it('refuses unknown fields at any depth unless ignoreUnknownFields', () => {
    const top = appendError(new RecordBatchBuilder(schema), { id: 1, extra: 3 });
    expect(top.details).toMatchObject({ field: 'extra', expectedType: 'none', value: '3' });
    expect(top.message).toMatch(/field extra: unknown field with value 3: .*ignoreUnknownFields/);
    const deep = appendError(new RecordBatchBuilder(schema), { id: 1, payment: { card: { cvv: 123 } } });
    expect(deep.details.field).toBe('payment.card.cvv');
    const inList = appendError(new RecordBatchBuilder(schema), {
      id: 1,
      items: [{ sku: 'a', color: 'red' }],
    });
    expect(inList.details.field).toBe('items[0].color');

    const lenient = new RecordBatchBuilder(schema, { ignoreUnknownFields: true });
    lenient.append({ id: 1, extra: 3, payment: { card: { cvv: 123, expiry: '2030-01-01' } } });
    expect(batchToJsonRows(lenient.flush())[0]).toMatchObject({
      id: 1,
      payment: { card: { number: null, expiry: '2030-01-01' }, amount: null },
    });
  });

  it('treats a known field set to undefined as null, not as unknown', () => {
    const b = new RecordBatchBuilder(schema);
    b.append({ id: 1, payment: undefined, items: undefined });
    expect(batchToJsonRows(b.flush())[0]).toMatchObject({ id: 1, payment: null, items: null });
  });

  it('never reads struct fields from Object.prototype', () => {
    const s = struct(f('constructor', 'string'), f('toString', 'string'), f('__proto__', 'long'));
    const b = new RecordBatchBuilder(s);
    b.append({});
    b.append(JSON.parse('{"constructor": "c", "toString": "t", "__proto__": 5}'));
    expect(batchToJsonRows(b.flush())).toEqual([
      { constructor: null, toString: null, __proto__: null },
      { constructor: 'c', toString: 't', __proto__: 5 },
    ]);
  });
});

describe('a failed append leaves the builder unchanged', () => {
  const schema = struct(
    f('id', 'long', false),
    f('name', 'string'),
    f('flag', 'boolean'),
    f('price', 'decimal(10,2)'),
    f('at', 'timestamp'),
    f('data', 'binary'),
    f('tags', array('string')),
    f('attrs', map('string', array(struct(f('x', 'integer'), f('y', 'string', false))))),
    f('nested', struct(f('a', 'double'), f('b', struct(f('c', 'date'))))),
    f('last', 'short'),
  );
  const good = (i: number): Record<string, unknown> => ({
    id: i,
    name: `n${i}`,
    flag: i % 2 === 0,
    price: i / 4,
    at: 1_700_000_000_000 + i,
    data: [i & 255],
    tags: ['a', `t${i}`],
    attrs: { k: [{ x: i, y: 'y' }] },
    nested: { a: i / 2, b: { c: 19_000 + i } },
    last: i,
  });
  const BAD: [string, Record<string, unknown>][] = [
    ['the first column', { ...good(0), id: 'x' }],
    ['the last column after nulls in every other', { id: 9, last: 'x' }],
    ['a string after bytes were written', { ...good(0), tags: ['ok', 'also ok', 5] }],
    [
      'deep in a map of lists of structs',
      { ...good(0), attrs: { a: [{ x: 1, y: 'y' }], b: [{ x: 2, y: 'y' }, { x: 3 }] } },
    ],
    [
      'a duplicate map key',
      {
        ...good(0),
        attrs: [
          ['a', []],
          ['a', []],
        ],
      },
    ],
    ['an unknown field after every column was written', { ...good(0), surprise: true }],
    ['a nested struct', { ...good(0), nested: { a: null, b: { c: 'not a date' } } }],
    ['a decimal', { ...good(0), price: 0.125 }],
  ];

  it.each(BAD)('after failing in %s', (_what, bad) => {
    const b = new RecordBatchBuilder(schema);
    b.append(good(1));
    b.append(good(2));
    const rows = b.numRows;
    const bytes = b.estimatedBytes;
    appendError(b, bad);
    expect(b.numRows).toBe(rows);
    expect(b.estimatedBytes).toBe(bytes);
    b.append(good(3));
    const batch = b.flush();

    const reference = new RecordBatchBuilder(schema);
    for (const i of [1, 2, 3]) reference.append(good(i));
    const expected = reference.flush();
    expect(batchToJsonRows(batch)).toEqual(batchToJsonRows(expected));
    for (let k = 0; k < schema.fields.length; k++) {
      expect(batch.getChildAt(k)!.nullCount).toBe(0);
      expect(batch.getChildAt(k)!.data[0]!.nullBitmap?.length ?? 0).toBe(0);
    }
  });

  it('matches a builder that never saw the bad records (randomized)', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const mutations: ((r: Record<string, unknown>) => void)[] = [
      (r) => {
        r.name = null;
      },
      (r) => {
        r.tags = [null, 'x', null];
      },
      (r) => {
        r.nested = null;
      },
      (r) => {
        r.attrs = { z: null, w: [null] };
      },
      (r) => {
        r.price = undefined;
      },
    ];
    const breakers: ((r: Record<string, unknown>) => void)[] = [
      (r) => {
        r.last = 99_999;
      },
      (r) => {
        r.attrs = { a: [{ x: 1, y: null }] };
      },
      (r) => {
        r.tags = ['a', {}];
      },
      (r) => {
        r.at = 'noon';
      },
      (r) => {
        r.id = null;
      },
      (r) => {
        r.nested = { b: { c: 1.5 } };
      },
      (r) => {
        r.data = 'é';
      },
    ];
    const b = new RecordBatchBuilder(schema);
    const reference = new RecordBatchBuilder(schema);
    let failures = 0;
    for (let i = 0; i < 3000; i++) {
      const r = good(i);
      for (const m of mutations) if (rand() < 0.2) m(r);
      const bad = rand() < 0.3;
      if (bad) breakers[Math.floor(rand() * breakers.length)]!(r);
      try {
        b.append(r);
      } catch {
        failures++;
        continue;
      }
      expect(bad).toBe(false);
      reference.append(r);
    }
    expect(failures).toBeGreaterThan(700);
    expect(b.numRows).toBe(reference.numRows);
    expect(b.estimatedBytes).toBe(reference.estimatedBytes);
    const batch = b.flush();
    const expected = reference.flush();
    expect(batchToJsonRows(batch)).toEqual(batchToJsonRows(expected));
    for (let k = 0; k < schema.fields.length; k++)
      expect(batch.getChildAt(k)!.nullCount).toBe(expected.getChildAt(k)!.nullCount);
  });
});
