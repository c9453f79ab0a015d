import { describe, expect, it } from 'vitest';
import { describeObjectStoreContract } from './contract-suite.js';
import { MemoryStore } from './memory-store.js';
import { listAll } from './object-store.js';

describeObjectStoreContract('MemoryStore', async () => ({ store: new MemoryStore('contract') }));

describe('MemoryStore', () => {
  it('names its root memory://<name>', () => {
    expect(new MemoryStore('t1').root).toBe('memory://t1');
    expect(new MemoryStore().root).toBe('memory://default');
  });

  it('keeps separate instances separate', async () => {
    const a = new MemoryStore('same');
    const b = new MemoryStore('same');
    await a.put('k', new Uint8Array([1]));
    expect(await listAll(b, '')).toEqual([]);
  });

  it('copies Buffers passed in rather than keeping a view of them', async () => {
    const store = new MemoryStore();
    const source = Buffer.from('abcdef');
    await store.put('k', source.subarray(1, 4));
    await store.putIfAbsent('j', source);
    source.fill(0);
    expect(Buffer.from(await store.get('k')).toString()).toBe('bcd');
    expect(Buffer.from(await store.get('j')).toString()).toBe('abcdef');
    const out = await store.get('k');
    expect(out.byteLength).toBe(out.buffer.byteLength);
  });

  it('applies the same key rules as every store', async () => {
    const store = new MemoryStore();
    for (const key of ['../x', '/abs', 'a//b', 'a/./b', 'end/', '']) {
      await expect(store.put(key, new Uint8Array()), key).rejects.toMatchObject({ code: 'INVALID_KEY' });
      await expect(store.get(key), key).rejects.toMatchObject({ code: 'INVALID_KEY' });
      await expect(store.delete(key), key).rejects.toMatchObject({ code: 'INVALID_KEY' });
    }
    await expect(listAll(store, '../')).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });
});
