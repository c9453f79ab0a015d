import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import type { ProtocolAction } from '../actions/types.js';
import {
  assertReadable,
  hasReaderFeature,
  MAX_READER_VERSION,
  SUPPORTED_READER_FEATURES,
} from './protocol-support.js';

const where = { table: 'file:///t', version: 7 };

function errorOf(protocol: ProtocolAction): WeirError {
  try {
    assertReadable(protocol, where);
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    return err as WeirError;
  }
  throw new Error('expected assertReadable to throw');
}

describe('assertReadable', () => {
  it.each([
    [1, 1],
    [1, 2],
    [2, 5],
    [3, 7],
  ])('reads protocol (%i, %i)', (r, w) => {
    expect(() => assertReadable({ minReaderVersion: r, minWriterVersion: w }, where)).not.toThrow();
  });

  it('reads every supported reader feature', () => {
    const protocol = {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: [...SUPPORTED_READER_FEATURES],
      writerFeatures: ['appendOnly', 'invariants', 'someFutureWriterFeature'],
    };
    expect(() => assertReadable(protocol, where)).not.toThrow();
    // DESIGN.md "Delta protocol scope" (more may be added, none of these removed).
    for (const f of [
      'columnMapping',
      'deletionVectors',
      'timestampNtz',
      'v2Checkpoint',
      'vacuumProtocolCheck',
    ]) {
      expect(SUPPORTED_READER_FEATURES.has(f)).toBe(true);
    }
  });

  it('refuses a reader version above 3 (UNSUPPORTED_PROTOCOL) naming table and version', () => {
    const err = errorOf({ minReaderVersion: MAX_READER_VERSION + 1, minWriterVersion: 7 });
    expect(err.code).toBe('UNSUPPORTED_PROTOCOL');
    expect(err.details).toEqual({ ...where, minReaderVersion: 4 });
  });

  it('refuses unknown reader features, naming every one of them', () => {
    const err = errorOf({
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['deletionVectors', 'variantType', 'futureFeature'],
    });
    expect(err.code).toBe('UNSUPPORTED_FEATURE');
    expect(err.details).toEqual({ ...where, features: ['variantType', 'futureFeature'] });
  });

  it('does not look at writer features', () => {
    expect(() =>
      assertReadable(
        { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: [], writerFeatures: ['x'] },
        where,
      ),
    ).not.toThrow();
    expect(() => assertReadable({ minReaderVersion: 3, minWriterVersion: 7 }, where)).not.toThrow();
  });
});

describe('hasReaderFeature', () => {
  it('reads the feature list at reader version 3', () => {
    const p = { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'] };
    expect(hasReaderFeature(p, 'deletionVectors')).toBe(true);
    expect(hasReaderFeature(p, 'columnMapping')).toBe(false);
  });

  it('implies column mapping from reader version 2, and nothing at version 1', () => {
    expect(hasReaderFeature({ minReaderVersion: 2, minWriterVersion: 5 }, 'columnMapping')).toBe(true);
    expect(hasReaderFeature({ minReaderVersion: 2, minWriterVersion: 5 }, 'deletionVectors')).toBe(false);
    expect(hasReaderFeature({ minReaderVersion: 1, minWriterVersion: 2 }, 'columnMapping')).toBe(false);
  });
});
