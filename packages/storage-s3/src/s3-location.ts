/**
 * The `s3://bucket/prefix` scheme for `@weir/storage`'s explicit resolver. `s3StoreFactory(options)`
 * returns a `StoreFactory`: the resolver parses the location (authority = bucket, path = prefix)
 * and the factory builds an S3Store for it. Nothing is registered globally; callers compose:
 *
 *   const s3 = s3StoreFactory(mergeS3Options(s3OptionsFromEnv(), flags));
 *   const resolver = createStoreResolver({ ...defaultStoreFactories(), s3, s3a: s3 });
 *
 * Invariants: one S3Client per distinct connection setting (endpoint, region, path style, profile,
 * credentials object, timeouts) is created lazily and shared by every store the factory returns;
 * `destroy()` releases them. Per-bucket overrides (`buckets`) let tables in different buckets
 * live on different endpoints or accounts.
 */

import type { S3Client } from '@aws-sdk/client-s3';
import { type Location, type StoreFactory, WeirError } from '@weir/storage';
import { createS3Client, type S3ClientOptions, type S3StoreOptions } from './config.js';
import { S3Store } from './s3-store.js';

/** Everything but the bucket and prefix, which come from each location. */
export type S3LocationOptions = Omit<S3StoreOptions, 'bucket' | 'prefix'>;

export interface S3FactoryOptions extends S3LocationOptions {
  /** Settings for particular buckets, layered over the others (e.g. another endpoint or account). */
  buckets?: Readonly<Record<string, S3LocationOptions>>;
}

export interface S3StoreFactory extends StoreFactory {
  (location: Location): S3Store;
  /** Releases every client this factory created. Stores it returned become unusable. */
  destroy(): void;
}

const CLIENT_FIELDS = [
  'endpoint',
  'region',
  'forcePathStyle',
  'profile',
  'connectTimeoutMs',
  'socketTimeoutMs',
  'maxSockets',
] as const satisfies readonly (keyof S3ClientOptions)[];

export function s3StoreFactory(options: S3FactoryOptions = {}): S3StoreFactory {
  const { buckets = {}, ...defaults } = options;
  const clients = new Map<string, S3Client>();
  // Credentials are told apart by identity, so no secret ever becomes part of a cache key.
  const credentialIds = new WeakMap<object, number>();
  let nextCredentialId = 1;

  const clientKey = (settings: S3LocationOptions): string => {
    const creds = settings.credentials;
    let credentialId = 0;
    if (creds !== undefined) {
      credentialId = credentialIds.get(creds) ?? nextCredentialId++;
      credentialIds.set(creds, credentialId);
    }
    return JSON.stringify([...CLIENT_FIELDS.map((field) => settings[field] ?? null), credentialId]);
  };

  const factory = (location: Location): S3Store => {
    if (location.authority === '') {
      throw new WeirError('INVALID_LOCATION', `invalid S3 location ${location.uri}: no bucket`, {
        details: { location: location.uri },
      });
    }
    const bucketOptions = Object.hasOwn(buckets, location.authority)
      ? buckets[location.authority]
      : undefined;
    const settings: S3LocationOptions = { ...defaults, ...bucketOptions };
    const key = clientKey(settings);
    let client = clients.get(key);
    if (client === undefined) {
      client = createS3Client(settings);
      clients.set(key, client);
    }
    return new S3Store({ ...settings, bucket: location.authority, prefix: location.path }, { client });
  };

  return Object.assign(factory, {
    destroy(): void {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  });
}
