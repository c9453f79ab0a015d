/**
 * `@weir/storage-s3/testing`: what suites need to run against a real S3 server - a throw-away
 * radosgw (rgw-cluster.ts), vitest wiring with skip-or-fail semantics and a bucket per suite
 * (rgw-suite.ts), a fault-injecting proxy (fault-proxy.ts) and a directory uploader. Imports vitest
 * (rgw-suite.ts), so it is a separate entry from the package's main one.
 */
export * from './fault-proxy.js';
export * from './rgw-cluster.js';
export * from './rgw-suite.js';
export { uploadDirectory } from './upload-directory.js';
