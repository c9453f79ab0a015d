/**
 * MemoryStore: an ObjectStore held in a Map, for unit tests of logic that goes through a store.
 * Same semantics as LocalStore (key rules, errors, ordering, atomicity). Bytes are copied on the way
 * in and on the way out, so a caller mutating its buffer can never change a stored object and vice
 * versa. Every mutation happens in one synchronous step after all input has been collected, which
 * is what makes `put` and `putIfAbsent` atomic on JavaScript's single thread.
 */

import { concatBytes } from './bytes.js';
import { AlreadyExistsError, NotFoundError, WeirError } from './errors.js';
import { assertValidKey, assertValidPrefix, assertValidRange, compareKeys } from './keys.js';
import type { ListOptions, ObjectMeta, ObjectStore, PutOptions } from './object-store.js';

interface StoredObject {
  readonly bytes: Uint8Array;
  readonly lastModified: number;
}

export class MemoryStore implements ObjectStore {
  /** `memory://<name>`. */
  readonly root: string;
  private readonly objects = new Map<string, StoredObject>();

  constructor(name = 'default') {
    this.root = `memory://${name}`;
  }

  async get(key: string): Promise<Uint8Array> {
    return copyBytes(this.read(key).bytes);
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    assertValidRange(key, offset, length);
    const { bytes } = this.read(key);
    const start = Math.min(offset, bytes.byteLength);
    return bytes.slice(start, Math.min(bytes.byteLength, start + length));
  }

  async head(key: string): Promise<ObjectMeta> {
    const object = this.read(key);
    return { key, size: object.bytes.byteLength, lastModified: object.lastModified };
  }

  async put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, _options?: PutOptions): Promise<void> {
    assertValidKey(key);
    const bytes = data instanceof Uint8Array ? copyBytes(data) : await collect(key, data);
    this.objects.set(key, { bytes, lastModified: Date.now() });
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<void> {
    assertValidKey(key);
    if (this.objects.has(key)) throw new AlreadyExistsError(key, { details: { root: this.root } });
    this.objects.set(key, { bytes: copyBytes(data), lastModified: Date.now() });
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncGenerator<ObjectMeta> {
    assertValidPrefix(prefix);
    const { startAfter } = options;
    const keys: string[] = [];
    for (const key of this.objects.keys()) {
      if (key.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0))
        keys.push(key);
    }
    keys.sort(compareKeys);
    for (const key of keys) {
      // Keys deleted while the caller iterates are skipped, as a paginated object-store listing would.
      const object = this.objects.get(key);
      if (object !== undefined)
        yield { key, size: object.bytes.byteLength, lastModified: object.lastModified };
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    this.objects.delete(key);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    for (const key of keys) this.objects.delete(key);
  }

  private read(key: string): StoredObject {
    assertValidKey(key);
    const object = this.objects.get(key);
    if (object === undefined) throw new NotFoundError(key, { details: { root: this.root } });
    return object;
  }
}

async function collect(key: string, source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) {
      throw new WeirError('INVALID_ARGUMENT', `put ${key}: stream yielded a non-Uint8Array chunk`, {
        details: { key },
      });
    }
    // Copy now: the source may reuse its buffer for the next chunk.
    chunks.push(copyBytes(chunk));
  }
  return concatBytes(chunks);
}

/** A copy in a fresh plain Uint8Array (a Buffer's own `slice` would share memory, not copy). */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
