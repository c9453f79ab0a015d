/**
 * S3Store against a real radosgw: the full ObjectStore contract, then what is specific to S3
 * (pagination, multipart uploads and their abort, ranged reads, batch deletes, error mapping).
 * A FaultProxy with no faults serves as a request observer where a test must prove how S3 was used.
 */

import { AlreadyExistsError, listAll, NotFoundError, WeirError } from '@weir/storage';
import { describeObjectStoreContract } from '@weir/storage/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiB } from './config.js';
import { S3Store } from './s3-store.js';
import { type FaultProxy, startFaultProxy } from './testing/fault-proxy.js';
import { emptyBucket, listMultipartUploads } from './testing/rgw-cluster.js';
import { describeS3, useRgwBucket } from './testing/rgw-suite.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Deterministic pseudo-random bytes (xorshift), distinct per seed. */
function bytes(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed + 1) * 2654435761;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

describeS3('S3Store on radosgw', () => {
  const rgw = useRgwBucket();
  let suite = 0;

  describeObjectStoreContract('S3Store (radosgw)', async () => {
    const prefix = `contract-${++suite}`;
    const store = rgw.store(prefix);
    return { store, cleanup: () => emptyBucket(rgw.client, rgw.bucket, `${prefix}/`) };
  });

  describe('S3 specifics', () => {
    let proxy: FaultProxy;
    let n = 0;
    /** A store whose requests pass through the (fault-free) proxy, under a fresh prefix. */
    const observed = (overrides: Parameters<typeof rgw.options>[0] = {}): S3Store => {
      return rgw.store(`specific-${++n}`, { endpoint: proxy.endpoint, ...overrides });
    };

    beforeAll(async () => {
      proxy = await startFaultProxy({ upstream: rgw.connection.endpoint });
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('exposes root, bucket and prefix, and maps keys below the prefix', async () => {
      const store = rgw.store('/tables/t1/');
      expect(store.root).toBe(`s3://${rgw.bucket}/tables/t1`);
      expect(store.prefix).toBe('tables/t1');
      await store.put('_delta_log/x.json', text('x'));
      const whole = rgw.store('');
      expect(whole.root).toBe(`s3://${rgw.bucket}`);
      expect(decode(await whole.get('tables/t1/_delta_log/x.json'))).toBe('x');
      expect((await listAll(whole, 'tables/')).map((m) => m.key)).toEqual(['tables/t1/_delta_log/x.json']);
      // A sibling prefix that shares a name prefix is not part of the store.
      await whole.put('tables/t10/y', text('y'));
      expect((await listAll(store, '')).map((m) => m.key)).toEqual(['_delta_log/x.json']);
    });

    it('paginates listings across more than 1000 keys, with startAfter, in order', async () => {
      const store = observed();
      const keys = Array.from({ length: 1205 }, (_, i) => `_delta_log/${String(i).padStart(20, '0')}.json`);
      const queue = [...keys];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let key = queue.shift(); key !== undefined; key = queue.shift())
            await store.put(key, text(key));
        }),
      );
      proxy.resetStats();
      const listed = await listAll(store, '_delta_log/');
      expect(listed.map((m) => m.key)).toEqual(keys);
      const pages = proxy.log.filter((e) => e.method === 'GET' && e.query.includes('list-type=2')).length;
      expect(pages).toBe(2);

      const after = keys[1099]!;
      const tail = await listAll(store, '_delta_log/', { startAfter: after });
      expect(tail.map((m) => m.key)).toEqual(keys.slice(1100));
      const early = await listAll(store, '_delta_log/', { startAfter: keys[3]! });
      expect(early.map((m) => m.key)).toEqual(keys.slice(4));
      expect(early.every((m) => m.size === 36)).toBe(true);

      // Listing yields as pages arrive: breaking out early fetches no more pages.
      proxy.resetStats();
      for await (const meta of store.list('')) {
        expect(meta.key).toBe(keys[0]);
        break;
      }
      expect(proxy.log.filter((e) => e.query.includes('list-type=2')).length).toBe(1);

      // Batch delete across the 1000-key DeleteObjects limit.
      proxy.resetStats();
      await store.deleteMany([...keys, 'never/existed']);
      expect(proxy.log.filter((e) => e.method === 'POST' && e.query.includes('delete')).length).toBe(2);
      expect(await listAll(store, '')).toEqual([]);
    });

    it('uploads a 40 MiB stream as parallel parts with bounded read-ahead', async () => {
      const partSize = 5 * MiB;
      const concurrency = 3;
      const store = observed({ partSize, concurrency });
      const total = 40 * MiB + 12_345;
      const data = bytes(40, total);
      const chunkSize = 1 * MiB + 7;
      let pulled = 0;
      let maxLead = 0;
      const completedParts = (): number =>
        proxy.log.filter(
          (e) => e.method === 'PUT' && e.query.includes('partNumber=') && e.upstreamStatus === 200,
        ).length;
      async function* source(): AsyncGenerator<Uint8Array> {
        for (let offset = 0; offset < total; offset += chunkSize) {
          const chunk = data.slice(offset, Math.min(total, offset + chunkSize));
          pulled += chunk.byteLength;
          maxLead = Math.max(maxLead, pulled - completedParts() * partSize);
          yield chunk;
        }
      }
      proxy.resetStats();
      await store.put('data/part-0.parquet', source());
      const partPuts = proxy.log.filter((e) => e.method === 'PUT' && e.query.includes('partNumber='));
      expect(partPuts).toHaveLength(9);
      expect(proxy.maxInFlight).toBeGreaterThan(1);
      expect(proxy.maxInFlight).toBeLessThanOrEqual(concurrency);
      // Read-ahead: parts in flight plus the one being filled plus one chunk, never the whole file.
      expect(maxLead).toBeLessThanOrEqual((concurrency + 2) * partSize + chunkSize);
      expect(maxLead).toBeLessThan(total / 2);

      expect((await store.head('data/part-0.parquet')).size).toBe(total);
      expect(sameBytes(await store.get('data/part-0.parquet'), data)).toBe(true);
      expect(
        sameBytes(
          await store.getRange('data/part-0.parquet', 5 * MiB - 10, 20),
          data.subarray(5 * MiB - 10, 5 * MiB + 10),
        ),
      ).toBe(true);
      expect(await listMultipartUploads(rgw.client, rgw.bucket, store.prefix)).toEqual([]);
    });

    it('uploads owned chunks of odd sizes (parts viewed or joined across chunks) byte for byte', async () => {
      const partSize = 5 * MiB;
      const store = observed({ partSize, concurrency: 3 });
      const total = 31 * MiB + 999;
      const data = bytes(41, total);
      // Chunks larger and smaller than a part, so some parts are views and some span chunks.
      const sizes = [12 * MiB + 3, 1 * MiB, 2 * MiB + 5, 11 * MiB];
      async function* source(): AsyncGenerator<Uint8Array> {
        let offset = 0;
        for (let k = 0; offset < total; k++) {
          const end = Math.min(total, offset + sizes[k % sizes.length]!);
          yield data.slice(offset, end);
          offset = end;
        }
      }
      proxy.resetStats();
      await store.put('data/owned.parquet', source(), { chunksOwned: true });
      const partPuts = proxy.log.filter((e) => e.method === 'PUT' && e.query.includes('partNumber='));
      expect(partPuts).toHaveLength(Math.ceil(total / partSize));
      expect((await store.head('data/owned.parquet')).size).toBe(total);
      expect(sameBytes(await store.get('data/owned.parquet'), data)).toBe(true);
    });

    it('uploads a large Uint8Array in parts and a small one with a single PutObject', async () => {
      const store = observed({ partSize: 5 * MiB });
      const big = bytes(7, 12 * MiB);
      proxy.resetStats();
      await store.put('big.bin', big);
      expect(proxy.log.filter((e) => e.query.includes('partNumber=')).length).toBe(3);
      expect(sameBytes(await store.get('big.bin'), big)).toBe(true);

      proxy.resetStats();
      await store.put('small.bin', bytes(8, 5 * MiB));
      expect(proxy.log).toHaveLength(1);
      expect(proxy.log[0]).toMatchObject({ method: 'PUT', query: 'x-id=PutObject' });
    });

    it('commits with one conditional PutObject, even above the part size: never multipart, never HEAD', async () => {
      const store = observed({ partSize: 5 * MiB });
      await store.checkConditionalWrites();
      const commit = bytes(9, 12 * MiB);
      proxy.resetStats();
      await store.putIfAbsent('_delta_log/00000000000000000000.json', commit);
      expect(proxy.log.map((e) => [e.method, e.query, e.headers['if-none-match']])).toEqual([
        ['PUT', 'x-id=PutObject', '*'],
      ]);
      proxy.resetStats();
      await expect(
        store.putIfAbsent('_delta_log/00000000000000000000.json', text('rival')),
      ).rejects.toBeInstanceOf(AlreadyExistsError);
      // The loser is one request too: the 412 itself (no HEAD, no GET, no retry).
      expect(proxy.log.map((e) => [e.method, e.upstreamStatus])).toEqual([['PUT', 412]]);
      expect(sameBytes(await store.get('_delta_log/00000000000000000000.json'), commit)).toBe(true);
    });

    it('aborts the multipart upload when the source stream fails, leaving no upload and no object', async () => {
      const store = observed({ partSize: 5 * MiB, concurrency: 2 });
      await store.put('keep', text('old'));
      const boom = new Error('source failed after 17 MiB');
      async function* failing(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < 17; i++) yield bytes(i, MiB);
        throw boom;
      }
      proxy.resetStats();
      const err = await store.put('keep', failing()).catch((e: unknown) => e);
      expect(err).toBe(boom);
      expect(proxy.log.some((e) => e.method === 'DELETE' && e.query.includes('uploadId='))).toBe(true);
      expect(await listMultipartUploads(rgw.client, rgw.bucket, store.prefix)).toEqual([]);
      expect(decode(await store.get('keep'))).toBe('old');
      await expect(store.head('fresh')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('aborts the multipart upload when a part fails for good', async () => {
      const store = observed({ partSize: 5 * MiB, concurrency: 2 });
      proxy.addRule({
        match: (r) => r.method === 'PUT' && r.query.includes('partNumber=3'),
        fault: 'error',
        status: 400,
        code: 'InvalidPart',
      });
      const err = await store.put('x.bin', bytes(1, 16 * MiB)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe('IO_ERROR');
      expect((err as WeirError).details).toMatchObject({ operation: 'put', key: 'x.bin', status: 400 });
      expect(await listMultipartUploads(rgw.client, rgw.bucket, store.prefix)).toEqual([]);
      await expect(store.head('x.bin')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('reads ranges with the Range header, including past the end of empty objects', async () => {
      const store = observed();
      await store.put('r', text('0123456789'));
      await store.put('empty', new Uint8Array(0));
      proxy.resetStats();
      expect(decode(await store.getRange('r', 2, 3))).toBe('234');
      expect(proxy.log).toHaveLength(1);
      expect(proxy.log[0]!.headers.range).toBe('bytes=2-4');
      expect((await store.getRange('empty', 0, 10)).byteLength).toBe(0);
      expect((await store.getRange('r', 10, 10)).byteLength).toBe(0);
    });

    it('maps a missing bucket to NO_SUCH_BUCKET', async () => {
      const store = new S3Store(rgw.options({ bucket: 'weir-no-such-bucket' }));
      try {
        for (const op of [() => store.get('k'), () => store.put('k', text('v')), () => listAll(store, '')]) {
          const err = await op().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(WeirError);
          expect((err as WeirError).code).toBe('NO_SUCH_BUCKET');
        }
      } finally {
        store.destroy();
      }
    });
  });
});
