import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  classifyFailure,
  errorFacts,
  isAmbiguous,
  isRetryable,
  RetriesExhausted,
  type RetryEvent,
  retryDecision,
  withRetry,
} from './retry.js';

/** An error shaped like the SDK's service exceptions. */
function s3Error(status: number, code: string): Error {
  return Object.assign(new Error('UnknownError'), {
    name: code,
    Code: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'tx-1' },
  });
}

/** An error shaped like Node's socket errors (as the SDK's HTTP handler passes them on). */
function systemError(code: string, name = 'Error'): Error {
  return Object.assign(new Error(`${code} happened`), { code, name });
}

const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('classifyFailure', () => {
  it.each([
    [s3Error(503, 'SlowDown'), 'throttled'],
    [s3Error(429, 'TooManyRequests'), 'throttled'],
    [s3Error(400, 'Throttling'), 'throttled'],
    [s3Error(409, 'ConditionalRequestConflict'), 'throttled'],
    [s3Error(500, 'InternalError'), 'server'],
    [s3Error(502, 'BadGateway'), 'server'],
    [s3Error(504, 'GatewayTimeout'), 'server'],
    [s3Error(400, 'RequestTimeout'), 'timeout'],
    [s3Error(408, 'RequestTimeout'), 'timeout'],
    [systemError('ECONNRESET'), 'network'],
    [systemError('ECONNRESET', 'TimeoutError'), 'network'],
    [systemError('EPIPE'), 'network'],
    [systemError('EAI_AGAIN'), 'network'],
    [systemError('ETIMEDOUT', 'TimeoutError'), 'timeout'],
    [Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }), 'timeout'],
    [systemError('ECONNREFUSED'), 'refused'],
  ] as const)('%s -> %s', (err, kind) => {
    expect(classifyFailure(err)).toBe(kind);
    expect(isRetryable(kind)).toBe(true);
  });

  it.each([
    [s3Error(400, 'InvalidArgument'), 'client'],
    [s3Error(403, 'AccessDenied'), 'client'],
    [s3Error(403, 'SignatureDoesNotMatch'), 'client'],
    [s3Error(404, 'NoSuchKey'), 'client'],
    [
      Object.assign(new Error('UnknownError'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }),
      'client',
    ],
    [s3Error(412, 'PreconditionFailed'), 'client'],
    [s3Error(416, 'InvalidRange'), 'client'],
    [s3Error(501, 'NotImplemented'), 'client'],
    [new TypeError('x is not a function'), 'other'],
    [new Error('source stream failed'), 'other'],
    ['a string', 'other'],
    [undefined, 'other'],
    [systemError('ENOTFOUND'), 'other'],
  ] as const)('never retries %s (%s)', (err, kind) => {
    expect(classifyFailure(err)).toBe(kind);
    expect(isRetryable(kind)).toBe(false);
    expect(retryDecision(err, 1, policy).retry).toBe(false);
  });

  it('treats everything retryable as ambiguous for writes except a refused connection', () => {
    expect(isAmbiguous('network')).toBe(true);
    expect(isAmbiguous('timeout')).toBe(true);
    expect(isAmbiguous('server')).toBe(true);
    expect(isAmbiguous('throttled')).toBe(true);
    expect(isAmbiguous('refused')).toBe(false);
    expect(isAmbiguous('client')).toBe(false);
    expect(isAmbiguous('other')).toBe(false);
  });

  it('extracts status, S3 code, system code and request id', () => {
    expect(errorFacts(s3Error(503, 'SlowDown'))).toMatchObject({
      status: 503,
      errorCode: 'SlowDown',
      requestId: 'tx-1',
    });
    expect(errorFacts(systemError('ECONNRESET'))).toMatchObject({
      status: undefined,
      systemCode: 'ECONNRESET',
    });
    expect(errorFacts(null)).toMatchObject({ status: undefined, errorCode: undefined });
  });
});

describe('backoff', () => {
  it('is full jitter over an exponentially growing, capped window', () => {
    expect(backoffDelayMs(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelayMs(2, policy, () => 0.999)).toBe(199);
    expect(backoffDelayMs(3, policy, () => 0.999)).toBe(399);
    expect(backoffDelayMs(4, policy, () => 0.999)).toBe(799);
    expect(backoffDelayMs(5, policy, () => 0.999)).toBe(999);
    expect(backoffDelayMs(60, policy, () => 0.999)).toBe(999);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
  });

  it('spreads delays across the window', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelayMs(4, policy));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(800);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(300);
    expect(mean).toBeLessThan(500);
  });

  it('stops at maxAttempts', () => {
    const err = s3Error(503, 'SlowDown');
    expect(retryDecision(err, 4, policy, () => 0.5)).toEqual({
      retry: true,
      kind: 'throttled',
      delayMs: 400,
    });
    expect(retryDecision(err, 5, policy)).toEqual({ retry: false, kind: 'throttled', delayMs: 0 });
  });
});

describe('withRetry', () => {
  const noSleep = async (): Promise<void> => {};

  it('retries transient failures and reports each retry without secrets', async () => {
    const events: RetryEvent[] = [];
    const failures = [s3Error(503, 'SlowDown'), systemError('ECONNRESET')];
    let calls = 0;
    const result = await withRetry(
      { operation: 'get', key: 'k', policy, sleep: noSleep, onRetry: (e) => events.push(e) },
      async (attempt) => {
        calls++;
        const failure = failures[attempt - 1];
        if (failure) throw failure;
        return 'ok';
      },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(events.map((e) => [e.attempt, e.kind, e.status, e.errorCode])).toEqual([
      [1, 'throttled', 503, 'SlowDown'],
      [2, 'network', undefined, 'ECONNRESET'],
    ]);
    expect(Object.keys(events[0]!).sort()).toEqual(
      ['attempt', 'delayMs', 'errorCode', 'key', 'kind', 'operation', 'status'].sort(),
    );
  });

  it('rethrows non-retryable failures unchanged after one attempt', async () => {
    const denied = s3Error(403, 'AccessDenied');
    let calls = 0;
    const err = await withRetry({ operation: 'get', key: 'k', policy, sleep: noSleep }, async () => {
      calls++;
      throw denied;
    }).catch((e: unknown) => e);
    expect(err).toBe(denied);
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts with RetriesExhausted', async () => {
    let calls = 0;
    const err = await withRetry({ operation: 'get', key: 'k', policy, sleep: noSleep }, async () => {
      calls++;
      throw s3Error(500, 'InternalError');
    }).catch((e: unknown) => e);
    expect(calls).toBe(5);
    expect(err).toBeInstanceOf(RetriesExhausted);
    expect((err as RetriesExhausted).attempts).toBe(5);
    expect((err as RetriesExhausted).kind).toBe('server');
  });

  it('sleeps the backoff delay between attempts', async () => {
    const slept: number[] = [];
    await withRetry(
      {
        operation: 'get',
        key: 'k',
        policy,
        random: () => 0.5,
        sleep: async (ms) => {
          slept.push(ms);
        },
      },
      async (attempt) => {
        if (attempt < 4) throw s3Error(503, 'SlowDown');
      },
    );
    expect(slept).toEqual([50, 100, 200]);
  });

  it('ignores a throwing onRetry observer', async () => {
    const result = await withRetry(
      {
        operation: 'get',
        key: 'k',
        policy,
        sleep: noSleep,
        onRetry: () => {
          throw new Error('observer bug');
        },
      },
      async (attempt) => {
        if (attempt === 1) throw systemError('EPIPE');
        return 7;
      },
    );
    expect(result).toBe(7);
  });
});
