/**
 * The ObjectStore contract as a reusable vitest suite. Every store implementation calls
 * `describeObjectStoreContract` from its own test file; passing it is what "is an ObjectStore"
 * means. Exported from `@weir/storage/contract` (not the main entry) because it imports vitest.
 * Each test gets a fresh, empty store from `makeStore` and calls its `cleanup` afterwards. The suite
 * uses only the public ObjectStore API, so it holds for any backend (local disk, memory, S3).
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, WeirError } from './errors.js';
import { deleteAll, listAll, type ObjectStore } from './object-store.js';

export interface ContractStore {
  store: ObjectStore;
  cleanup?: () => Promise<void>;
}

const encoder = new TextEncoder();
const text = (s: string): Uint8Array => encoder.encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const byteOrder = (keys: readonly string[]): string[] =>
  [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

/** `size` bytes whose first 4 hold `id` and the rest a sequence seeded by it (distinct per id). */
function payload(id: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, id);
  let x = (id + 1) * 2654435761;
  for (let i = 4; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function* chunked(parts: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    await Promise.resolve();
    yield part;
  }
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to reject');
    },
    (err: unknown) => err,
  );
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<WeirError> {
  const err = await errorOf(promise);
  expect(err).toBeInstanceOf(WeirError);
  expect((err as WeirError).code).toBe(code);
  return err as WeirError;
}

async function expectNotFound(promise: Promise<unknown>, key: string): Promise<void> {
  const err = await expectCode(promise, 'NOT_FOUND');
  expect(err).toBeInstanceOf(NotFoundError);
  expect(err.details.key).toBe(key);
}

export function describeObjectStoreContract(name: string, makeStore: () => Promise<ContractStore>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      const made = await makeStore();
      store = made.store;
      cleanup = made.cleanup;
    });
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    const keysOf = async (prefix: string, startAfter?: string): Promise<string[]> =>
      (await listAll(store, prefix, startAfter === undefined ? {} : { startAfter })).map((m) => m.key);
    const putAll = async (keys: readonly string[]): Promise<void> => {
      for (const key of keys) await store.put(key, text(`value of ${key}`));
    };

    describe('get / put', () => {
      it('round-trips bytes, including an empty object and every byte value', async () => {
        await store.put('a.txt', text('hello'));
        expect(decode(await store.get('a.txt'))).toBe('hello');

        await store.put('empty', new Uint8Array(0));
        expect((await store.get('empty')).byteLength).toBe(0);
        expect((await store.head('empty')).size).toBe(0);

        const binary = new Uint8Array(256 * 5 + 3).map((_, i) => i % 256);
        await store.put('bin/all-bytes', binary);
        expect(sameBytes(await store.get('bin/all-bytes'), binary)).toBe(true);

        const big = payload(7, 3 * 1024 * 1024 + 11);
        await store.put('bin/big', big);
        expect(sameBytes(await store.get('bin/big'), big)).toBe(true);
      });

      it('does not share memory with the caller', async () => {
        const input = text('original');
        await store.put('k', input);
        input.fill(0);
        const first = await store.get('k');
        first.fill(0);
        expect(decode(await store.get('k'))).toBe('original');
      });

      it('overwrites an existing object', async () => {
        await store.put('k', text('first, longer value'));
        await store.put('k', text('second'));
        expect(decode(await store.get('k'))).toBe('second');
        expect((await store.head('k')).size).toBe(6);
        expect(await keysOf('')).toEqual(['k']);
      });

      it('puts from an AsyncIterable of chunks', async () => {
        const parts = [text('ab'), new Uint8Array(0), payload(1, 100_000), text('z')];
        await store.put('streamed/x.bin', chunked(parts), { contentLength: 100_003 });
        const expected = Buffer.concat(parts);
        expect(sameBytes(await store.get('streamed/x.bin'), expected)).toBe(true);

        const many = Array.from({ length: 64 }, (_, i) => payload(i, 64 * 1024));
        await store.put('streamed/many.bin', chunked(many));
        expect(sameBytes(await store.get('streamed/many.bin'), Buffer.concat(many))).toBe(true);
      });

      it('leaves the previous object intact when the source stream fails', async () => {
        await store.put('k', text('old'));
        const boom = new Error('source failed');
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield payload(1, 1024);
          throw boom;
        }
        expect(await errorOf(store.put('k', failing()))).toBe(boom);
        expect(await errorOf(store.put('fresh', failing()))).toBe(boom);
        expect(decode(await store.get('k'))).toBe('old');
        expect(await keysOf('')).toEqual(['k']);
      });

      it('replaces atomically: a concurrent reader sees one whole version or the other', async () => {
        const versions = [payload(1, 256 * 1024), payload(2, 256 * 1024)];
        await store.put('k', versions[0]!);
        let done = false;
        let reads = 0;
        const reader = (async () => {
          while (!done) {
            const got = await store.get('k');
            expect(sameBytes(got, versions[0]!) || sameBytes(got, versions[1]!)).toBe(true);
            reads++;
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        for (let i = 1; i <= 16; i++) await store.put('k', versions[i % 2]!);
        done = true;
        await reader;
        expect(reads).toBeGreaterThan(0);
      });
    });

    describe('getRange', () => {
      it('reads the middle, to the end, past the end and zero bytes', async () => {
        await store.put('r', text('0123456789'));
        expect(decode(await store.getRange('r', 3, 4))).toBe('3456');
        expect(decode(await store.getRange('r', 6, 4))).toBe('6789');
        expect(decode(await store.getRange('r', 0, 10))).toBe('0123456789');
        expect(decode(await store.getRange('r', 7, 100))).toBe('789');
        expect((await store.getRange('r', 10, 5)).byteLength).toBe(0);
        expect((await store.getRange('r', 50, 5)).byteLength).toBe(0);
        expect((await store.getRange('r', 4, 0)).byteLength).toBe(0);
      });

      it('reads ranges of binary data', async () => {
        const data = payload(3, 200_000);
        await store.put('bin', data);
        expect(sameBytes(await store.getRange('bin', 123_456, 50_000), data.subarray(123_456, 173_456))).toBe(
          true,
        );
      });

      it('rejects negative or fractional ranges', async () => {
        await store.put('r', text('0123456789'));
        await expectCode(store.getRange('r', -1, 2), 'INVALID_ARGUMENT');
        await expectCode(store.getRange('r', 0, -2), 'INVALID_ARGUMENT');
        await expectCode(store.getRange('r', 1.5, 2), 'INVALID_ARGUMENT');
      });
    });

    describe('head', () => {
      it('reports size and modification time', async () => {
        const before = Date.now();
        await store.put('dir/h.bin', payload(1, 12_345));
        const meta = await store.head('dir/h.bin');
        expect(meta.key).toBe('dir/h.bin');
        expect(meta.size).toBe(12_345);
        // Generous: filesystem timestamps are coarse and remote clocks drift.
        expect(Math.abs(meta.lastModified - before)).toBeLessThan(5 * 60_000);
      });
    });

    describe('missing keys', () => {
      it('throw NotFoundError from get, getRange and head', async () => {
        await expectNotFound(store.get('nope'), 'nope');
        await expectNotFound(store.getRange('nope', 0, 10), 'nope');
        await expectNotFound(store.getRange('nope', 0, 0), 'nope');
        await expectNotFound(store.head('no/such/key'), 'no/such/key');
      });

      it('treat a prefix of other keys, and a path through an object, as missing', async () => {
        await store.put('dir/file', text('x'));
        await expectNotFound(store.get('dir'), 'dir');
        await expectNotFound(store.head('dir'), 'dir');
        await expectNotFound(store.getRange('dir', 0, 1), 'dir');
        await expectNotFound(store.get('dir/file/deeper'), 'dir/file/deeper');
        await expectNotFound(store.head('dir/file/deeper'), 'dir/file/deeper');
      });
    });

    describe('list', () => {
      const nested = ['b', 'a/b/c', 'a/b.txt', 'a/b0', 'a-x', 'a/b/d/e', 'a/c', 'aa'];

      it('lists nothing in an empty store', async () => {
        expect(await keysOf('')).toEqual([]);
        expect(await keysOf('x/')).toEqual([]);
        expect(await keysOf('x')).toEqual([]);
      });

      it('lists recursively in UTF-8 byte order with sizes', async () => {
        await putAll(nested);
        const metas = await listAll(store, '');
        expect(metas.map((m) => m.key)).toEqual([
          'a-x',
          'a/b.txt',
          'a/b/c',
          'a/b/d/e',
          'a/b0',
          'a/c',
          'aa',
          'b',
        ]);
        for (const meta of metas) {
          const head = await store.head(meta.key);
          expect(meta.size).toBe(head.size);
          expect(meta.size).toBe(text(`value of ${meta.key}`).byteLength);
          expect(meta.lastModified).toBe(head.lastModified);
        }
      });

      it('filters by directory-like and partial-name prefixes', async () => {
        await putAll(nested);
        expect(await keysOf('a/')).toEqual(['a/b.txt', 'a/b/c', 'a/b/d/e', 'a/b0', 'a/c']);
        expect(await keysOf('a/b')).toEqual(['a/b.txt', 'a/b/c', 'a/b/d/e', 'a/b0']);
        expect(await keysOf('a/b/')).toEqual(['a/b/c', 'a/b/d/e']);
        expect(await keysOf('a')).toEqual(['a-x', 'a/b.txt', 'a/b/c', 'a/b/d/e', 'a/b0', 'a/c', 'aa']);
        expect(await keysOf('a/b/d/e')).toEqual(['a/b/d/e']);
        expect(await keysOf('a/b/d/e/')).toEqual([]);
        expect(await keysOf('zzz')).toEqual([]);
        expect(await keysOf('a/q/')).toEqual([]);
      });

      it('lists a Delta log by a partial version prefix', async () => {
        const log = Array.from({ length: 13 }, (_, v) => `_delta_log/${String(v).padStart(20, '0')}.json`);
        const checkpoint = '_delta_log/00000000000000000010.checkpoint.parquet';
        await putAll([...log, checkpoint, '_delta_log/_last_checkpoint', 'part-0.parquet']);
        expect(await keysOf('_delta_log/0000000000000000001')).toEqual([
          checkpoint,
          '_delta_log/00000000000000000010.json',
          '_delta_log/00000000000000000011.json',
          '_delta_log/00000000000000000012.json',
        ]);
        expect(await keysOf('_delta_log/', '_delta_log/00000000000000000011.json')).toEqual([
          '_delta_log/00000000000000000012.json',
          '_delta_log/_last_checkpoint',
        ]);
        expect((await keysOf('_delta_log/')).length).toBe(15);
      });

      it('starts strictly after startAfter, whether or not it is a key', async () => {
        await putAll(nested);
        expect(await keysOf('', 'a/b/c')).toEqual(['a/b/d/e', 'a/b0', 'a/c', 'aa', 'b']);
        expect(await keysOf('', 'a/b/c0')).toEqual(['a/b/d/e', 'a/b0', 'a/c', 'aa', 'b']);
        expect(await keysOf('', 'a/b/zzz')).toEqual(['a/b0', 'a/c', 'aa', 'b']);
        expect(await keysOf('a/', 'a/b/')).toEqual(['a/b/c', 'a/b/d/e', 'a/b0', 'a/c']);
        expect(await keysOf('a/', '')).toEqual(['a/b.txt', 'a/b/c', 'a/b/d/e', 'a/b0', 'a/c']);
        expect(await keysOf('a/', 'b')).toEqual([]);
        // Every candidate bound agrees with filtering the sorted key set.
        const sorted = byteOrder(nested);
        const bounds = [
          '',
          'a',
          'a-',
          'a/',
          'a/b',
          'a/b.',
          'a/b/',
          'a/b/d',
          'a/b/d/e',
          'a/b0',
          'a/c0',
          'ab',
          'b',
          'c',
        ];
        for (const bound of bounds) {
          const expected = sorted.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from(bound)) > 0);
          expect(await keysOf('', bound)).toEqual(expected);
        }
      });

      it('handles keys with spaces, %, =, + and unicode, in byte order', async () => {
        const keys = [
          'dir with space/file name.json',
          'p%20q/x%y.txt',
          'p q/x%y.txt',
          'date=2024-01-01/hour=00/part-0.parquet',
          'a+b/c=d.txt',
          'ünïcödé/日本語.json',
          'wide/\uFF21.txt',
          'wide/\u{1F600}.txt',
        ];
        for (const key of keys) await store.put(key, text(key));
        for (const key of keys) {
          expect(decode(await store.get(key))).toBe(key);
          expect((await store.head(key)).size).toBe(text(key).byteLength);
        }
        // U+FF21 sorts before U+1F600 in UTF-8, though after it in UTF-16 code units.
        expect(await keysOf('')).toEqual(byteOrder(keys));
        expect(await keysOf('wide/')).toEqual(['wide/\uFF21.txt', 'wide/\u{1F600}.txt']);
        expect(await keysOf('p%')).toEqual(['p%20q/x%y.txt']);
        expect(await keysOf('ünï')).toEqual(['ünïcödé/日本語.json']);
        expect(await keysOf('wide', 'wide/\uFF21.txt')).toEqual(['wide/\u{1F600}.txt']);
        expect(await keysOf('', 'wide/\uFF21.txt')).toEqual(['wide/\u{1F600}.txt', 'ünïcödé/日本語.json']);
      });
    });

    describe('delete', () => {
      it('is idempotent', async () => {
        await store.put('d/k', text('x'));
        await store.delete('d/k');
        await expectNotFound(store.get('d/k'), 'd/k');
        expect(await keysOf('')).toEqual([]);
        await store.delete('d/k');
        await store.delete('never/existed');
      });

      it('does not touch keys below a deleted non-object prefix', async () => {
        await store.put('d/k', text('x'));
        await store.delete('d');
        expect(await keysOf('')).toEqual(['d/k']);
      });

      it('deletes many keys, ignoring missing ones', async () => {
        await putAll(['m/1', 'm/2', 'm/3', 'm/sub/4', 'keep']);
        if (store.deleteMany) await store.deleteMany(['m/1', 'm/sub/4', 'm/missing']);
        else await deleteAll(store, ['m/1', 'm/sub/4', 'm/missing']);
        expect(await keysOf('')).toEqual(['keep', 'm/2', 'm/3']);
        await deleteAll(store, ['m/2', 'm/3', 'm/2']);
        await deleteAll(store, []);
        expect(await keysOf('')).toEqual(['keep']);
      });
    });

    describe('putIfAbsent', () => {
      it('creates once, then fails with AlreadyExistsError and keeps the first object', async () => {
        await store.putIfAbsent('_delta_log/00000000000000000000.json', text('first'));
        const err = await expectCode(
          store.putIfAbsent('_delta_log/00000000000000000000.json', text('second')),
          'ALREADY_EXISTS',
        );
        expect(err).toBeInstanceOf(AlreadyExistsError);
        expect(err.details.key).toBe('_delta_log/00000000000000000000.json');
        expect(decode(await store.get('_delta_log/00000000000000000000.json'))).toBe('first');
        expect(await keysOf('')).toEqual(['_delta_log/00000000000000000000.json']);
      });

      it('succeeds again after the key is deleted, and accepts empty objects', async () => {
        await store.putIfAbsent('k', text('one'));
        await store.delete('k');
        await store.putIfAbsent('k', new Uint8Array(0));
        expect((await store.get('k')).byteLength).toBe(0);
        await expectCode(store.putIfAbsent('k', text('x')), 'ALREADY_EXISTS');
      });

      it('lets exactly one of 32 concurrent racers win; readers see nothing or the whole winner', async () => {
        const key = 'race/_delta_log/00000000000000000001.json';
        const size = 256 * 1024;
        const payloads = Array.from({ length: 32 }, (_, i) => payload(i, size));
        const identify = (got: Uint8Array): number => {
          const id = got.byteLength >= 4 ? new DataView(got.buffer, got.byteOffset).getUint32(0) : -1;
          const expected = payloads[id];
          return expected !== undefined && sameBytes(got, expected) ? id : -1;
        };

        let done = false;
        const seen: number[] = [];
        let misses = 0;
        const poll = async (): Promise<void> => {
          while (!done) {
            try {
              seen.push(identify(await store.get(key)));
            } catch (err) {
              if (!(err instanceof NotFoundError)) throw err;
              misses++;
            }
            await new Promise((resolve) => setImmediate(resolve));
          }
        };
        const readers = [poll(), poll()];
        const results = await Promise.allSettled(payloads.map((p) => store.putIfAbsent(key, p)));
        done = true;
        await Promise.all(readers);

        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        const winner = winners[0]!;
        for (const result of results) {
          if (result.status === 'fulfilled') continue;
          expect(result.reason).toBeInstanceOf(AlreadyExistsError);
          expect((result.reason as WeirError).code).toBe('ALREADY_EXISTS');
        }
        expect(seen.length + misses).toBeGreaterThan(0);
        expect(seen.filter((id) => id !== winner)).toEqual([]);
        expect(identify(await store.get(key))).toBe(winner);
        expect(await keysOf('race/')).toEqual([key]);
      });
    });
  });
}
