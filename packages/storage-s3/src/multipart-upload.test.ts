import { createHash } from 'node:crypto';
import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { MiB } from './config.js';
import {
  basePartSize,
  cutParts,
  MAX_PARTS,
  multipartEtag,
  partSizeFor,
  sliceParts,
} from './multipart-upload.js';

async function collect(parts: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

async function* chunks(sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let n = 0;
  for (const size of sizes) {
    const chunk = new Uint8Array(size);
    for (let i = 0; i < size; i++) chunk[i] = (n + i) & 0xff;
    n += size;
    yield chunk;
  }
}

describe('part sizes', () => {
  it('doubles every 2000 parts so unknown lengths fit in 10 000 parts', () => {
    expect(partSizeFor(1, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(2000, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(2001, 8 * MiB)).toBe(16 * MiB);
    expect(partSizeFor(10_000, 8 * MiB)).toBe(128 * MiB);
  });

  it('raises the base size when the content length needs more than 10 000 parts', () => {
    expect(basePartSize(8 * MiB, undefined)).toBe(8 * MiB);
    expect(basePartSize(8 * MiB, 1024 * MiB)).toBe(8 * MiB);
    const huge = 200 * 1024 * MiB;
    expect(basePartSize(8 * MiB, huge)).toBe(Math.ceil(huge / MAX_PARTS));
  });
});

describe('cutParts', () => {
  it('cuts odd chunks into exact parts plus a short last one, preserving bytes', async () => {
    const sizes = [3, 0, 10, 1, 7, 25];
    const parts = await collect(cutParts(chunks(sizes), 8, 'k'));
    expect(parts.map((p) => p.byteLength)).toEqual([8, 8, 8, 8, 8, 6]);
    const all = Buffer.concat(parts);
    expect([...all]).toEqual(Array.from({ length: 46 }, (_, i) => i & 0xff));
  });

  it('yields nothing for an empty stream and copies chunks (sources may reuse buffers)', async () => {
    expect(await collect(cutParts(chunks([]), 8, 'k'))).toEqual([]);
    const shared = new Uint8Array(4).fill(1);
    async function* reusing(): AsyncGenerator<Uint8Array> {
      yield shared;
      shared.fill(2);
      yield shared;
    }
    const parts = await collect(cutParts(reusing(), 8, 'k'));
    expect([...parts[0]!]).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('copies even part-sized chunks unless the chunks are owned', async () => {
    const big = new Uint8Array(20).map((_, i) => i);
    async function* one(): AsyncGenerator<Uint8Array> {
      yield big;
    }
    const copied = await collect(cutParts(one(), 8, 'k'));
    expect(copied.every((p) => p.buffer !== big.buffer)).toBe(true);
    const viewed = await collect(cutParts(one(), 8, 'k', true));
    expect(viewed.map((p) => p.byteLength)).toEqual([8, 8, 4]);
    // Parts inside the chunk are views; the short tail is copied into a part of its own.
    expect(viewed.map((p) => p.buffer === big.buffer)).toEqual([true, true, false]);
    expect([...Buffer.concat(viewed)]).toEqual([...big]);
  });

  it('owned chunks: parts that span chunks are copied, every byte in order', async () => {
    const sizes = [3, 0, 10, 1, 7, 25, 16, 8, 5];
    const parts = await collect(cutParts(chunks(sizes), 8, 'k', true));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(parts.slice(0, -1).every((p) => p.byteLength === 8)).toBe(true);
    expect(parts.reduce((n, p) => n + p.byteLength, 0)).toBe(total);
    expect([...Buffer.concat(parts)]).toEqual(Array.from({ length: total }, (_, i) => i & 0xff));
  });

  it('rejects non-Uint8Array chunks with INVALID_ARGUMENT', async () => {
    async function* bad(): AsyncGenerator<Uint8Array> {
      yield 'text' as unknown as Uint8Array;
    }
    const err = await collect(cutParts(bad(), 8, 'k')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect((err as WeirError).code).toBe('INVALID_ARGUMENT');
  });
});

describe('sliceParts', () => {
  it('yields views without copying', async () => {
    const data = new Uint8Array(20);
    const parts = await collect(sliceParts(data, 8));
    expect(parts.map((p) => p.byteLength)).toEqual([8, 8, 4]);
    expect(parts.every((p) => p.buffer === data.buffer)).toBe(true);
  });
});

describe('multipartEtag', () => {
  it('is the MD5 of the part MD5s with the part count', () => {
    const a = createHash('md5').update('a').digest('hex');
    const b = createHash('md5').update('b').digest('hex');
    const expected = createHash('md5')
      .update(Buffer.concat([Buffer.from(a, 'hex'), Buffer.from(b, 'hex')]))
      .digest('hex');
    expect(
      multipartEtag([
        { PartNumber: 1, ETag: `"${a}"` },
        { PartNumber: 2, ETag: b },
      ]),
    ).toBe(`${expected}-2`);
    expect(multipartEtag([{ PartNumber: 1, ETag: 'not-md5' }])).toBeUndefined();
  });
});
