/**
 * S3Store: the ObjectStore contract on S3 and S3-compatible servers (@aws-sdk/client-s3). Keys map
 * to `<prefix>/<key>` in one bucket; `root` is `s3://bucket/prefix`.
 *
 * How each operation keeps the contract:
 * - get / getRange / head: GetObject (Range header) / HeadObject; 404 -> NotFoundError. A range
 *   starting at or past the end answers 416, which means "exists, nothing there": empty bytes.
 *   Times are whole seconds (HEAD's Last-Modified has no milliseconds; list is truncated to match).
 * - put: single PutObject up to one part, multipart above (multipart-upload.ts). S3 replaces
 *   objects atomically either way; an aborted multipart upload leaves the old object untouched.
 * - putIfAbsent: one conditional PutObject, ambiguity resolved by read-back (put-if-absent.ts),
 *   after a once-per-bucket check that the server honours the condition (conditional-writes-check.ts).
 * - list: ListObjectsV2 with Prefix/StartAfter, paginated by ContinuationToken, yielded page by
 *   page in the server's order (S3 lists by UTF-8 bytes, the contract's order).
 * - delete: DeleteObject (S3 deletes of missing keys succeed); deleteMany: DeleteObjects in chunks
 *   of 1000, failing with IO_ERROR naming the keys S3 could not delete.
 * Every request goes through `call` (retry.ts policy, s3-errors.ts mapping). The client and
 * credentials are private fields, so inspecting or serializing a store shows no secrets.
 */

import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  assertValidKey,
  assertValidPrefix,
  assertValidRange,
  type ListOptions,
  NotFoundError,
  type ObjectMeta,
  type ObjectStore,
  type PutOptions,
  WeirError,
} from '@weir/storage';
import PQueue from 'p-queue';
import { checkConditionalWrites } from './conditional-writes-check.js';
import {
  createS3Client,
  type ResolvedS3StoreOptions,
  resolveS3Options,
  type S3StoreOptions,
  secretsOf,
} from './config.js';
import { basePartSize, cutParts, sliceParts, uploadParts } from './multipart-upload.js';
import { conditionalPut, type PutIfAbsentHooks, unsafePutIfAbsent } from './put-if-absent.js';
import { errorFacts, withRetry } from './retry.js';
import { type ErrorScope, toWeirError } from './s3-errors.js';
import type { StoreContext } from './store-context.js';

/** DeleteObjects takes at most 1000 keys per request. */
export const DELETE_BATCH = 1000;

export interface S3StoreDeps {
  /** A client to share (the store then never destroys it). Default: one built from the options. */
  client?: S3Client;
}

/** Whole seconds, the precision HEAD's Last-Modified header has. */
function seconds(date: Date | undefined): number {
  return date === undefined ? 0 : Math.floor(date.getTime() / 1000) * 1000;
}

async function bodyBytes(
  body: { transformToByteArray(): Promise<Uint8Array> } | undefined,
): Promise<Uint8Array> {
  return body === undefined ? new Uint8Array(0) : body.transformToByteArray();
}

export class S3Store implements ObjectStore {
  /** `s3://bucket[/prefix]`. */
  readonly root: string;
  readonly bucket: string;
  /** Key prefix inside the bucket, without leading or trailing '/' ('' for none). */
  readonly prefix: string;
  readonly #options: ResolvedS3StoreOptions;
  readonly #client: S3Client;
  readonly #ownsClient: boolean;
  readonly #queue: PQueue;
  readonly #ctx: StoreContext;
  readonly #hooks: PutIfAbsentHooks;

  constructor(options: S3StoreOptions, deps: S3StoreDeps = {}) {
    this.#options = resolveS3Options(options);
    this.bucket = this.#options.bucket;
    this.prefix = this.#options.prefix;
    this.root = `s3://${this.bucket}${this.prefix === '' ? '' : `/${this.prefix}`}`;
    this.#ownsClient = deps.client === undefined;
    this.#client = deps.client ?? createS3Client(options);
    this.#queue = new PQueue({ concurrency: this.#options.concurrency });
    const scope: ErrorScope = { root: this.root, bucket: this.bucket, secrets: secretsOf(options) };
    const policy = this.#options.retry;
    const onRetry = this.#options.onRetry;
    const base = this.prefix === '' ? '' : `${this.prefix}/`;
    this.#ctx = {
      client: this.#client,
      bucket: this.bucket,
      scope,
      policy,
      onRetry,
      objectKey: (key) => base + key,
      call: async (operation, key, fn) => {
        try {
          return await withRetry({ operation, key, policy, onRetry }, fn);
        } catch (err) {
          throw toWeirError(scope, operation, key, err);
        }
      },
      error: (operation, key, err) => toWeirError(scope, operation, key, err),
    };
    this.#hooks = {
      get: (key) => this.get(key),
      exists: async (key) => {
        try {
          await this.head(key);
          return true;
        } catch (err) {
          if (err instanceof NotFoundError) return false;
          throw err;
        }
      },
    };
  }

  /** The settings in effect (defaults applied); never includes credentials. */
  get settings(): Readonly<Omit<ResolvedS3StoreOptions, 'onRetry'>> {
    const { onRetry: _, ...rest } = this.#options;
    return rest;
  }

  /** The underlying client, for tools and tests that need raw S3 calls on the same connection. */
  get client(): S3Client {
    return this.#client;
  }

  /** Releases the client's sockets if this store created it. The store is unusable afterwards. */
  destroy(): void {
    if (this.#ownsClient) this.#client.destroy();
  }

  async get(key: string): Promise<Uint8Array> {
    assertValidKey(key);
    return this.#ctx.call('get', key, async () => {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(key) }));
      return bodyBytes(res.Body);
    });
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    assertValidKey(key);
    assertValidRange(key, offset, length);
    if (length === 0) {
      await this.head(key);
      return new Uint8Array(0);
    }
    return this.#ctx.call('getRange', key, async () => {
      let res: GetObjectCommandOutput;
      try {
        res = await this.#client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: this.#key(key),
            Range: `bytes=${offset}-${offset + length - 1}`,
          }),
        );
      } catch (err) {
        // 416: the object exists but the range starts at or past its end.
        if (errorFacts(err).status === 416) return new Uint8Array(0);
        throw err;
      }
      const bytes = await bodyBytes(res.Body);
      // A server that ignored Range sent the whole object.
      if (res.ContentRange === undefined && bytes.byteLength > length) {
        return bytes.slice(offset, offset + length);
      }
      return bytes;
    });
  }

  async head(key: string): Promise<ObjectMeta> {
    assertValidKey(key);
    const res = await this.#ctx.call('head', key, () =>
      this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.#key(key) })),
    );
    return { key, size: res.ContentLength ?? 0, lastModified: seconds(res.LastModified) };
  }

  async put(
    key: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options: PutOptions = {},
  ): Promise<void> {
    assertValidKey(key);
    const contentLength = data instanceof Uint8Array ? data.byteLength : options.contentLength;
    const base = basePartSize(this.#options.partSize, contentLength);
    const parts =
      data instanceof Uint8Array
        ? sliceParts(data, base)
        : cutParts(data, base, key, options.chunksOwned === true);
    await uploadParts(this.#ctx, key, parts, {
      partSize: base,
      maxInFlight: this.#options.concurrency,
      queue: this.#queue,
      contentLength,
    });
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<void> {
    assertValidKey(key);
    if (!(data instanceof Uint8Array)) {
      throw new WeirError('INVALID_ARGUMENT', `putIfAbsent ${key}: data must be a Uint8Array`, {
        details: { key },
      });
    }
    if (this.#options.conditionalWrites === 'single-writer-unsafe') {
      return unsafePutIfAbsent(this.#ctx, this.#hooks, key, data);
    }
    if (this.#options.verifyConditionalWrites) await this.checkConditionalWrites();
    return conditionalPut(this.#ctx, this.#hooks, key, data);
  }

  /**
   * Resolves once the server is known to honour `If-None-Match: *` in this bucket (checked once per
   * client with a probe object, see conditional-writes-check.ts); fails with
   * 'CONDITIONAL_WRITES_UNSUPPORTED' when it refuses or ignores it. `putIfAbsent` calls it first.
   */
  checkConditionalWrites(): Promise<void> {
    return checkConditionalWrites(this.#ctx, this.#hooks);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncGenerator<ObjectMeta> {
    assertValidPrefix(prefix);
    const base = this.#key('');
    const listPrefix = base + prefix;
    let startAfter = options.startAfter ? base + options.startAfter : undefined;
    let token: string | undefined;
    for (;;) {
      const page = await this.#ctx.call('list', prefix, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            ...(listPrefix === '' ? {} : { Prefix: listPrefix }),
            ...(token === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}),
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        ),
      );
      let last: string | undefined;
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(base)) continue;
        last = object.Key;
        yield {
          key: object.Key.slice(base.length),
          size: object.Size ?? 0,
          lastModified: seconds(object.LastModified),
        };
      }
      if (!page.IsTruncated) return;
      if (page.NextContinuationToken) {
        token = page.NextContinuationToken;
      } else if (last !== undefined) {
        // A server that truncates without a token: continue after the last key seen.
        token = undefined;
        startAfter = last;
      } else {
        throw new WeirError(
          'IO_ERROR',
          `list ${JSON.stringify(prefix)} in ${this.root}: truncated page without a continuation`,
          {
            details: { prefix, bucket: this.bucket },
          },
        );
      }
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.#ctx.call('delete', key, () =>
        this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#key(key) })),
      );
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertValidKey(key);
    const unique = [...new Set(keys)];
    const failures: { key: string; code: string; message: string }[] = [];
    for (let i = 0; i < unique.length; i += DELETE_BATCH) {
      const batch = unique.slice(i, i + DELETE_BATCH);
      const res = await this.#ctx.call('deleteMany', batch[0]!, () =>
        this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.#key(key) })), Quiet: true },
          }),
        ),
      );
      const base = this.#key('');
      for (const error of res.Errors ?? []) {
        if (error.Code === 'NoSuchKey') continue;
        const key = (error.Key ?? '').slice(base.length);
        failures.push({ key, code: error.Code ?? 'Unknown', message: error.Message ?? '' });
      }
    }
    if (failures.length > 0) {
      const shown = failures
        .slice(0, 5)
        .map((f) => `${f.key} (${f.code})`)
        .join(', ');
      throw new WeirError(
        'IO_ERROR',
        `deleteMany in ${this.root}: ${failures.length} of ${unique.length} keys were not deleted: ${shown}` +
          (failures.length > 5 ? ', ...' : ''),
        { retryable: true, details: { bucket: this.bucket, root: this.root, failures } },
      );
    }
  }

  #key(key: string): string {
    return this.#ctx.objectKey(key);
  }
}
