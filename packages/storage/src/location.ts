/**
 * Table locations as URIs, and an explicit resolver from a location to an ObjectStore.
 * `parseLocation` accepts plain paths (relative or absolute), `file:` URLs and `<scheme>://...`
 * URIs and returns a canonical `Location`; it knows no store. `createStoreResolver` maps schemes to
 * factories the caller passes in: there is no global registry, so a package that adds a scheme
 * (S3 later) hands its factory to the resolver it builds. State such as the named MemoryStores
 * lives in the factories object, never at module level.
 */

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WeirError } from './errors.js';
import { LocalStore } from './local-store.js';
import { MemoryStore } from './memory-store.js';
import type { ObjectStore } from './object-store.js';

export interface Location {
  /** Lower-case scheme without ':', e.g. 'file', 'memory', 's3'. */
  readonly scheme: string;
  /**
   * Canonical URI: `file:///abs/path` for local paths; otherwise `<scheme>://<authority>[/<path>]`
   * as written, minus trailing slashes. Equal locations have equal `uri`s.
   */
  readonly uri: string;
  /** What follows '//' up to the next '/': a bucket for s3, the name for memory; '' for file. */
  readonly authority: string;
  /**
   * For file: the absolute local path. Otherwise: the percent-decoded path after the authority,
   * without leading or trailing '/' ('' when there is none), i.e. a key prefix inside the authority.
   */
  readonly path: string;
}

export interface ParseLocationOptions {
  /** Directory that relative paths are resolved against; defaults to `process.cwd()`. */
  cwd?: string;
}

const URI_WITH_AUTHORITY = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)$/;
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const WINDOWS_DRIVE = /^[A-Za-z]:([\\/]|$)/;

function invalidLocation(input: string, reason: string, cause?: unknown): WeirError {
  return new WeirError('INVALID_LOCATION', `invalid table location ${JSON.stringify(input)}: ${reason}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { location: input, reason },
  });
}

/** Parses a table location. Throws WeirError 'INVALID_LOCATION' for input it cannot interpret. */
export function parseLocation(input: string, options: ParseLocationOptions = {}): Location {
  if (typeof input !== 'string' || input.trim() === '')
    throw invalidLocation(String(input), 'empty location');
  if (input.includes('\0')) throw invalidLocation(input, 'NUL character');

  if (/^file:/i.test(input)) {
    let filePath: string;
    try {
      // Percent-decodes, and rejects remote hosts (file://server/...) off Windows.
      filePath = fileURLToPath(input);
    } catch (err) {
      throw invalidLocation(input, 'not a valid local file URL', err);
    }
    return fileLocation(filePath);
  }

  if (WINDOWS_DRIVE.test(input) && path.sep === '\\') return fileLocation(input);

  const match = URI_WITH_AUTHORITY.exec(input);
  if (match !== null) {
    const scheme = match[1]!.toLowerCase();
    const authority = match[2]!;
    const rawPath = match[3]!.replace(/^\/+|\/+$/g, '');
    if (authority === '') throw invalidLocation(input, `a ${scheme}:// location needs a name after '//'`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawPath);
    } catch (err) {
      throw invalidLocation(input, 'malformed percent-encoding', err);
    }
    const uri = `${scheme}://${authority}${rawPath === '' ? '' : `/${rawPath}`}`;
    return { scheme, uri, authority, path: decoded };
  }

  // "name:rest" without '//' is far more likely a mistyped URI than a file name containing ':'.
  const scheme = SCHEME_PREFIX.exec(input);
  if (scheme !== null && scheme[1]!.length > 1) {
    if (input.startsWith('//', scheme[0].length)) {
      throw invalidLocation(input, 'query strings and fragments are not supported (percent-encode ? and #)');
    }
    throw invalidLocation(
      input,
      `'${scheme[1]}:' is not followed by '//' (write ./${input} for a local path)`,
    );
  }
  return fileLocation(path.resolve(options.cwd ?? process.cwd(), input));
}

function fileLocation(filePath: string): Location {
  const absolute = path.resolve(filePath);
  return { scheme: 'file', uri: pathToFileURL(absolute).href, authority: '', path: absolute };
}

/** Builds the store for one location. Called by `resolve`; may return a cached store. */
export type StoreFactory = (location: Location) => ObjectStore;

/** Scheme (lower-case) -> factory. */
export type StoreFactories = Record<string, StoreFactory>;

export interface StoreResolver {
  /** The store for a location (a URI, a path, or an already parsed `Location`). */
  resolve(location: string | Location): ObjectStore;
  /** Schemes this resolver knows, sorted. */
  readonly schemes: readonly string[];
}

/** A resolver over exactly the given factories. Unknown schemes throw 'UNSUPPORTED_SCHEME'. */
export function createStoreResolver(factories: StoreFactories): StoreResolver {
  const table = new Map<string, StoreFactory>();
  for (const [scheme, factory] of Object.entries(factories)) table.set(scheme.toLowerCase(), factory);
  const schemes = [...table.keys()].sort();
  return {
    schemes,
    resolve(location: string | Location): ObjectStore {
      const parsed = typeof location === 'string' ? parseLocation(location) : location;
      const factory = table.get(parsed.scheme);
      if (factory === undefined) {
        const known = schemes.length === 0 ? 'none' : schemes.join(', ');
        throw new WeirError(
          'UNSUPPORTED_SCHEME',
          `no object store for scheme '${parsed.scheme}' (location ${parsed.uri}); known schemes: ${known}`,
          { details: { scheme: parsed.scheme, location: parsed.uri, knownSchemes: schemes } },
        );
      }
      return factory(parsed);
    },
  };
}

/**
 * Factories for `file` (a LocalStore per location) and `memory` (one MemoryStore per distinct
 * `memory://` URI, shared by every resolve through this factories object). Each call returns fresh
 * factories with their own MemoryStores, so two resolvers built from two calls share nothing.
 * Extend with other schemes by spreading: `{ ...defaultStoreFactories(), s3: makeS3 }`.
 */
export function defaultStoreFactories(): StoreFactories {
  const memoryStores = new Map<string, MemoryStore>();
  return {
    file: (location) => new LocalStore(location.path),
    memory: (location) => {
      let store = memoryStores.get(location.uri);
      if (store === undefined) {
        store = new MemoryStore(location.uri.slice('memory://'.length));
        memoryStores.set(location.uri, store);
      }
      return store;
    },
  };
}
