/**
 * Deletion-vector descriptors (PROTOCOL.md "Deletion Vectors"): where a DV's bytes live, its unique
 * id, the DV file format, and `loadDeletionVector`, the one function here that does IO (through the
 * ObjectStore it is given).
 *
 * - storageType 'i': the RoaringBitmapArray is Z85 text in `pathOrInlineDv`; `sizeInBytes` is the
 *   raw size (Z85 pads to a multiple of 4 bytes; the padding is dropped).
 * - storageType 'u': `pathOrInlineDv` = optional random prefix + 20 Z85 characters encoding a UUID;
 *   the file is `<table root>/<prefix>/deletion_vector_<uuid>.bin`.
 * - storageType 'p': an absolute URI (URI-encoded like `add.path`); Weir reads it only when it lies
 *   under the table root (it then becomes a key of the table's store), else 'UNSUPPORTED_DV_PATH'.
 * - DV file: byte 0 is the format version (1); each DV at `offset` is a big-endian u32 `dataSize`,
 *   `dataSize` bytes of bitmap, then the big-endian CRC-32 of those bytes. A load reads exactly
 *   `offset .. offset + 4 + sizeInBytes + 4` and checks size, checksum and cardinality.
 * Every mismatch throws `CORRUPT_DELETION_VECTOR` naming the data file, DV path and offset.
 */

import { isWeirError, type ObjectStore, WeirError } from '@weir/storage';
import type { DeletionVectorDescriptor } from '../actions/types.js';
import { crc32 } from '../util/crc32.js';
import { z85Decode, z85DecodeUuid, z85Encode } from '../util/z85.js';
import {
  corruptDeletionVector,
  DeletedRows,
  type DvErrorContext,
  decodeDeletionVector,
  type EncodeDeletionVectorOptions,
  encodeDeletionVector,
} from './deletion-vector-codec.js';

export {
  DeletedRows,
  type DvCorruption,
  type DvErrorContext,
  decodeDeletionVector,
  encodeDeletionVector,
} from './deletion-vector-codec.js';

/** The DV file format version Weir reads and writes (first byte of every DV file). */
export const DV_FILE_FORMAT_VERSION = 1;

const UUID_Z85_LENGTH = 20;

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
 * The store key of the file holding an on-disk DV ('u' or 'p'). `tableRootKey` is the table's key
 * prefix in the store; `storeRoot` (the store's root URI, `ObjectStore.root`) is needed only to
 * turn a 'p' URI into a key. Throws 'UNSUPPORTED_DV_PATH' for a 'p' path outside the table root,
 * 'CORRUPT_DELETION_VECTOR' for a malformed 'u' path, 'INVALID_ARGUMENT' for an inline DV.
 */
export function absoluteDvPath(
  descriptor: DeletionVectorDescriptor,
  tableRootKey: string,
  storeRoot?: string,
): string {
  const root = splitKey(tableRootKey);
  const { storageType, pathOrInlineDv } = descriptor;
  if (storageType === 'u') {
    if (pathOrInlineDv.length < UUID_Z85_LENGTH) {
      throw corruptDeletionVector(
        'malformed',
        `'u' path ${JSON.stringify(pathOrInlineDv)} is shorter than the 20-character encoded UUID`,
        {
          dvPath: pathOrInlineDv,
        },
      );
    }
    const prefix = pathOrInlineDv.slice(0, pathOrInlineDv.length - UUID_Z85_LENGTH);
    let uuid: string;
    try {
      uuid = z85DecodeUuid(pathOrInlineDv.slice(-UUID_Z85_LENGTH));
    } catch (err) {
      throw corruptDeletionVector(
        'malformed',
        `'u' path ${JSON.stringify(pathOrInlineDv)} does not end in a Z85-encoded UUID`,
        { dvPath: pathOrInlineDv },
        undefined,
        err,
      );
    }
    return [...root, ...splitKey(prefix), `deletion_vector_${uuid}.bin`].join('/');
  }
  if (storageType === 'p') return keyForAbsolutePath(pathOrInlineDv, root, storeRoot);
  if (storageType === 'i') {
    throw new WeirError('INVALID_ARGUMENT', 'an inline deletion vector has no path', {
      details: { storageType },
    });
  }
  throw corruptDeletionVector('unknown-storage-type', `unknown storageType ${JSON.stringify(storageType)}`, {
    dvPath: pathOrInlineDv,
  });
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
  if (descriptor.storageType !== 'u' && descriptor.storageType !== 'p') {
    throw corruptDeletionVector(
      'unknown-storage-type',
      `unknown storageType ${JSON.stringify(descriptor.storageType)}`,
      context,
    );
  }
  let key: string;
  try {
    key = absoluteDvPath(descriptor, tableRootKey(opts.tableRoot, store.root), store.root);
  } catch (err) {
    if (isWeirError(err, 'CORRUPT_DELETION_VECTOR'))
      throw corruptDeletionVector('malformed', err.message, context, undefined, err);
    if (isWeirError(err, 'UNSUPPORTED_DV_PATH')) {
      throw new WeirError('UNSUPPORTED_DV_PATH', `${err.message} (data file ${opts.dataFile})`, {
        cause: err,
        details: { ...err.details, dataFile: opts.dataFile },
      });
    }
    throw err;
  }
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
  let bytes: Uint8Array;
  try {
    bytes = z85Decode(descriptor.pathOrInlineDv, descriptor.sizeInBytes);
  } catch (err) {
    const reason =
      isWeirError(err, 'INVALID_Z85') && descriptor.pathOrInlineDv.length % 5 === 0
        ? 'size-mismatch'
        : 'malformed';
    const what = isWeirError(err) ? err.message : String(err);
    throw corruptDeletionVector(
      reason,
      `inline DV of ${descriptor.sizeInBytes} bytes: ${what}`,
      context,
      undefined,
      err,
    );
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

// ---------------------------------------------------------------------------------------------
// 'p' paths: absolute URI -> key under the table root

interface ParsedUri {
  /** Lower-case scheme, or undefined for a bare absolute path. */
  scheme: string | undefined;
  authority: string;
  /** Percent-decoded, non-empty path segments. */
  segments: string[];
}

/** Schemes that name the same object stores. */
const SCHEME_ALIASES: Readonly<Record<string, string>> = { s3a: 's3', s3n: 's3' };

function keyForAbsolutePath(
  dvPath: string,
  tableRoot: readonly string[],
  storeRoot: string | undefined,
): string {
  const unsupported = (why: string) =>
    new WeirError(
      'UNSUPPORTED_DV_PATH',
      `deletion vector path ${dvPath} ${why}; Weir reads DVs only under the table root`,
      {
        details: {
          dvPath,
          tableRoot: tableRoot.join('/'),
          ...(storeRoot === undefined ? {} : { storeRoot }),
        },
      },
    );
  const dv = parseUri(dvPath);
  if (dv === undefined) throw unsupported('is not an absolute URI or path');
  if (storeRoot === undefined) throw unsupported('cannot be resolved without the store root');
  const store = parseUri(storeRoot);
  if (store === undefined) throw unsupported(`cannot be compared with store root ${storeRoot}`);
  const root = [...store.segments, ...tableRoot];
  if (dv.scheme !== undefined && (dv.scheme !== store.scheme || dv.authority !== store.authority)) {
    throw unsupported(`is not in the table's store (${storeRoot})`);
  }
  const inside = dv.segments.length > root.length && root.every((segment, i) => dv.segments[i] === segment);
  if (!inside) throw unsupported(`is outside the table root ${[storeRoot, ...tableRoot].join('/')}`);
  return [...tableRoot, ...dv.segments.slice(root.length)].join('/');
}

function parseUri(text: string): ParsedUri | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(text);
  let scheme: string | undefined;
  let authority = '';
  let rest: string;
  if (match !== null && (match[1] as string).length > 1) {
    const raw = (match[1] as string).toLowerCase();
    scheme = SCHEME_ALIASES[raw] ?? raw;
    rest = match[2] as string;
    if (rest.startsWith('//')) {
      const slash = rest.indexOf('/', 2);
      authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
      rest = slash < 0 ? '' : rest.slice(slash);
    }
    if (scheme === 'file' && authority === 'localhost') authority = '';
  } else if (text.startsWith('/')) {
    rest = text;
  } else {
    return undefined;
  }
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '.' || segment === '..') return undefined;
    segments.push(segment);
  }
  return { scheme, authority, segments };
}

/** A table root given as a location (URI or absolute path) -> its key prefix in the store. */
function tableRootKey(tableRoot: string, storeRoot: string): string {
  if (
    !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(tableRoot) &&
    !/^file:/i.test(tableRoot) &&
    !tableRoot.startsWith('/')
  ) {
    return tableRoot;
  }
  const table = parseUri(tableRoot);
  const store = parseUri(storeRoot);
  if (
    table !== undefined &&
    store !== undefined &&
    (table.scheme === undefined || (table.scheme === store.scheme && table.authority === store.authority)) &&
    table.segments.length >= store.segments.length &&
    store.segments.every((segment, i) => table.segments[i] === segment)
  ) {
    return table.segments.slice(store.segments.length).join('/');
  }
  throw new WeirError(
    'INVALID_ARGUMENT',
    `table root ${tableRoot} is not inside the store root ${storeRoot}`,
    {
      details: { tableRoot, storeRoot },
    },
  );
}

function splitKey(key: string): string[] {
  return key.split('/').filter((segment) => segment !== '');
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
