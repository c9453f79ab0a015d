import { createStoreResolver, defaultStoreFactories, parseLocation, WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { mergeS3Options, s3OptionsFromEnv } from './config.js';
import { s3StoreFactory } from './s3-location.js';
import { S3Store } from './s3-store.js';
import { describeS3, useRgwBucket } from './testing/rgw-suite.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('s3StoreFactory', () => {
  it('builds an S3Store per location: authority = bucket, path = prefix', () => {
    const factory = s3StoreFactory({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1' });
    try {
      const store = factory(parseLocation('s3://my-bucket/tables/events'));
      expect(store).toBeInstanceOf(S3Store);
      expect(store.bucket).toBe('my-bucket');
      expect(store.prefix).toBe('tables/events');
      expect(store.root).toBe('s3://my-bucket/tables/events');
      expect(factory(parseLocation('s3://b')).root).toBe('s3://b');
      // Percent-decoded once by parseLocation.
      expect(factory(parseLocation('s3://b/dir%20with%20space/t')).prefix).toBe('dir with space/t');
    } finally {
      factory.destroy();
    }
  });

  it('shares one client per connection settings, with per-bucket overrides', () => {
    const creds = { accessKeyId: 'a', secretAccessKey: 'secret-1' };
    const otherCreds = { accessKeyId: 'b', secretAccessKey: 'secret-2' };
    const factory = s3StoreFactory({
      endpoint: 'http://127.0.0.1:1',
      credentials: creds,
      buckets: {
        elsewhere: { endpoint: 'http://127.0.0.1:2' },
        'other-account': { credentials: otherCreds },
      },
    });
    try {
      const a = factory(parseLocation('s3://b1/t1'));
      const b = factory(parseLocation('s3://b2/t2'));
      const c = factory(parseLocation('s3://elsewhere/t'));
      const d = factory(parseLocation('s3://other-account/t'));
      expect(a.client).toBe(b.client);
      expect(c.client).not.toBe(a.client);
      expect(d.client).not.toBe(a.client);
      expect(factory(parseLocation('s3://elsewhere/u')).client).toBe(c.client);
    } finally {
      factory.destroy();
    }
  });

  it('plugs into the explicit resolver next to file and memory, under any scheme name', () => {
    const s3 = s3StoreFactory(mergeS3Options(s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:1' })));
    try {
      const resolver = createStoreResolver({ ...defaultStoreFactories(), s3, s3a: s3 });
      expect(resolver.schemes).toEqual(['file', 'memory', 's3', 's3a']);
      expect(resolver.resolve('s3://bkt/p').root).toBe('s3://bkt/p');
      expect(resolver.resolve('s3a://bkt/p').root).toBe('s3://bkt/p');
      // Without the factory, s3:// is unknown: no global registry.
      const plain = createStoreResolver(defaultStoreFactories());
      expect(() => plain.resolve('s3://bkt/p')).toThrow(WeirError);
    } finally {
      s3.destroy();
    }
  });

  it('rejects invalid prefixes with INVALID_ARGUMENT', () => {
    const factory = s3StoreFactory({ endpoint: 'http://127.0.0.1:1' });
    try {
      expect(() => factory(parseLocation('s3://b/a/../c'))).toThrow(WeirError);
    } finally {
      factory.destroy();
    }
  });
});

describeS3('s3:// locations on radosgw', () => {
  const rgw = useRgwBucket();

  it('resolves s3://bucket/prefix to a working store over the real server', async () => {
    const { connection } = rgw;
    const s3 = s3StoreFactory(
      mergeS3Options(
        s3OptionsFromEnv({
          AWS_ENDPOINT_URL: connection.endpoint,
          AWS_REGION: connection.region,
          AWS_ACCESS_KEY_ID: connection.accessKeyId,
          AWS_SECRET_ACCESS_KEY: connection.secretAccessKey,
        }),
        { retry: { baseDelayMs: 5 } },
      ),
    );
    try {
      const resolver = createStoreResolver({ ...defaultStoreFactories(), s3 });
      const table = resolver.resolve(`s3://${rgw.bucket}/warehouse/events`);
      await table.putIfAbsent('_delta_log/00000000000000000000.json', text('{"commitInfo":{}}'));
      const whole = resolver.resolve(`s3://${rgw.bucket}`);
      expect(
        new TextDecoder().decode(await whole.get('warehouse/events/_delta_log/00000000000000000000.json')),
      ).toBe('{"commitInfo":{}}');
      const again = resolver.resolve(`s3://${rgw.bucket}/warehouse/events/`);
      await expect(
        again.putIfAbsent('_delta_log/00000000000000000000.json', text('x')),
      ).rejects.toMatchObject({
        code: 'ALREADY_EXISTS',
      });
    } finally {
      s3.destroy();
    }
  });
});
