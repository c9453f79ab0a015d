/**
 * `putIfAbsent` on S3: the commit primitive. One PutObject with `If-None-Match: *` per attempt;
 * never a multipart upload (CompleteMultipartUpload ignores the condition on some servers) and
 * never a HEAD-then-PUT (unless the caller opted into 'single-writer-unsafe').
 *
 * Resolving ambiguity: when an attempt fails after the request may have reached the server (reset,
 * timeout, 5xx, a response lost after the server applied the write), the object is read back:
 * - it holds exactly our bytes -> our write landed: success;
 * - it holds other bytes       -> someone else created it: AlreadyExistsError;
 * - it is missing              -> nothing landed (yet): send the PUT again.
 * After an ambiguous attempt, a later 412 is not proof of losing (it may be our own earlier write),
 * so it is resolved the same way. A 412 on a clean first attempt is AlreadyExists straight away.
 * The comparison is byte equality: two writers racing with identical bytes cannot be told apart,
 * which is harmless for Delta commits (each carries a unique commitInfo/txn id).
 * If the outcome cannot be settled within the retry budget, the call fails with
 * 'COMMIT_OUTCOME_UNKNOWN': the write may or may not exist; the caller must read the key to learn.
 */

import { PutObjectCommand } from '@aws-sdk/client-s3';
import { AlreadyExistsError, NotFoundError, WeirError } from '@weir/storage';
import {
  classifyFailure,
  isAmbiguous,
  isRetryable,
  notifyRetry,
  RetriesExhausted,
  retryDecision,
  sleep,
} from './retry.js';
import { isNotImplemented, isPreconditionFailed } from './s3-errors.js';
import type { StoreContext } from './store-context.js';

export interface PutIfAbsentHooks {
  /** Reads the whole object (with retries); throws NotFoundError when it is missing. */
  get(key: string): Promise<Uint8Array>;
  /** Head (with retries); throws NotFoundError when missing. */
  exists(key: string): Promise<boolean>;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.byteLength === b.byteLength &&
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}

type ReadBack = 'ours' | 'theirs' | 'missing';

async function readBack(hooks: PutIfAbsentHooks, key: string, data: Uint8Array): Promise<ReadBack> {
  try {
    return sameBytes(await hooks.get(key), data) ? 'ours' : 'theirs';
  } catch (err) {
    if (err instanceof NotFoundError) return 'missing';
    throw err;
  }
}

function unsupported(ctx: StoreContext, key: string, cause: unknown): WeirError {
  return new WeirError(
    'CONDITIONAL_WRITES_UNSUPPORTED',
    `putIfAbsent ${JSON.stringify(key)} in ${ctx.scope.root}: the server does not support conditional ` +
      `writes (PutObject with If-None-Match: * answered 501 NotImplemented), so commits cannot be made ` +
      `atomic. If exactly one process ever writes this table, set conditionalWrites: 'single-writer-unsafe'.`,
    {
      cause: ctx.error('putIfAbsent', key, cause),
      details: { key, bucket: ctx.bucket, root: ctx.scope.root },
    },
  );
}

function outcomeUnknown(ctx: StoreContext, key: string, attempts: number, cause: unknown): WeirError {
  return new WeirError(
    'COMMIT_OUTCOME_UNKNOWN',
    `putIfAbsent ${JSON.stringify(key)} in ${ctx.scope.root}: the write may or may not have been applied ` +
      `(${attempts} attempts, responses lost and the object could not be read back); read the key to find out`,
    {
      cause: ctx.error('putIfAbsent', key, cause),
      details: { key, bucket: ctx.bucket, root: ctx.scope.root, attempts },
    },
  );
}

/** Atomic create with `If-None-Match: *`, resolving ambiguous failures by reading back. */
export async function conditionalPut(
  ctx: StoreContext,
  hooks: PutIfAbsentHooks,
  key: string,
  data: Uint8Array,
): Promise<void> {
  const body = data.byteLength === 0 ? new Uint8Array(0) : data;
  const retryCtx = { operation: 'putIfAbsent', key, policy: ctx.policy, onRetry: ctx.onRetry };
  let ambiguous = false;
  let lastError: unknown;
  for (let attempt = 1; attempt <= ctx.policy.maxAttempts; attempt++) {
    try {
      await ctx.client.send(
        new PutObjectCommand({
          Bucket: ctx.bucket,
          Key: ctx.objectKey(key),
          Body: body,
          ContentLength: body.byteLength,
          IfNoneMatch: '*',
        }),
      );
      return;
    } catch (err) {
      lastError = err;
      if (isPreconditionFailed(err)) {
        if (!ambiguous) throw new AlreadyExistsError(key, { details: { root: ctx.scope.root } });
        const seen = await resolve(ctx, hooks, key, data, attempt, err);
        if (seen === 'ours') return;
        if (seen === 'theirs') throw new AlreadyExistsError(key, { details: { root: ctx.scope.root } });
        // Deleted since the 412: try again.
        continue;
      }
      if (isNotImplemented(err)) throw unsupported(ctx, key, err);
      const kind = classifyFailure(err);
      if (!isRetryable(kind)) throw ctx.error('putIfAbsent', key, err);
      if (isAmbiguous(kind)) {
        ambiguous = true;
        const seen = await resolve(ctx, hooks, key, data, attempt, err);
        if (seen === 'ours') return;
        if (seen === 'theirs') throw new AlreadyExistsError(key, { details: { root: ctx.scope.root } });
      }
      const decision = retryDecision(err, attempt, ctx.policy);
      if (!decision.retry) break;
      notifyRetry(retryCtx, err, attempt, decision);
      await sleep(decision.delayMs);
    }
  }
  if (ambiguous) throw outcomeUnknown(ctx, key, ctx.policy.maxAttempts, lastError);
  throw ctx.error(
    'putIfAbsent',
    key,
    new RetriesExhausted(lastError, ctx.policy.maxAttempts, classifyFailure(lastError)),
  );
}

async function resolve(
  ctx: StoreContext,
  hooks: PutIfAbsentHooks,
  key: string,
  data: Uint8Array,
  attempt: number,
  cause: unknown,
): Promise<ReadBack> {
  try {
    return await readBack(hooks, key, data);
  } catch (err) {
    if (err instanceof WeirError && err.retryable) throw outcomeUnknown(ctx, key, attempt, cause);
    throw err;
  }
}

/**
 * The 'single-writer-unsafe' mode: HEAD, then a plain PUT. Not atomic; see ConditionalWrites.
 * Still retried, and still never multipart.
 */
export async function unsafePutIfAbsent(
  ctx: StoreContext,
  hooks: PutIfAbsentHooks,
  key: string,
  data: Uint8Array,
): Promise<void> {
  if (await hooks.exists(key)) throw new AlreadyExistsError(key, { details: { root: ctx.scope.root } });
  await ctx.call('putIfAbsent', key, () =>
    ctx.client.send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: ctx.objectKey(key),
        Body: data,
        ContentLength: data.byteLength,
      }),
    ),
  );
}
