/**
 * A throw-away bucket on a real S3 server for the benches that also run on radosgw: the server
 * named by the environment or a fresh radosgw (scripts/s3-local.sh), a fresh bucket, and
 * deferred cleanup (bucket emptied and deleted, server released) on the bench context.
 */

import type { S3StoreOptions } from '@weir/storage-s3';
import type { S3Connection } from '@weir/storage-s3/testing';
import type { BenchContext } from './result.js';

export interface BenchBucket {
  bucket: string;
  connection: S3Connection;
  options: S3StoreOptions;
  /** Where the server came from, for the report. */
  server: string;
  /** Deletes everything under `prefix/` and reclaims the server's space now. */
  cleanup(prefix: string): Promise<void>;
}

export async function acquireBenchBucket(ctx: BenchContext, namePrefix: string): Promise<BenchBucket> {
  ctx.log('acquiring an S3 server (radosgw)');
  const t = await import('@weir/storage-s3/testing');
  const { createS3Client } = await import('@weir/storage-s3');
  const server = await t.acquireS3Server();
  ctx.defer(() => server.release());
  const bucket = t.freshBucketName(namePrefix);
  const options = t.s3OptionsFor(server.connection, bucket);
  const raw = createS3Client(options);
  ctx.defer(() => raw.destroy());
  await t.createBucket(raw, bucket);
  ctx.defer(async () => {
    await t.emptyBucket(raw, bucket);
    await t.deleteBucket(raw, bucket);
  });
  return {
    bucket,
    connection: server.connection,
    options,
    server:
      server.source === 'env' ? 'S3 server from the environment' : 'radosgw (scripts/s3-local.sh), loopback',
    cleanup: async (prefix) => {
      await t.emptyBucket(raw, bucket, `${prefix}/`);
      await server.collectGarbage();
    },
  };
}
