/**
 * The check that a server really honours `If-None-Match: *` before S3Store makes its first commit
 * in a bucket. `conditionalPut` already catches a server that refuses the header (501
 * NotImplemented, as S3 itself did before conditional writes); this catches the dangerous kind, a
 * server that accepts the header and ignores it, where a second writer would silently overwrite a
 * commit. The check creates a probe object under the store's prefix, creates it again with other
 * bytes (which must fail with 412), and deletes it.
 *
 * Invariants: the probe key is `_weir_conditional_write_check/<uuid>` below the store's prefix: a
 * hidden path (leading '_') that Delta readers, listings of `_delta_log/` and vacuum skip, and
 * unique, so concurrent checks never meet; both creates are ordinary `conditionalPut`s (retries,
 * lost answers resolved by reading back); at most one check runs per (client, bucket) and a pass
 * is remembered for the client's lifetime, a failure is not (the next commit checks again).
 */

import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { AlreadyExistsError, WeirError } from '@weir/storage';
import { conditionalPut, type PutIfAbsentHooks } from './put-if-absent.js';
import type { StoreContext } from './store-context.js';

/** Where probe objects go, below the store's prefix. */
export const CONDITIONAL_WRITE_CHECK_DIR = '_weir_conditional_write_check';

const passed = new WeakMap<S3Client, Map<string, Promise<void>>>();

function ignored(ctx: StoreContext, key: string): WeirError {
  return new WeirError(
    'CONDITIONAL_WRITES_UNSUPPORTED',
    `${ctx.scope.root}: the server ignores conditional writes (a second PutObject with If-None-Match: * ` +
      `of the existing key ${JSON.stringify(key)} succeeded), so commits cannot be made atomic. If exactly ` +
      `one process ever writes this table, set conditionalWrites: 'single-writer-unsafe'.`,
    { details: { key, bucket: ctx.bucket, root: ctx.scope.root } },
  );
}

async function probe(ctx: StoreContext, hooks: PutIfAbsentHooks): Promise<void> {
  const key = `${CONDITIONAL_WRITE_CHECK_DIR}/${randomUUID()}`;
  const text = (s: string) => new TextEncoder().encode(`weir conditional-write check: ${s}\n`);
  // A 501 here is CONDITIONAL_WRITES_UNSUPPORTED from conditionalPut itself.
  await conditionalPut(ctx, hooks, key, text('first'));
  try {
    await conditionalPut(ctx, hooks, key, text('second'));
  } catch (err) {
    if (err instanceof AlreadyExistsError) return;
    throw err;
  } finally {
    try {
      await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: ctx.objectKey(key) }));
    } catch {
      // Best effort: a leftover probe is a few bytes in a hidden folder, never read.
    }
  }
  throw ignored(ctx, key);
}

/** Resolves once the server is known to honour `If-None-Match: *` for this client and bucket. */
export function checkConditionalWrites(ctx: StoreContext, hooks: PutIfAbsentHooks): Promise<void> {
  const byBucket = passed.get(ctx.client) ?? new Map<string, Promise<void>>();
  passed.set(ctx.client, byBucket);
  const known = byBucket.get(ctx.bucket);
  if (known !== undefined) return known;
  const check = probe(ctx, hooks);
  byBucket.set(ctx.bucket, check);
  check.catch(() => byBucket.delete(ctx.bucket));
  return check;
}
