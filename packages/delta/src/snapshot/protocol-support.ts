/**
 * Which protocols and table features this reader supports (DESIGN.md "Delta protocol scope").
 * A table that needs more gets a typed error naming what is missing, before any data is read.
 */
import { WeirError } from '@weir/storage';
import type { ProtocolAction } from '../actions/types.js';

export const SUPPORTED_READER_FEATURES: ReadonlySet<string> = new Set([
  'deletionVectors',
  'columnMapping',
  'timestampNtz',
  'v2Checkpoint',
  'vacuumProtocolCheck',
  // Files written before a column was widened hold the narrower type; the scan widens them.
  'typeWidening',
]);

export const MAX_READER_VERSION = 3;

export function assertReadable(protocol: ProtocolAction, where: { table: string; version: number }): void {
  const { minReaderVersion } = protocol;
  if (minReaderVersion > MAX_READER_VERSION) {
    throw new WeirError(
      'UNSUPPORTED_PROTOCOL',
      `${where.table} (version ${where.version}) needs reader version ${minReaderVersion}; Weir reads up to ${MAX_READER_VERSION}`,
      { details: { ...where, minReaderVersion } },
    );
  }
  if (minReaderVersion === 3) {
    const missing = (protocol.readerFeatures ?? []).filter((f) => !SUPPORTED_READER_FEATURES.has(f));
    if (missing.length > 0) {
      throw new WeirError(
        'UNSUPPORTED_FEATURE',
        `${where.table} (version ${where.version}) uses reader feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that Weir does not support`,
        { details: { ...where, features: missing } },
      );
    }
  }
}

/** Whether the table uses a reader feature (implied by reader version 2 for column mapping). */
export function hasReaderFeature(protocol: ProtocolAction, feature: string): boolean {
  if (protocol.minReaderVersion === 3) return (protocol.readerFeatures ?? []).includes(feature);
  if (feature === 'columnMapping') return protocol.minReaderVersion >= 2;
  return false;
}
