/**
 * Deletion-vector descriptors (PROTOCOL.md "Deletion Vectors"): where a DV's bytes live, its unique
 * id, the DV file format, and `loadDeletionVector`, the one function here that does IO (through the
 * ObjectStore it is given).
 *
 * - storageType 'i': the RoaringBitmapArray is Z85 text in `pathOrInlineDv`; `sizeInBytes` is the
 *   raw size (Z85 pads to a multiple of 4 bytes; the padding is dropped).
 * - storageType 'u' / 'p': a DV file; deletion-vector-path.ts maps the descriptor to its key.
 * - DV file: byte 0 is the format version (1); each DV at `offset` is a big-endian u32 `dataSize`,
 *   `dataSize` bytes of bitmap, then the big-endian CRC-32 of those bytes. A load reads exactly
 *   `offset .. offset + 4 + sizeInBytes + 4` and checks size, checksum and cardinality.
 * Every mismatch throws `CORRUPT_DELETION_VECTOR` naming the data file, DV path and offset.
 */

import { isWeirError, type ObjectStore, WeirError } from '@weir/storage';
import type { DeletionVectorDescriptor } from '../actions/types.js';
import { crc32 } from '../util/crc32.js';
import { z85Decode, z85Encode } from '../util/z85.js';
import {
  corruptDeletionVector,
  DeletedRows,
  type DvErrorContext,
  decodeDeletionVector,
  type EncodeDeletionVectorOptions,
  encodeDeletionVector,
} from './deletion-vector-codec.js';
import { resolveDvKey, tableRootKey } from './deletion-vector-path.js';

export {
  DeletedRows,
  type DvCorruption,
  type DvErrorContext,
  decodeDeletionVector,
  encodeDeletionVector,
} from './deletion-vector-codec.js';
export { absoluteDvPath } from './deletion-vector-path.js';

/** The DV file format version Weir reads and writes (first byte of every DV file). */
export const DV_FILE_FORMAT_VERSION = 1;

export interface LoadDeletionVectorOptions {
  /**
   * The table root: its key prefix inside the store ('' when the store is rooted at the table), or
   * its location URI (e.g. `store.root`, which a snapshot calls its `table`), made relative to
   * `store.root`.
   */
  tableRoot: string;
  /** The data file (add.path) the DV belongs to, for error messages. */
  dataFile: string;
}

/**
 * The protocol's `uniqueId`: `<storageType><pathOrInlineDv>` plus `@<offset>` when an offset is
 * present. Together with the path it identifies a logical file; also a cache key for loaded DVs.
 */
export function dvUniqueId(descriptor: DeletionVectorDescriptor): string {
  const id = `${descriptor.storageType}${descriptor.pathOrInlineDv}`;
  return descriptor.offset === undefined ? id : `${id}@${descriptor.offset}`;
}

/**
 * Loads the rows a DV deletes. Inline DVs are decoded without IO; on-disk ones are read with one
 * `getRange`. A descriptor with cardinality 0 yields the empty set without reading anything.
 */
export async function loadDeletionVector(
  store: ObjectStore,
  descriptor: DeletionVectorDescriptor,
  opts: LoadDeletionVectorOptions,
): Promise<DeletedRows> {
  const context: DvErrorContext = {
    dataFile: opts.dataFile,
    dvPath: descriptor.storageType === 'i' ? 'inline' : descriptor.pathOrInlineDv,
  };
  checkDescriptor(descriptor, context);
  if (descriptor.cardinality === 0) return DeletedRows.EMPTY;
  if (descriptor.storageType === 'i') return decodeInline(descriptor, context);
  const key = resolveDvKey(descriptor, tableRootKey(opts.tableRoot, store.root), store.root, context);
  const offset = descriptor.offset ?? 0;
  const fileContext: DvErrorContext = { dataFile: opts.dataFile, dvPath: key, dvOffset: offset };
  // The first DV of a file sits right after the version byte: read that byte too and check it.
  const withVersion = offset === 1;
  const start = withVersion ? 0 : offset;
  const length = descriptor.sizeInBytes + 8 + (withVersion ? 1 : 0);
  let bytes: Uint8Array;
  try {
    bytes = await store.getRange(key, start, length);
  } catch (err) {
    if (isWeirError(err, 'NOT_FOUND')) {
      throw new WeirError(
        'DELETION_VECTOR_NOT_FOUND',
        `deletion vector file ${key} of data file ${opts.dataFile} does not exist`,
        {
          cause: err,
          details: { ...fileContext },
        },
      );
    }
    throw err;
  }
  if (withVersion) {
    if (bytes.length > 0 && bytes[0] !== DV_FILE_FORMAT_VERSION) {
      throw corruptDeletionVector(
        'bad-version',
        `DV file format version ${bytes[0]} (expected ${DV_FILE_FORMAT_VERSION})`,
        fileContext,
      );
    }
    bytes = bytes.subarray(1);
  }
  return decodeDvFileEntry(bytes, descriptor, fileContext);
}

/**
 * Decodes one DV of a DV file from the bytes at its offset (`dataSize` u32 BE, bitmap, CRC-32 BE):
 * checks the size against `sizeInBytes`, the checksum, and the cardinality. Pure.
 */
export function decodeDvFileEntry(
  bytes: Uint8Array,
  descriptor: DeletionVectorDescriptor,
  context: DvErrorContext = {},
): DeletedRows {
  const size = descriptor.sizeInBytes;
  if (bytes.length < 4) {
    throw corruptDeletionVector(
      'size-mismatch',
      `the DV file ends ${bytes.length} bytes after the offset; expected ${size + 8}`,
      context,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(0, false);
  if (stored !== size) {
    throw corruptDeletionVector(
      'size-mismatch',
      `the file says the DV has ${stored} bytes, the descriptor says ${size}`,
      context,
    );
  }
  if (bytes.length < size + 8) {
    throw corruptDeletionVector(
      'size-mismatch',
      `the DV file ends ${bytes.length} bytes after the offset; expected ${size + 8}`,
      context,
    );
  }
  const data = bytes.subarray(4, 4 + size);
  const expected = view.getUint32(4 + size, false);
  const actual = crc32(data);
  if (expected !== actual) {
    throw corruptDeletionVector(
      'checksum-mismatch',
      `CRC-32 ${hex(actual)} does not match the stored ${hex(expected)}`,
      context,
    );
  }
  return checkCardinality(decodeDeletionVector(data, context), descriptor, context);
}

/** An inline ('i') descriptor for a set of deleted rows: no file needed. */
export function inlineDeletionVector(
  rows: Iterable<number> | DeletedRows,
  options: EncodeDeletionVectorOptions = {},
): DeletionVectorDescriptor {
  const bytes = encodeDeletionVector(rows, options);
  const cardinality = decodeDeletionVector(bytes).cardinality;
  return { storageType: 'i', pathOrInlineDv: z85Encode(bytes), sizeInBytes: bytes.length, cardinality };
}

/** Where one DV landed in a file built by `encodeDvFile`. */
export interface DvFileEntry {
  offset: number;
  sizeInBytes: number;
}

/** Builds a DV file (version byte, then size + bitmap + CRC-32 per DV) from serialized bitmaps. */
export function encodeDvFile(bitmaps: readonly Uint8Array[]): { bytes: Uint8Array; entries: DvFileEntry[] } {
  const total = 1 + bitmaps.reduce((sum, b) => sum + b.length + 8, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes[0] = DV_FILE_FORMAT_VERSION;
  const entries: DvFileEntry[] = [];
  let p = 1;
  for (const bitmap of bitmaps) {
    entries.push({ offset: p, sizeInBytes: bitmap.length });
    view.setUint32(p, bitmap.length, false);
    bytes.set(bitmap, p + 4);
    view.setUint32(p + 4 + bitmap.length, crc32(bitmap), false);
    p += bitmap.length + 8;
  }
  return { bytes, entries };
}

function decodeInline(descriptor: DeletionVectorDescriptor, context: DvErrorContext): DeletedRows {
  if (descriptor.offset !== undefined) {
    throw corruptDeletionVector('malformed', 'an inline DV must not have an offset', context);
  }
  const text = descriptor.pathOrInlineDv;
  // Z85 pads to a multiple of 4 bytes: the text must hold sizeInBytes plus at most 3 bytes.
  const capacity = Math.floor(text.length / 5) * 4;
  if (text.length % 5 === 0 && (capacity < descriptor.sizeInBytes || capacity - descriptor.sizeInBytes > 3)) {
    throw corruptDeletionVector(
      'size-mismatch',
      `inline text of ${text.length} characters holds ${capacity} bytes, the descriptor says ${descriptor.sizeInBytes}`,
      context,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = z85Decode(text, descriptor.sizeInBytes);
  } catch (err) {
    const what = isWeirError(err) ? err.message : String(err);
    throw corruptDeletionVector('malformed', `inline DV: ${what}`, context, undefined, err);
  }
  return checkCardinality(decodeDeletionVector(bytes, context), descriptor, context);
}

function checkCardinality(
  rows: DeletedRows,
  descriptor: DeletionVectorDescriptor,
  context: DvErrorContext,
): DeletedRows {
  if (rows.cardinality !== descriptor.cardinality) {
    throw corruptDeletionVector(
      'cardinality-mismatch',
      `the bitmap holds ${rows.cardinality} rows, the descriptor says ${descriptor.cardinality}`,
      context,
    );
  }
  return rows;
}

function checkDescriptor(d: DeletionVectorDescriptor, context: DvErrorContext): void {
  const bad = (field: string, value: unknown) =>
    corruptDeletionVector(
      'malformed',
      `descriptor field ${field} is ${JSON.stringify(value)}, not a non-negative integer`,
      context,
    );
  if (!Number.isSafeInteger(d.sizeInBytes) || d.sizeInBytes < 0) throw bad('sizeInBytes', d.sizeInBytes);
  if (!Number.isSafeInteger(d.cardinality) || d.cardinality < 0) throw bad('cardinality', d.cardinality);
  if (d.offset !== undefined && (!Number.isSafeInteger(d.offset) || d.offset < 0))
    throw bad('offset', d.offset);
  if (typeof d.pathOrInlineDv !== 'string') throw bad('pathOrInlineDv', d.pathOrInlineDv);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
