/**
 * Maps AWS SDK and transport failures to Weir's typed errors. Callers branch on `code`:
 * - 'NOT_FOUND' (NotFoundError): NoSuchKey, or 404 on HEAD.
 * - 'ACCESS_DENIED': 403 (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch...).
 * - 'CREDENTIALS_UNAVAILABLE': the SDK's provider chain found no credentials.
 * - 'NO_SUCH_BUCKET': the bucket does not exist.
 * - 'STORE_UNAVAILABLE' (retryable): throttling, 5xx, resets or timeouts outlasted the retries.
 * - 'IO_ERROR': any other S3 answer.
 * Invariants: messages, details and the `cause` are built from an allow-list of facts (operation,
 * key, bucket, status, S3 error code, request id, attempts) plus the SDK's message passed through
 * `redactSecrets`; nothing from the HTTP exchange (headers, signature, access key id) is kept.
 */

import { NotFoundError, WeirError } from '@weir/storage';
import { redactSecrets } from './config.js';
import { errorFacts, RetriesExhausted } from './retry.js';

export interface ErrorScope {
  /** s3://bucket/prefix, for messages. */
  root: string;
  bucket: string;
  /** Secret values to scrub from any text taken from the SDK. */
  secrets: readonly string[];
}

const ACCESS_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
]);

/** True for a 404 NoSuchKey (GET) or NotFound (HEAD): the object does not exist. */
export function isMissingObject(err: unknown): boolean {
  const { status, errorCode } = errorFacts(err);
  if (errorCode === 'NoSuchBucket') return false;
  return (
    errorCode === 'NoSuchKey' || errorCode === 'NotFound' || (status === 404 && errorCode !== 'NoSuchUpload')
  );
}

export function isPreconditionFailed(err: unknown): boolean {
  const { status, errorCode } = errorFacts(err);
  return status === 412 || errorCode === 'PreconditionFailed';
}

export function isNotImplemented(err: unknown): boolean {
  const { status, errorCode } = errorFacts(err);
  return status === 501 || errorCode === 'NotImplemented';
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * The SDK's errors carry the raw HTTP exchange (`$response`, with the signed request's headers);
 * a WeirError's cause is a plain Error holding only the allow-listed facts, so logging or
 * serializing a WeirError can never dump request headers or signatures.
 */
function sanitizedCause(err: unknown, name: string | undefined, message: string): Error {
  const facts = errorFacts(err);
  const cause = new Error(message || (name ?? 'unknown error'));
  cause.name = name ?? 'Error';
  return Object.assign(cause, {
    ...(facts.status !== undefined ? { status: facts.status } : {}),
    ...(facts.errorCode !== undefined ? { s3Code: facts.errorCode } : {}),
    ...(facts.systemCode !== undefined ? { code: facts.systemCode } : {}),
    ...(facts.requestId !== undefined ? { requestId: facts.requestId } : {}),
  });
}

/** The typed error for a failed `operation` on `key` (a store-relative key; '' for bucket-level). */
export function toWeirError(scope: ErrorScope, operation: string, key: string, err: unknown): WeirError {
  if (err instanceof WeirError) return err;
  let attempts = 1;
  let cause = err;
  if (err instanceof RetriesExhausted) {
    attempts = err.attempts;
    cause = err.lastError;
  }
  const facts = errorFacts(cause);
  const details: Record<string, unknown> = {
    operation,
    key,
    bucket: scope.bucket,
    root: scope.root,
    attempts,
  };
  if (facts.status !== undefined) details.status = facts.status;
  if (facts.errorCode !== undefined) details.s3Code = facts.errorCode;
  if (facts.systemCode !== undefined) details.systemCode = facts.systemCode;
  if (facts.requestId !== undefined) details.requestId = facts.requestId;
  const what = `${operation}${key === '' ? '' : ` ${JSON.stringify(key)}`} in ${scope.root}`;
  const sdkMessage = redactSecrets(messageOf(cause), scope.secrets);
  const reason = [
    facts.status !== undefined ? `HTTP ${facts.status}` : undefined,
    facts.errorCode ?? facts.systemCode,
    sdkMessage && sdkMessage !== 'UnknownError' && sdkMessage !== facts.errorCode ? sdkMessage : undefined,
  ]
    .filter((s) => s !== undefined)
    .join(' ');
  const options = { cause: sanitizedCause(cause, facts.name, sdkMessage), details };

  if (facts.name === 'CredentialsProviderError') {
    return new WeirError(
      'CREDENTIALS_UNAVAILABLE',
      `${what}: no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or pass credentials)`,
      options,
    );
  }
  if (facts.errorCode === 'NoSuchBucket') {
    return new WeirError('NO_SUCH_BUCKET', `${what}: bucket ${scope.bucket} does not exist`, options);
  }
  if (facts.status === 403 || (facts.errorCode !== undefined && ACCESS_CODES.has(facts.errorCode))) {
    return new WeirError('ACCESS_DENIED', `${what}: access denied (${reason})`, options);
  }
  if (isMissingObject(cause) && key !== '') return new NotFoundError(key, options);
  if (err instanceof RetriesExhausted) {
    return new WeirError(
      'STORE_UNAVAILABLE',
      `${what} failed after ${attempts} attempts (${err.kind}): ${reason}`,
      { ...options, retryable: true },
    );
  }
  return new WeirError('IO_ERROR', `${what} failed: ${reason || 'unknown error'}`, options);
}
