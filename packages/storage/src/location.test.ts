import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WeirError } from './errors.js';
import { LocalStore } from './local-store.js';
import { createStoreResolver, defaultStoreFactories, parseLocation } from './location.js';
import { MemoryStore } from './memory-store.js';
import type { ObjectStore } from './object-store.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    return (err as WeirError).code;
  }
  throw new Error('expected a throw');
}

describe('parseLocation', () => {
  it('parses absolute and relative paths as file locations', () => {
    expect(parseLocation('/data/tables/t1/')).toEqual({
      scheme: 'file',
      uri: 'file:///data/tables/t1',
      authority: '',
      path: '/data/tables/t1',
    });
    expect(parseLocation('tables/t1', { cwd: '/srv' }).path).toBe('/srv/tables/t1');
    expect(parseLocation('./t 1', { cwd: '/srv' })).toMatchObject({
      path: '/srv/t 1',
      uri: 'file:///srv/t%201',
    });
    expect(parseLocation('t1').path).toBe(path.resolve('t1'));
  });

  it('percent-decodes file URLs', () => {
    expect(parseLocation('file:///data/my%20table/%C3%BC')).toEqual({
      scheme: 'file',
      uri: 'file:///data/my%20table/%C3%BC',
      authority: '',
      path: '/data/my table/ü',
    });
    expect(parseLocation('FILE:///data/x').path).toBe('/data/x');
    expect(parseLocation('file://localhost/data/x').path).toBe('/data/x');
  });

  it('parses other schemes into authority and decoded path', () => {
    expect(parseLocation('memory://t1')).toEqual({
      scheme: 'memory',
      uri: 'memory://t1',
      authority: 't1',
      path: '',
    });
    expect(parseLocation('S3://bucket/warehouse/my%20t/')).toEqual({
      scheme: 's3',
      uri: 's3://bucket/warehouse/my%20t',
      authority: 'bucket',
      path: 'warehouse/my t',
    });
  });

  it('rejects what it cannot interpret', () => {
    for (const bad of [
      '',
      '   ',
      'memory://',
      's3:///key',
      's3://b/p?x=1',
      's3://b/%zz',
      's3:bucket/x',
      'file://remote-host/x',
    ]) {
      expect(
        codeOf(() => parseLocation(bad)),
        bad,
      ).toBe('INVALID_LOCATION');
    }
  });
});

describe('createStoreResolver', () => {
  it('resolves file locations to LocalStores', () => {
    const resolver = createStoreResolver(defaultStoreFactories());
    const store = resolver.resolve('file:///data/my%20table');
    expect(store).toBeInstanceOf(LocalStore);
    expect((store as LocalStore).directory).toBe('/data/my table');
    expect(store.root).toBe('file:///data/my%20table');
    expect(resolver.resolve('/data/t').root).toBe('file:///data/t');
  });

  it('returns one MemoryStore per memory:// URI within a resolver, and none shared across resolvers', async () => {
    const first = createStoreResolver(defaultStoreFactories());
    const a = first.resolve('memory://t1');
    expect(a).toBeInstanceOf(MemoryStore);
    expect(a.root).toBe('memory://t1');
    expect(first.resolve('memory://t1/')).toBe(a);
    expect(first.resolve(parseLocation('memory://t1'))).toBe(a);
    expect(first.resolve('memory://t2')).not.toBe(a);
    expect(first.resolve('memory://t1/sub')).not.toBe(a);

    const second = createStoreResolver(defaultStoreFactories());
    expect(second.resolve('memory://t1')).not.toBe(a);
  });

  it('uses caller-supplied factories, with scheme matching case-insensitive', () => {
    const fake = new MemoryStore('fake-s3');
    const seen: string[] = [];
    const resolver = createStoreResolver({
      ...defaultStoreFactories(),
      S3: (location): ObjectStore => {
        seen.push(`${location.authority}|${location.path}`);
        return fake;
      },
    });
    expect(resolver.schemes).toEqual(['file', 'memory', 's3']);
    expect(resolver.resolve('s3://bucket/a/b')).toBe(fake);
    expect(seen).toEqual(['bucket|a/b']);
  });

  it('rejects unknown schemes, naming the scheme and the known ones', () => {
    const resolver = createStoreResolver(defaultStoreFactories());
    try {
      resolver.resolve('s3://bucket/t');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WeirError);
      const e = err as WeirError;
      expect(e.code).toBe('UNSUPPORTED_SCHEME');
      expect(e.retryable).toBe(false);
      expect(e.message).toContain("'s3'");
      expect(e.message).toContain('file, memory');
      expect(e.details).toMatchObject({ scheme: 's3', knownSchemes: ['file', 'memory'] });
    }
    expect(codeOf(() => createStoreResolver({}).resolve('/tmp/x'))).toBe('UNSUPPORTED_SCHEME');
  });
});
