/**
 * Error mapping, and the promise that credentials never reach an error or a log: unit checks on
 * synthetic SDK errors, then real authentication failures against radosgw.
 */

import { inspect } from 'node:util';
import { NotFoundError, WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { describeS3Options } from './config.js';
import { RetriesExhausted, type RetryEvent } from './retry.js';
import { toWeirError } from './s3-errors.js';
import { S3Store } from './s3-store.js';
import { describeS3, useRgwBucket } from './testing/rgw-suite.js';

const scope = { root: 's3://b/t', bucket: 'b', secrets: ['the-secret-value-123'] };

function sdkError(status: number, code: string, message = 'UnknownError'): Error {
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $metadata: { httpStatusCode: status, requestId: 'req-1' },
    $response: { headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDSHOULDNOTLEAK/...' } },
  });
}

/** Everything a logger or serializer could print about an error. */
function everything(err: unknown): string {
  const weir = err as WeirError;
  return [
    String(err),
    weir.message,
    weir.stack ?? '',
    JSON.stringify(weir.details),
    JSON.stringify(err),
    inspect(err, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
  ].join('\n');
}

describe('toWeirError', () => {
  it.each([
    [sdkError(403, 'AccessDenied'), 'ACCESS_DENIED'],
    [sdkError(403, 'SignatureDoesNotMatch'), 'ACCESS_DENIED'],
    [sdkError(403, 'InvalidAccessKeyId'), 'ACCESS_DENIED'],
    [sdkError(404, 'NoSuchBucket'), 'NO_SUCH_BUCKET'],
    [sdkError(404, 'NoSuchKey'), 'NOT_FOUND'],
    [sdkError(400, 'InvalidArgument'), 'IO_ERROR'],
    [
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      'CREDENTIALS_UNAVAILABLE',
    ],
    [new RetriesExhausted(sdkError(503, 'SlowDown'), 8, 'throttled'), 'STORE_UNAVAILABLE'],
  ])('%s -> %s', (err, code) => {
    const weir = toWeirError(scope, 'get', 'k', err);
    expect(weir).toBeInstanceOf(WeirError);
    expect(weir.code).toBe(code);
    expect(weir.retryable).toBe(code === 'STORE_UNAVAILABLE');
    if (code === 'NOT_FOUND') expect(weir).toBeInstanceOf(NotFoundError);
  });

  it('names operation, key and store, and keeps only allow-listed facts', () => {
    const weir = toWeirError(
      scope,
      'head',
      'dir/k',
      new RetriesExhausted(sdkError(500, 'InternalError'), 3, 'server'),
    );
    expect(weir.message).toBe(
      'head "dir/k" in s3://b/t failed after 3 attempts (server): HTTP 500 InternalError',
    );
    expect(weir.details).toEqual({
      operation: 'head',
      key: 'dir/k',
      bucket: 'b',
      root: 's3://b/t',
      attempts: 3,
      status: 500,
      s3Code: 'InternalError',
      requestId: 'req-1',
    });
    expect(everything(weir)).not.toContain('AKIDSHOULDNOTLEAK');
  });

  it('scrubs known secrets from SDK messages', () => {
    const weir = toWeirError(
      scope,
      'get',
      'k',
      sdkError(400, 'Weird', 'bad thing the-secret-value-123 here'),
    );
    expect(everything(weir)).not.toContain('the-secret-value-123');
    expect(weir.message).toContain('bad thing *** here');
  });
});

describeS3('credentials never appear in errors (radosgw)', () => {
  const rgw = useRgwBucket();
  const WRONG_SECRET = 'WrongSecret-zz9-plural-z-alpha-0123456789';

  it('a wrong secret fails with ACCESS_DENIED that names neither secret', async () => {
    const events: RetryEvent[] = [];
    const store = new S3Store(
      rgw.options({
        prefix: 'auth',
        credentials: { accessKeyId: rgw.connection.accessKeyId, secretAccessKey: WRONG_SECRET },
        onRetry: (e) => events.push(e),
      }),
    );
    try {
      const failures: unknown[] = [];
      for (const op of [
        () => store.get('k'),
        () => store.head('k'),
        () => store.put('k', new Uint8Array(10)),
        () => store.putIfAbsent('k', new Uint8Array(10)),
        () => store.delete('k'),
        async () => {
          for await (const _ of store.list('')) break;
        },
      ]) {
        failures.push(await op().catch((e: unknown) => e));
      }
      for (const [i, err] of failures.entries()) {
        expect(err).toBeInstanceOf(WeirError);
        expect((err as WeirError).code).toBe('ACCESS_DENIED');
        expect((err as WeirError).details.status).toBe(403);
        // HEAD answers carry no body, hence no S3 error code.
        if (i !== 1) expect((err as WeirError).details.s3Code).toBe('SignatureDoesNotMatch');
        const text = everything(err);
        expect(text).not.toContain(WRONG_SECRET);
        expect(text).not.toContain(rgw.connection.secretAccessKey);
        // Nothing from the signed request either (its Authorization header names the key id).
        expect(text).not.toContain(rgw.connection.accessKeyId);
      }
      // Auth failures are not retried.
      expect(events).toEqual([]);
      // Nor does the store itself show its credentials.
      for (const text of [
        inspect(store, { depth: 10, showHidden: true }),
        JSON.stringify(store),
        String(store),
      ]) {
        expect(text).not.toContain(WRONG_SECRET);
      }
      expect(
        describeS3Options(rgw.options({ credentials: { accessKeyId: 'a', secretAccessKey: WRONG_SECRET } })),
      ).not.toContain(WRONG_SECRET);
    } finally {
      store.destroy();
    }
  });

  it('an unknown access key fails with ACCESS_DENIED (InvalidAccessKeyId)', async () => {
    const store = new S3Store(
      rgw.options({ credentials: { accessKeyId: 'NOSUCHKEYID000000000', secretAccessKey: WRONG_SECRET } }),
    );
    try {
      const err = await store.get('k').catch((e: unknown) => e);
      expect((err as WeirError).code).toBe('ACCESS_DENIED');
      expect((err as WeirError).details.s3Code).toBe('InvalidAccessKeyId');
      expect(everything(err)).not.toContain(WRONG_SECRET);
    } finally {
      store.destroy();
    }
  });

  it('errors with the right credentials do not contain them either', async () => {
    const store = rgw.store('ok');
    const err = await store.get('missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    const text = everything(err);
    expect(text).not.toContain(rgw.connection.secretAccessKey);
    expect(text).not.toContain(rgw.connection.accessKeyId);
  });
});
