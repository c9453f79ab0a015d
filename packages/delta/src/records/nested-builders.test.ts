import { makeVector } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { jsonValueAt } from '../scan/json-rows.js';
import { deltaTypeToArrow } from '../schema/arrow.js';
import type { DataType } from '../schema/types.js';
import type { BuilderContext, ColumnBuilder } from './column-builder.js';
import { createColumnBuilder, isRecordObject } from './nested-builders.js';
import { CoercionFailure, fieldPath } from './record-errors.js';

const CTX: BuilderContext = { ignoreUnknownFields: false, timestampFactor: 1000 };

function builderFor(type: DataType, nullable = true): ColumnBuilder {
  return createColumnBuilder(type, deltaTypeToArrow(type), nullable, CTX);
}

function values(b: ColumnBuilder): unknown[] {
  const data = b.finish();
  return Array.from({ length: data.length }, (_, i) => jsonValueAt(data, i));
}

function failure(fn: () => void): CoercionFailure {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CoercionFailure);
    return err as CoercionFailure;
  }
  throw new Error('accepted');
}

const mapOf = (keyType: DataType, valueType: DataType = { type: 'long' }): DataType => ({
  type: 'map',
  keyType,
  valueType,
  valueContainsNull: true,
});

describe('maps', () => {
  it('reads objects, [key, value] pairs and JS Maps alike', () => {
    const b = builderFor(mapOf({ type: 'string' }));
    b.append({ a: 1, b: '2' });
    b.append([
      ['a', 1],
      ['b', 2n],
    ]);
    b.append(
      new Map<string, unknown>([
        ['a', 1],
        ['b', null],
      ]),
    );
    b.append([]);
    b.append(null);
    expect(values(b)).toEqual([
      [
        ['a', 1],
        ['b', 2],
      ],
      [
        ['a', 1],
        ['b', 2],
      ],
      [
        ['a', 1],
        ['b', null],
      ],
      [],
      null,
    ]);
  });

  it('coerces object keys to the key type', () => {
    const b = builderFor(mapOf({ type: 'date' }, { type: 'string' }));
    b.append({ '2024-01-01': 'new year' });
    const d = builderFor(mapOf({ type: 'decimal', precision: 5, scale: 2 }, { type: 'boolean' }));
    d.append({ '1.5': true, '-2': 'false' });
    expect(values(b)).toEqual([[['2024-01-01', 'new year']]]);
    expect(values(d)).toEqual([
      [
        ['1.50', true],
        ['-2.00', false],
      ],
    ]);
  });

  it.each([
    [
      { type: 'string' },
      [
        ['é', 1],
        ['é', 2],
      ],
    ],
    [
      { type: 'long' },
      [
        [1, 1],
        ['1', 2],
      ],
    ],
    [
      { type: 'long' },
      [
        [2n ** 40n, 1],
        [String(2n ** 40n), 2],
      ],
    ],
    [
      { type: 'integer' },
      [
        [1, 1],
        [1n, 2],
      ],
    ],
    [
      { type: 'double' },
      [
        [Number.NaN, 1],
        ['NaN', 2],
      ],
    ],
    [
      { type: 'boolean' },
      [
        [true, 1],
        ['TRUE', 2],
      ],
    ],
    [
      { type: 'date' },
      [
        ['2024-01-01', 1],
        [19_723, 2],
      ],
    ],
    [
      { type: 'timestamp' },
      [
        ['2024-01-01T00:00:00Z', 1],
        ['2024-01-01T01:00:00+01:00', 2],
      ],
    ],
    [
      { type: 'decimal', precision: 5, scale: 2 },
      [
        ['1.5', 1],
        [1.5, 2],
      ],
    ],
    [
      { type: 'binary' },
      [
        ['AQI=', 1],
        [[1, 2], 2],
      ],
    ],
  ] as [DataType, unknown[]][])('refuses duplicate %o keys', (keyType, pairs) => {
    const b = builderFor(mapOf(keyType));
    const f = failure(() => b.append(pairs));
    expect(f.reason).toMatch(/^duplicate map key /);
    expect(f.expected).toEqual(mapOf(keyType));
  });

  it('names the key or the value that failed', () => {
    const b = builderFor(mapOf({ type: 'long' }, { type: 'integer' }));
    const key = failure(() => b.append({ a: 1 }));
    expect(fieldPath(key.path)).toBe('[key "a"]');
    expect(key.expected).toEqual({ type: 'long' });
    const value = failure(() => b.append({ 1: 'x' }));
    expect(fieldPath(value.path)).toBe('["1"]');
    const nullKey = failure(() => b.append(new Map([[null, 1]])));
    expect(nullKey.reason).toBe('a map key cannot be null');
  });

  it('refuses null values when valueContainsNull is false', () => {
    const b = builderFor({
      type: 'map',
      keyType: { type: 'string' },
      valueType: { type: 'long' },
      valueContainsNull: false,
    });
    expect(failure(() => b.append({ a: null })).reason).toBe('null in a non-nullable field');
  });
});

describe('truncate', () => {
  it('cascades into children of lists, maps and structs', () => {
    const type: DataType = {
      type: 'struct',
      fields: [
        {
          name: 'l',
          type: {
            type: 'array',
            elementType: mapOf({ type: 'string' }, { type: 'string' }),
            containsNull: true,
          },
          nullable: true,
          metadata: {},
        },
      ],
    };
    const b = builderFor(type);
    b.append({ l: [{ a: 'x' }] });
    const before = b.byteSize();
    expect(() => b.append({ l: [{ b: 'y', c: 'z' }, { d: 1 }] })).toThrow(CoercionFailure);
    expect(b.length).toBe(1);
    expect(b.byteSize()).toBeGreaterThan(before);
    b.truncate(1);
    expect(b.byteSize()).toBe(before);
    b.append({ l: null });
    expect(values(b)).toEqual([{ l: [[['a', 'x']]] }, { l: null }]);
  });
});

describe('isRecordObject', () => {
  it('accepts plain and class objects, not arrays, dates, maps, sets or bytes', () => {
    class Point {
      x = 1;
    }
    expect(isRecordObject({})).toBe(true);
    expect(isRecordObject(Object.create(null))).toBe(true);
    expect(isRecordObject(new Point())).toBe(true);
    for (const v of [
      null,
      undefined,
      1,
      'x',
      [],
      new Date(),
      new Map(),
      new Set(),
      new Uint8Array(),
      new ArrayBuffer(1),
    ])
      expect(isRecordObject(v)).toBe(false);
  });
});

describe('createColumnBuilder', () => {
  it('refuses variant', () => {
    expect(() =>
      createColumnBuilder({ type: 'variant' }, makeVector(new Int8Array(0)).type, true, CTX),
    ).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_TYPE' }));
  });

  it('gives masked nulls to the children of a null struct, whatever their nullability', () => {
    const b = builderFor({
      type: 'struct',
      fields: [{ name: 'id', type: { type: 'long' }, nullable: false, metadata: {} }],
    });
    b.append(null);
    b.append({ id: 1 });
    const data = b.finish();
    expect(data.nullCount).toBe(1);
    expect(data.children[0]!.length).toBe(2);
    expect([jsonValueAt(data, 0), jsonValueAt(data, 1)]).toEqual([null, { id: 1 }]);
  });
});
