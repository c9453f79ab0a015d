import { isWeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import type { DataType, StructField, StructType } from '../schema/types.js';
import { bindPredicate } from './bind.js';
import { parsePredicate } from './parse.js';

const f = (name: string, type: DataType | string): StructField => ({
  name,
  type: typeof type === 'string' ? ({ type } as DataType) : type,
  nullable: true,
  metadata: {},
});

const schema: StructType = {
  type: 'struct',
  fields: [
    f('id', 'long'),
    f('i', 'integer'),
    f('s', 'short'),
    f('b', 'byte'),
    f('fl', 'float'),
    f('d', 'double'),
    f('name', 'string'),
    f('flag', 'boolean'),
    f('bin', 'binary'),
    f('day', 'date'),
    f('ts', 'timestamp'),
    f('ntz', 'timestamp_ntz'),
    f('price', { type: 'decimal', precision: 10, scale: 2 }),
    f('big', { type: 'decimal', precision: 38, scale: 0 }),
    f('nested', { type: 'struct', fields: [f('x', 'integer'), f('Y', 'string')] }),
    f('arr', { type: 'array', elementType: { type: 'integer' }, containsNull: true }),
    f('Amount', 'long'),
    f('amount', 'long'),
    f('CamelCase', 'string'),
  ],
};

const bind = (text: string) => bindPredicate(parsePredicate(text), schema);

/** The value a `column op literal` predicate binds its literal to. */
function boundValue(text: string): unknown {
  const e = bind(text);
  if (e.kind !== 'compare') throw new Error(`not a comparison: ${e.kind}`);
  return e.value;
}

function bindError(text: string): { code: string; message: string; details: Record<string, unknown> } {
  try {
    bind(text);
  } catch (err) {
    if (isWeirError(err)) return { code: err.code, message: err.message, details: err.details };
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

describe('bindPredicate: column resolution', () => {
  it('resolves top-level and nested columns, exact case first', () => {
    const e = bind('nested.x = 1');
    expect(e.kind === 'compare' && e.column.path).toEqual(['nested', 'x']);
    expect(e.kind === 'compare' && e.column.type).toEqual({ type: 'integer' });
    expect(e.kind === 'compare' && e.column.fields.map((x) => x.name)).toEqual(['nested', 'x']);
    const exact = bind('amount = 1');
    expect(exact.kind === 'compare' && exact.column.path).toEqual(['amount']);
  });

  it('falls back to a case-insensitive match when it is unambiguous', () => {
    const e = bind("NESTED.y = 'a' AND camelcase = 'b'");
    expect(e.kind === 'and' && e.operands.map((o) => (o.kind === 'compare' ? o.column.path : []))).toEqual([
      ['nested', 'Y'],
      ['CamelCase'],
    ]);
  });

  it('refuses an ambiguous case-insensitive match', () => {
    const err = bindError('AMOUNT = 1');
    expect(err.code).toBe('UNKNOWN_COLUMN');
    expect(err.message).toMatch(/ambiguous column 'AMOUNT'/);
    expect(err.message).toContain('Amount, amount');
  });

  it('names an unknown column, its position and the available columns', () => {
    const err = bindError('id = 1 AND nope > 2');
    expect(err.code).toBe('UNKNOWN_COLUMN');
    expect(err.message).toMatch(/unknown column 'nope' at column 12; available columns: id, i, s, b/);
    expect(err.message).toContain('nested.x, nested.Y');
    expect(err.details.column).toBe('nope');
    expect(err.details.available).toContain('price');
    expect(bindError('nested.z = 1').code).toBe('UNKNOWN_COLUMN');
    expect(bindError('id.x = 1').code).toBe('UNKNOWN_COLUMN');
  });

  it('refuses non-primitive columns', () => {
    expect(bindError('nested = 1').code).toBe('TYPE_MISMATCH');
    expect(bindError('arr IS NULL').message).toMatch(/'arr' of type array/);
  });

  it('lists the referenced columns on the bound root', () => {
    expect(bind('id > 1 AND (nested.x = 2 OR id < 0)').columns).toEqual([['id'], ['nested', 'x']]);
  });
});

describe('bindPredicate: literal coercion', () => {
  it('integers: long -> bigint, int/short/byte -> number, range checked', () => {
    expect(boundValue('id = 5')).toBe(5n);
    expect(boundValue('id = 9223372036854775807')).toBe(9223372036854775807n);
    expect(boundValue('id = -9223372036854775808')).toBe(-9223372036854775808n);
    expect(boundValue('i = -2147483648')).toBe(-2147483648);
    expect(boundValue('s = 32767')).toBe(32767);
    expect(boundValue('b = -128')).toBe(-128);
    expect(boundValue('id = 2e3')).toBe(2000n);
    expect(boundValue('i = 5.0')).toBe(5);
    expect(boundValue("id = '42'")).toBe(42n);
  });

  it('floating point: numbers, float32 rounding for float columns, NaN/Infinity as strings', () => {
    expect(boundValue('d = 5')).toBe(5);
    expect(boundValue('d = 1.5')).toBe(1.5);
    expect(boundValue('d = -2e3')).toBe(-2000);
    expect(boundValue('fl = 0.1')).toBe(Math.fround(0.1));
    expect(boundValue("d = 'NaN'")).toBeNaN();
    expect(boundValue("d = '-Infinity'")).toBe(-Infinity);
    expect(boundValue("d = '2.5'")).toBe(2.5);
  });

  it('decimals: exact unscaled bigint at the column scale', () => {
    expect(boundValue('price = 5')).toBe(500n);
    expect(boundValue('price = 1.5')).toBe(150n);
    expect(boundValue('price = -0.01')).toBe(-1n);
    expect(boundValue('price = 12345678.99')).toBe(1234567899n);
    expect(boundValue('price = 1.50000')).toBe(150n);
    expect(boundValue('price = 1e2')).toBe(10000n);
    expect(boundValue("price = '3.25'")).toBe(325n);
    expect(boundValue('big = 99999999999999999999999999999999999999')).toBe(
      99999999999999999999999999999999999999n,
    );
  });

  it('strings, booleans, binary', () => {
    expect(boundValue("name = 'x'")).toBe('x');
    expect(boundValue('flag = TRUE')).toBe(true);
    expect(boundValue("flag = 'false'")).toBe(false);
    expect(boundValue("bin = X'0102'")).toEqual(new Uint8Array([1, 2]));
    expect(boundValue("bin = 'é'")).toEqual(new Uint8Array([0xc3, 0xa9]));
  });

  it('dates from strings and DATE literals; timestamps from strings, dates and TIMESTAMP literals', () => {
    expect(boundValue("day = '2021-01-01'")).toBe(18628);
    expect(boundValue("day = DATE '2021-01-01'")).toBe(18628);
    expect(boundValue("day = TIMESTAMP '2021-01-01 00:00:00'")).toBe(18628);
    expect(boundValue("ts = '2021-01-01 00:00:00.000001'")).toBe(1609459200000001n);
    expect(boundValue("ts = '2021-01-01T01:00:00+01:00'")).toBe(1609459200000000n);
    expect(boundValue("ts >= DATE '2021-01-01'")).toBe(1609459200000000n);
    expect(boundValue("ts = TIMESTAMP_NTZ '2021-01-01 00:00:00'")).toBe(1609459200000000n);
    expect(boundValue("ntz = '2021-01-01 00:00:00'")).toBe(1609459200000000n);
    expect(boundValue("ntz = TIMESTAMP '2021-01-01 00:00:00'")).toBe(1609459200000000n);
  });

  it('normalises literal-on-the-left comparisons by flipping the operator', () => {
    const e = bind('5 < id');
    expect(e).toMatchObject({ kind: 'compare', op: '>', value: 5n });
    expect(bind('5 >= id')).toMatchObject({ kind: 'compare', op: '<=' });
    expect(bind('5 = id')).toMatchObject({ kind: 'compare', op: '=' });
  });

  it('coerces and deduplicates IN lists, remembering a NULL element', () => {
    const e = bind('price IN (1, 1.00, 2.5, NULL)');
    expect(e).toMatchObject({ kind: 'in', values: [100n, 250n], hasNull: true, negated: false });
    expect(bind("day NOT IN ('2021-01-01')")).toMatchObject({
      kind: 'in',
      values: [18628],
      hasNull: false,
      negated: true,
    });
  });
});

describe('bindPredicate: type mismatches', () => {
  const cases: [string, RegExp][] = [
    ['i = 3000000000', /column 'i' of type integer at column 5: 3000000000 does not fit/],
    ['b = 200', /'b' of type byte.*200 does not fit/],
    ['id = 9223372036854775808', /does not fit/],
    ['id = 1.5', /'id' of type long.*1\.5 does not fit/],
    ['price = 1.234', /'price' of type decimal\(10,2\).*1\.234 does not fit/],
    ['price = 100000000', /does not fit/],
    ['fl = 1e39', /does not fit/],
    ['name = 5', /'name' of type string.*5 is not a string/],
    ['id = TRUE', /is not a number/],
    ["id = 'abc'", /'abc' is not a number/],
    ["day = 'yesterday'", /is not a date/],
    ["day = '2021-02-30'", /is not a date/],
    ["day = TIMESTAMP '2021-01-01 10:00:00'", /is not a whole day/],
    ["ts = 'noon'", /is not a timestamp/],
    ["ntz = '2021-01-01 00:00:00Z'", /has a time zone/],
    ['flag = 1', /is not a boolean/],
    ['bin = 1', /is not binary/],
    ["id IN (1, 'x')", /'x' is not a number/],
    ['name = id', /'name' of type string.*column 'id' of type long cannot be compared/],
    ['price = big', /cannot be compared/],
    ["1 = 'a'", /cannot be compared/],
    ['id', /'id' of type long.*is not a boolean predicate/],
  ];
  for (const [text, message] of cases) {
    it(text, () => {
      const err = bindError(text);
      expect(err.code).toBe('TYPE_MISMATCH');
      expect(err.message).toMatch(message);
    });
  }

  it('details name the column, its type and the literal', () => {
    expect(bindError('price = 1.234').details).toMatchObject({
      column: 'price',
      type: 'decimal(10,2)',
      literal: '1.234',
    });
  });

  it('a literal where a predicate is expected is INVALID_PREDICATE', () => {
    expect(bindError('5').code).toBe('INVALID_PREDICATE');
    expect(bindError('id = 1 AND 5').message).toMatch(/at column 12: expected a predicate, found literal 5/);
    expect(bindError('id IN (1, i)').code).toBe('INVALID_PREDICATE');
  });
});

describe('bindPredicate: normal form and folding', () => {
  it('binds comparable column pairs (numeric families mix)', () => {
    expect(bind('id < i')).toMatchObject({ kind: 'compareColumns', op: '<' });
    expect(bind('d >= id')).toMatchObject({ kind: 'compareColumns', op: '>=' });
    expect(bind('ts = ts')).toMatchObject({ kind: 'compareColumns', op: '=' });
  });

  it('a bare boolean column means column = TRUE', () => {
    expect(bind('flag')).toMatchObject({ kind: 'compare', op: '=', value: true });
    expect(bind('NOT flag')).toMatchObject({ kind: 'not', operand: { kind: 'compare', value: true } });
  });

  it('folds NULL comparisons and literal-only predicates', () => {
    expect(bind('id = NULL')).toEqual({ kind: 'const', value: null, columns: [] });
    expect(bind('NULL < id')).toMatchObject({ kind: 'const', value: null });
    expect(bind('1 = 1')).toMatchObject({ kind: 'const', value: true });
    expect(bind("'a' < 'b'")).toMatchObject({ kind: 'const', value: true });
    expect(bind('1 = 1.0')).toMatchObject({ kind: 'const', value: true });
    expect(bind("DATE '2021-01-01' > DATE '2021-01-02'")).toMatchObject({ kind: 'const', value: false });
    expect(bind('1 IN (2, NULL)')).toMatchObject({ kind: 'const', value: null });
    expect(bind('1 NOT IN (2, 3)')).toMatchObject({ kind: 'const', value: true });
    expect(bind('NULL IS NULL')).toMatchObject({ kind: 'const', value: true });
    expect(bind('id IN (NULL)')).toMatchObject({ kind: 'const', value: null });
    expect(bind('id NOT IN (NULL)')).toMatchObject({ kind: 'const', value: null });
  });

  it('folds constants through AND / OR / NOT', () => {
    expect(bind('1 = 1 AND id > 5')).toMatchObject({ kind: 'compare', op: '>' });
    expect(bind('1 = 2 AND id > 5')).toMatchObject({ kind: 'const', value: false });
    expect(bind('1 = 1 OR id > 5')).toMatchObject({ kind: 'const', value: true });
    expect(bind('1 = 2 OR id > 5')).toMatchObject({ kind: 'compare', op: '>' });
    expect(bind('NOT (1 = 1)')).toMatchObject({ kind: 'const', value: false });
    expect(bind('NOT NULL')).toMatchObject({ kind: 'const', value: null });
    expect(bind('NOT NOT id > 5')).toMatchObject({ kind: 'compare', op: '>' });
    // NULL is not an identity element: it stays
    expect(bind('id > 5 AND NULL')).toMatchObject({
      kind: 'and',
      operands: [{ kind: 'compare' }, { kind: 'const', value: null }],
    });
  });

  it('flattens nested conjunctions', () => {
    const e = bind('(id > 1 AND i > 2) AND (s > 3 AND 1 = 1)');
    expect(e.kind === 'and' && e.operands.length).toBe(3);
  });
});
