/**
 * Streaming uploads for `S3Store.put`: a source of chunks is cut into parts; an object that fits in
 * one part goes up as a single PutObject, anything larger as a multipart upload whose parts run in
 * parallel on the store's shared p-queue.
 *
 * Invariants:
 * - Bounded memory: per upload at most `maxInFlight` parts are queued or uploading plus the one
 *   being filled (filling overlaps the uploads), so memory is about (maxInFlight + 1) x part size
 *   whatever the object size.
 * - All parts but the last are exactly the part size (>= 5 MiB, as S3 requires). Part sizes grow
 *   (doubling every 2000 parts) so an unknown-length stream cannot run past S3's 10 000 parts.
 * - On any failure (source stream, a part, completion) the source is closed, in-flight parts
 *   settle, and the upload is aborted (AbortMultipartUpload); errors thrown by the source itself
 *   propagate unchanged. Nothing becomes visible unless CompleteMultipartUpload succeeded.
 * - Retries stay invisible: a re-sent part replaces its part number; a re-sent Complete whose
 *   first try succeeded is recognised (NoSuchUpload + matching size and multipart ETag); uploads
 *   made by a Create whose answer was lost are found and aborted (`abortOrphans`).
 * - Never used for `putIfAbsent` (conditional creates must be one PutObject).
 */

import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { WeirError } from '@weir/storage';
import type PQueue from 'p-queue';
import { errorFacts } from './retry.js';
import type { StoreContext } from './store-context.js';

export const MAX_PARTS = 10_000;
const PARTS_PER_SIZE_STEP = 2_000;

export interface UploadSettings {
  partSize: number;
  /** Parts of this upload queued or uploading at once. */
  maxInFlight: number;
  /** Shared by all uploads of a store: bounds requests in flight across them. */
  queue: PQueue;
  /** Total length when known: picks a part size that fits in MAX_PARTS from the start. */
  contentLength?: number | undefined;
}

/** Size of part `partNumber` (1-based): the base size, doubled every 2000 parts. */
export function partSizeFor(partNumber: number, base: number): number {
  return base * 2 ** Math.floor((partNumber - 1) / PARTS_PER_SIZE_STEP);
}

/** The base part size for an upload: `partSize`, raised so `contentLength` fits in MAX_PARTS. */
export function basePartSize(partSize: number, contentLength: number | undefined): number {
  if (contentLength === undefined || contentLength <= 0) return partSize;
  return Math.max(partSize, Math.ceil(contentLength / MAX_PARTS));
}

function badChunk(key: string): WeirError {
  return new WeirError('INVALID_ARGUMENT', `put ${key}: stream yielded a non-Uint8Array chunk`, {
    details: { key },
  });
}

/**
 * Cuts a chunk stream into parts: buffers of exactly `partSizeFor(n)` bytes, the last one
 * shorter. Chunks are copied into fresh part buffers (the source may reuse its buffers once it
 * yields the next one), except with `chunksOwned`: then a part that lies wholly inside one chunk
 * is a view of it, and only parts that span chunks are copied. Part buffers are not zero-filled
 * first (every byte handed on was written).
 */
export async function* cutParts(
  source: AsyncIterable<Uint8Array>,
  base: number,
  key: string,
  chunksOwned = false,
): AsyncGenerator<Uint8Array> {
  let partNumber = 1;
  let part: Uint8Array | undefined;
  let filled = 0;
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) throw badChunk(key);
    let offset = 0;
    while (offset < chunk.byteLength) {
      const size = partSizeFor(partNumber, base);
      if (part === undefined && chunksOwned && chunk.byteLength - offset >= size) {
        yield chunk.subarray(offset, offset + size);
        offset += size;
        partNumber++;
        continue;
      }
      // Uninitialized memory is safe here: a part is yielded only up to the bytes written into it.
      part ??= Buffer.allocUnsafeSlow(size);
      const n = Math.min(part.byteLength - filled, chunk.byteLength - offset);
      part.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === part.byteLength) {
        yield part;
        partNumber++;
        part = undefined;
        filled = 0;
      }
    }
  }
  if (part !== undefined && filled > 0) yield part.subarray(0, filled);
}

/** Views of `data` in part-sized slices (no copy: the caller's buffer outlives the upload). */
export async function* sliceParts(data: Uint8Array, base: number): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let partNumber = 1; offset < data.byteLength; partNumber++) {
    const size = partSizeFor(partNumber, base);
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

async function putSingle(ctx: StoreContext, key: string, body: Uint8Array): Promise<void> {
  await ctx.call('put', key, () =>
    ctx.client.send(
      new PutObjectCommand({
        Bucket: ctx.bucket,
        Key: ctx.objectKey(key),
        Body: body,
        ContentLength: body.byteLength,
      }),
    ),
  );
}

/** Marks an error thrown by the source stream so it can be rethrown unchanged. */
class SourceFailure {
  constructor(readonly error: unknown) {}
}

async function nextPart(parts: AsyncIterator<Uint8Array>): Promise<IteratorResult<Uint8Array>> {
  try {
    return await parts.next();
  } catch (err) {
    throw new SourceFailure(err);
  }
}

/**
 * Uploads the parts of `parts` (already cut) as one object: a single PutObject when there is at
 * most one part, else a multipart upload.
 */
export async function uploadParts(
  ctx: StoreContext,
  key: string,
  parts: AsyncGenerator<Uint8Array>,
  settings: UploadSettings,
): Promise<void> {
  try {
    const first = await nextPart(parts);
    if (first.done) return await putSingle(ctx, key, new Uint8Array(0));
    const second = await nextPart(parts);
    if (second.done) return await putSingle(ctx, key, first.value);
    await multipart(ctx, key, parts, [first.value, second.value], settings);
  } catch (err) {
    if (err instanceof SourceFailure) throw err.error;
    throw err;
  } finally {
    // Closes the source when we stopped early (failure); a no-op when it is exhausted.
    await parts.return(undefined).catch(() => {});
  }
}

export interface CompletedPart {
  PartNumber: number;
  ETag: string;
}

async function multipart(
  ctx: StoreContext,
  key: string,
  parts: AsyncGenerator<Uint8Array>,
  head: readonly Uint8Array[],
  settings: UploadSettings,
): Promise<void> {
  const objectKey = ctx.objectKey(key);
  const createStarted = Date.now();
  let createAttempts = 0;
  const created = await ctx.call('put', key, (attempt) => {
    createAttempts = attempt;
    return ctx.client.send(new CreateMultipartUploadCommand({ Bucket: ctx.bucket, Key: objectKey }));
  });
  const uploadId = created.UploadId;
  if (uploadId === undefined) {
    throw new WeirError('IO_ERROR', `put ${JSON.stringify(key)} in ${ctx.scope.root}: no UploadId returned`, {
      details: { key, bucket: ctx.bucket },
    });
  }
  // A retried Create may have created uploads whose answers were lost: abort them now.
  if (createAttempts > 1) await abortOrphans(ctx, key, uploadId, Date.now() - createStarted);

  const completed: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let totalBytes = 0;
  let partNumber = 0;

  const submit = (body: Uint8Array): void => {
    const number = ++partNumber;
    if (number > MAX_PARTS) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `put ${key}: more than ${MAX_PARTS} parts; pass contentLength`,
        {
          details: { key, partSize: settings.partSize },
        },
      );
    }
    totalBytes += body.byteLength;
    const task = settings.queue
      .add(async () => {
        if (failure !== undefined) return;
        const res = await ctx.call('put', key, () =>
          ctx.client.send(
            new UploadPartCommand({
              Bucket: ctx.bucket,
              Key: objectKey,
              UploadId: uploadId,
              PartNumber: number,
              Body: body,
              ContentLength: body.byteLength,
            }),
          ),
        );
        completed.push({ PartNumber: number, ETag: res.ETag ?? '' });
      })
      .then(
        () => {},
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  try {
    const waitForSlot = async (): Promise<void> => {
      while (inFlight.size >= settings.maxInFlight && failure === undefined) await Promise.race(inFlight);
    };
    for (const body of head) {
      await waitForSlot();
      if (failure === undefined) submit(body);
    }
    while (failure === undefined) {
      // Fill the next part while the others upload, then wait for a free slot to send it.
      const next = await nextPart(parts);
      if (next.done) break;
      await waitForSlot();
      if (failure !== undefined) break;
      submit(next.value);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure.error;
    completed.sort((a, b) => a.PartNumber - b.PartNumber);
    await complete(ctx, key, uploadId, completed, totalBytes);
  } catch (err) {
    failure ??= { error: err };
    await Promise.all(inFlight);
    await abort(ctx, key, uploadId);
    throw err;
  }
}

async function complete(
  ctx: StoreContext,
  key: string,
  uploadId: string,
  parts: CompletedPart[],
  totalBytes: number,
): Promise<void> {
  const objectKey = ctx.objectKey(key);
  await ctx.call('put', key, async (attempt) => {
    try {
      await ctx.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: ctx.bucket,
          Key: objectKey,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    } catch (err) {
      // A retried Complete whose first try succeeded (response lost) finds the upload gone.
      if (attempt > 1 && errorFacts(err).errorCode === 'NoSuchUpload') {
        const head = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: objectKey }));
        const expected = multipartEtag(parts);
        const etag = head.ETag?.replace(/"/g, '');
        if (head.ContentLength === totalBytes && (expected === undefined || etag === expected)) return;
      }
      throw err;
    }
  });
}

/**
 * The ETag S3 gives a completed multipart object: MD5 of the parts' binary MD5s, '-', part count.
 * Undefined when a part ETag is not a plain MD5 (then only the size can be checked).
 */
export function multipartEtag(parts: readonly CompletedPart[]): string | undefined {
  const digests: Buffer[] = [];
  for (const part of parts) {
    const hex = part.ETag.replace(/"/g, '');
    if (!/^[0-9a-f]{32}$/i.test(hex)) return undefined;
    digests.push(Buffer.from(hex, 'hex'));
  }
  return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}`;
}

/**
 * Aborts uploads of the same key that an earlier, answer-lost attempt of our Create made: those
 * initiated within `windowMs` (plus a second of timestamp rounding) before ours. A concurrent
 * writer of the *same key* starting in that window would lose its upload (its put fails and can be
 * retried); data files have unique names, so in practice only our own orphans match. Best effort:
 * failures are ignored (a bucket lifecycle rule for incomplete uploads is the backstop).
 */
async function abortOrphans(ctx: StoreContext, key: string, ours: string, windowMs: number): Promise<void> {
  const objectKey = ctx.objectKey(key);
  try {
    const listed = await ctx.call('put', key, () =>
      ctx.client.send(new ListMultipartUploadsCommand({ Bucket: ctx.bucket, Prefix: objectKey })),
    );
    const uploads = (listed.Uploads ?? []).filter((u) => u.Key === objectKey);
    const mine = uploads.find((u) => u.UploadId === ours)?.Initiated?.getTime();
    if (mine === undefined) return;
    for (const upload of uploads) {
      const initiated = upload.Initiated?.getTime();
      if (upload.UploadId === ours || upload.UploadId === undefined || initiated === undefined) continue;
      if (initiated > mine || initiated < mine - windowMs - 1000) continue;
      await abort(ctx, key, upload.UploadId);
    }
  } catch {
    // best effort, see above
  }
}

async function abort(ctx: StoreContext, key: string, uploadId: string): Promise<void> {
  try {
    await ctx.call('put', key, () =>
      ctx.client.send(
        new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: ctx.objectKey(key), UploadId: uploadId }),
      ),
    );
  } catch {
    // The original failure matters more; an upload left behind is reclaimed by the bucket's
    // AbortIncompleteMultipartUpload lifecycle rule, and costs nothing visible meanwhile.
  }
}
