import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import {
  CoercionFailure,
  displayValue,
  fieldPath,
  invalidRecordError,
  withSegment,
} from './record-errors.js';

describe('fieldPath', () => {
  it('joins names with dots and indexes directly, outermost first', () => {
    expect(fieldPath([])).toBe('');
    expect(fieldPath(['a'])).toBe('a');
    expect(fieldPath(['expiry', 'card', 'payment'])).toBe('payment.card.expiry');
    expect(fieldPath(['sku', '[2]', 'items', 'order'])).toBe('order.items[2].sku');
    expect(fieldPath(['[1]', '[0]', 'm'])).toBe('m[0][1]');
    expect(fieldPath(['x', '["k"]', 'attrs'])).toBe('attrs["k"].x');
    expect(fieldPath(['[3]'])).toBe('[3]');
  });
});

describe('displayValue', () => {
  it('shows values briefly and on one line', () => {
    expect(displayValue(undefined)).toBe('undefined (missing)');
    expect(displayValue(null)).toBe('null');
    expect(displayValue('a"b\n')).toBe('"a\\"b\\n"');
    expect(displayValue(12n)).toBe('12n');
    expect(displayValue(Number.NaN)).toBe('NaN');
    expect(displayValue({ a: [1, 2n] })).toBe('{"a":[1,"2n"]}');
    expect(displayValue(new Uint8Array(3))).toBe('Uint8Array(3)');
    expect(displayValue(new Date(0))).toBe('Date(1970-01-01T00:00:00.000Z)');
    expect(displayValue(new Date(Number.NaN))).toBe('Invalid Date');
    expect(displayValue(new Map([['k', 1]]))).toBe('Map(1) [["k",1]]');
    expect(displayValue(() => 1)).toBe('a function');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(displayValue(cyclic)).toBe('[object Object]');
  });

  it('truncates to 100 characters', () => {
    expect(displayValue('x'.repeat(500))).toHaveLength(100);
    expect(displayValue('x'.repeat(500)).endsWith('…')).toBe(true);
    expect(displayValue({ k: 'y'.repeat(500) })).toHaveLength(100);
  });
});

describe('invalidRecordError', () => {
  it('builds the public error from a failure and its path', () => {
    const failure = new CoercionFailure({ type: 'long' }, 'x', 'not integer text');
    withSegment(failure, 'id');
    withSegment(failure, 'order');
    const err = invalidRecordError(failure, { table: 't', recordIndex: 3 });
    expect(err).toBeInstanceOf(WeirError);
    expect(err.code).toBe('INVALID_RECORD');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('table t record 3: field order.id: expected long, got "x": not integer text');
    expect(err.details).toEqual({
      table: 't',
      recordIndex: 3,
      source: undefined,
      field: 'order.id',
      expectedType: 'long',
      value: '"x"',
      reason: 'not integer text',
    });
  });

  it('passes other errors through withSegment untouched', () => {
    const other = new Error('boom');
    expect(withSegment(other, 'a')).toBe(other);
  });
});
