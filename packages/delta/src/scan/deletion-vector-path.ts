/**
 * Where an on-disk deletion vector lives: descriptor -> object key (PROTOCOL.md "Derived Fields",
 * `absolutePath`). Pure; no IO.
 *
 * - 'u': optional random prefix + 20 Z85 characters encoding a UUID ->
 *   `<table root>/<prefix>/deletion_vector_<uuid>.bin`.
 * - 'p': an absolute URI (URI-encoded like `add.path`, decoded exactly once here) or absolute
 *   path. It becomes a key only when it lies under the table root in the table's own store
 *   (s3/s3a/s3n count as one scheme; `file:/x`, `file:///x` and `/x` are the same path); anything
 *   else is 'UNSUPPORTED_DV_PATH', since Weir reads through the one store it is given.
 * Keys never contain '.' or '..' segments or empty segments.
 */

import { WeirError } from '@weir/storage';
import type { DeletionVectorDescriptor } from '../actions/types.js';
import { z85DecodeUuid } from '../util/z85.js';
import { corruptDeletionVector, type DvErrorContext } from './deletion-vector-codec.js';

const UUID_Z85_LENGTH = 20;

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
  return resolveDvKey(descriptor, tableRootKey, storeRoot, { dvPath: descriptor.pathOrInlineDv });
}

/** `absoluteDvPath` with the caller's error context (data file). */
export function resolveDvKey(
  descriptor: DeletionVectorDescriptor,
  tableRootKey: string,
  storeRoot: string | undefined,
  context: DvErrorContext,
): string {
  const root = splitKey(tableRootKey);
  const { storageType, pathOrInlineDv } = descriptor;
  if (storageType === 'u') {
    const prefix = pathOrInlineDv.slice(0, Math.max(0, pathOrInlineDv.length - UUID_Z85_LENGTH));
    let uuid: string;
    try {
      uuid = z85DecodeUuid(pathOrInlineDv.slice(prefix.length));
    } catch (err) {
      throw corruptDeletionVector(
        'malformed',
        `'u' path ${JSON.stringify(pathOrInlineDv)} does not end in a 20-character Z85-encoded UUID`,
        context,
        undefined,
        err,
      );
    }
    const prefixSegments = splitKey(prefix);
    if (prefixSegments.some((segment) => segment === '.' || segment === '..')) {
      throw corruptDeletionVector(
        'malformed',
        `'u' path prefix ${JSON.stringify(prefix)} leaves the table root`,
        context,
      );
    }
    return [...root, ...prefixSegments, `deletion_vector_${uuid}.bin`].join('/');
  }
  if (storageType === 'p') return keyForAbsolutePath(pathOrInlineDv, root, storeRoot, context);
  if (storageType === 'i') {
    throw new WeirError('INVALID_ARGUMENT', 'an inline deletion vector has no path', {
      details: { storageType },
    });
  }
  throw corruptDeletionVector(
    'unknown-storage-type',
    `unknown storageType ${JSON.stringify(storageType)}`,
    context,
  );
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
  context: DvErrorContext,
): string {
  const unsupported = (why: string) => {
    const of = context.dataFile === undefined ? '' : ` (data file ${context.dataFile})`;
    return new WeirError(
      'UNSUPPORTED_DV_PATH',
      `deletion vector path ${dvPath}${of} ${why}; Weir reads DVs only under the table root`,
      {
        details: {
          ...context,
          dvPath,
          tableRoot: tableRoot.join('/'),
          ...(storeRoot === undefined ? {} : { storeRoot }),
        },
      },
    );
  };
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

/**
 * The key, relative to `storeRoot`, of an absolute URI or path (`add.path` of a file written
 * with absolute paths), decoded exactly once; undefined when it is not under the store root.
 * `file:/x`, `file:///x` and `/x` are one path; s3, s3a and s3n one scheme.
 */
export function keyUnderStoreRoot(uri: string, storeRoot: string): string | undefined {
  const target = parseUri(uri);
  const store = parseUri(storeRoot);
  if (target === undefined || store === undefined) return undefined;
  if (
    target.scheme !== undefined &&
    (target.scheme !== store.scheme || target.authority !== store.authority)
  ) {
    return undefined;
  }
  const inside =
    target.segments.length > store.segments.length &&
    store.segments.every((segment, i) => target.segments[i] === segment);
  return inside ? target.segments.slice(store.segments.length).join('/') : undefined;
}

/** A table root given as a location (URI or absolute path) -> its key prefix in the store. */
export function tableRootKey(tableRoot: string, storeRoot: string): string {
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
