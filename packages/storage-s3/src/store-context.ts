/**
 * What S3Store's helper modules (put-if-absent.ts, multipart-upload.ts) share with it: the client,
 * the bucket, key mapping, the retry policy, and `call`, the one way every request is made
 * (retries per retry.ts, failures mapped per s3-errors.ts). Internal: not exported from the package.
 */

import type { S3Client } from '@aws-sdk/client-s3';
import type { WeirError } from '@weir/storage';
import type { RetryEvent, RetryPolicy } from './retry.js';
import type { ErrorScope } from './s3-errors.js';

export interface StoreContext {
  readonly client: S3Client;
  readonly bucket: string;
  readonly scope: ErrorScope;
  readonly policy: RetryPolicy;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
  /** Bucket key of a store-relative key. */
  objectKey(key: string): string;
  /** Runs `fn` under the retry policy; rethrows failures as typed WeirErrors. */
  call<T>(operation: string, key: string, fn: (attempt: number) => Promise<T>): Promise<T>;
  /** Maps a failure to a WeirError (for callers that drive their own attempts). */
  error(operation: string, key: string, err: unknown): WeirError;
}
