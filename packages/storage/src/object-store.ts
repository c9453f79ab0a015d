/**
 * The ObjectStore contract every table location goes through. Keys are '/'-separated paths
 * relative to the store's root, never starting with '/'. Invariants every implementation keeps:
 * - `putIfAbsent` is atomic: exactly one of many concurrent callers wins; the rest get
 *   `AlreadyExistsError`; no reader ever sees a partial object.
 * - `put` replaces an object atomically (readers see the old or the new bytes, never a mix).
 * - `list` returns keys sorted by UTF-8 byte order, recursively below the prefix.
 * - `delete` of a missing key succeeds.
 * - Reads of missing keys throw `NotFoundError`.
 */

export interface ObjectMeta {
  key: string;
  size: number;
  /** Last modification time, epoch milliseconds. */
  lastModified: number;
}

export interface ListOptions {
  /** Only keys strictly greater than this one (full key, not relative to the prefix). */
  startAfter?: string;
}

export interface PutOptions {
  /** A hint for stores that upload large objects in parts. */
  contentLength?: number;
  /**
   * For a streamed put: the producer never reuses or changes a chunk once it has yielded it, so
   * the store may keep views of chunks (e.g. as upload parts) instead of copying them.
   */
  chunksOwned?: boolean;
}

export interface ObjectStore {
  /** A human-readable location (URI) of the store's root, for error messages. */
  readonly root: string;
  get(key: string): Promise<Uint8Array>;
  /** Bytes [offset, offset + length); a range past the end is truncated to the object. */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  head(key: string): Promise<ObjectMeta>;
  put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<void>;
  putIfAbsent(key: string, data: Uint8Array): Promise<void>;
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectMeta>;
  delete(key: string): Promise<void>;
  /** Deletes many keys; missing ones are ignored. Stores may batch. */
  deleteMany?(keys: readonly string[]): Promise<void>;
}

/** Collects `list` into an array (for small listings such as `_delta_log/`). */
export async function listAll(
  store: ObjectStore,
  prefix: string,
  options?: ListOptions,
): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = [];
  for await (const meta of store.list(prefix, options)) out.push(meta);
  return out;
}

/** Deletes keys through `deleteMany` when the store has it, else one by one. */
export async function deleteAll(store: ObjectStore, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  if (store.deleteMany) return store.deleteMany(keys);
  for (const key of keys) await store.delete(key);
}
