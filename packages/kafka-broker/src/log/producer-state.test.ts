import { describe, expect, it } from 'vitest';
import { KafkaErrorCode } from '../errors.js';
import { lastSequence, ProducerStates } from './producer-state.js';

describe('idempotent producer state', () => {
  it('accepts consecutive sequences and answers duplicates with their offset', () => {
    const s = new ProducerStates();
    expect(s.check(1, 0, 0, 4)).toEqual({ kind: 'append' });
    s.record(1, 0, 0, 4, 100);
    expect(s.check(1, 0, 5, 9)).toEqual({ kind: 'append' });
    s.record(1, 0, 5, 9, 105);
    expect(s.check(1, 0, 0, 4)).toEqual({ kind: 'duplicate', baseOffset: 100 });
    expect(s.check(1, 0, 5, 9)).toEqual({ kind: 'duplicate', baseOffset: 105 });
  });

  it('rejects gaps, stale epochs, and new epochs not starting at 0', () => {
    const s = new ProducerStates();
    s.record(1, 3, 0, 0, 0);
    expect(s.check(1, 3, 2, 2)).toEqual({
      kind: 'reject',
      errorCode: KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    });
    expect(s.check(1, 2, 1, 1)).toEqual({ kind: 'reject', errorCode: KafkaErrorCode.INVALID_PRODUCER_EPOCH });
    expect(s.check(1, 4, 1, 1)).toEqual({
      kind: 'reject',
      errorCode: KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    });
    expect(s.check(1, 4, 0, 0)).toEqual({ kind: 'append' });
  });

  it('remembers only the last five batches and wraps sequences at 2^31', () => {
    const s = new ProducerStates();
    for (let i = 0; i < 7; i++) s.record(9, 0, i, i, i * 10);
    expect(s.check(9, 0, 1, 1).kind).toBe('reject');
    expect(s.check(9, 0, 2, 2)).toEqual({ kind: 'duplicate', baseOffset: 20 });
    expect(lastSequence(2 ** 31 - 2, 3)).toBe(1);
    s.record(5, 0, 2 ** 31 - 2, 2 ** 31 - 1, 0);
    expect(s.check(5, 0, 0, 0)).toEqual({ kind: 'append' });
  });

  it('lets an unknown producer start anywhere (state is not kept across restarts)', () => {
    expect(new ProducerStates().check(42, 1, 77, 80)).toEqual({ kind: 'append' });
  });
});
