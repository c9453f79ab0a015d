/**
 * @weir/storage-s3: the ObjectStore contract on S3 and S3-compatible servers, and the `s3://`
 * scheme for @weir/storage's resolver. Test helpers (a local radosgw, a fault-injecting proxy)
 * live in the `@weir/storage-s3/testing` subpath so this entry never imports vitest.
 */
export { CONDITIONAL_WRITE_CHECK_DIR } from './conditional-writes-check.js';
export {
  type ConditionalWrites,
  createS3Client,
  DEFAULT_CONCURRENCY,
  DEFAULT_PART_SIZE,
  describeS3Options,
  type Env,
  MIN_PART_SIZE,
  mergeS3Options,
  type ResolvedS3StoreOptions,
  redactSecrets,
  resolveS3Options,
  type S3ClientOptions,
  type S3Credentials,
  type S3CredentialsProvider,
  type S3StoreOptions,
  s3OptionsFromEnv,
} from './config.js';
export {
  backoffDelayMs,
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  type FailureKind,
  isAmbiguous,
  isRetryable,
  type RetryDecision,
  type RetryEvent,
  type RetryPolicy,
  retryDecision,
} from './retry.js';
export {
  type S3FactoryOptions,
  type S3LocationOptions,
  type S3StoreFactory,
  s3StoreFactory,
} from './s3-location.js';
export { DELETE_BATCH, S3Store, type S3StoreDeps } from './s3-store.js';
