/**
 * Weir's retry policy for S3 requests: which failures are worth another attempt, how long to wait
 * (exponential backoff with full jitter), and a small driver (`withRetry`).
 *
 * Why not the SDK's retry strategy: the SDK client is built with `maxAttempts: 1` and every retry
 * happens here, because a retried conditional PUT must not be blind. If a commit PUT's response is
 * lost and the SDK re-sent it, the re-send would answer 412 for our *own* write and the commit
 * would be reported lost. put-if-absent.ts needs to see each failed attempt to resolve it by reading
 * the object back; one policy for every operation keeps the behaviour uniform and testable.
 *
 * Invariants (all decisions are pure functions of the error, unit-tested):
 * - Retried: throttling (503 SlowDown, 429, Throttling codes), 5xx, 409 ConditionalRequestConflict,
 *   400/408 RequestTimeout, connection resets/refusals/aborts, EPIPE, timeouts, DNS EAI_AGAIN.
 * - Never retried: other 4xx (400, 403, 404, 412, 416...), 501 NotImplemented, and local errors
 *   that are not transport failures (bugs, bad input, a failing source stream).
 * - Delay before retry n (n = 1, 2, ...) is uniform in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))].
 */

/** What a failed request was, as far as retrying is concerned. */
export type FailureKind =
  /** 429, 503 SlowDown and friends: the server asks us to slow down. */
  | 'throttled'
  /** Other 5xx: the server failed; the request may or may not have been applied. */
  | 'server'
  /** The connection broke after the request may have been sent (reset, EPIPE, abort). */
  | 'network'
  /** No answer in time; the request may or may not have been applied. */
  | 'timeout'
  /** The connection was refused: the request was certainly not sent. */
  | 'refused'
  /** A definitive 4xx answer (including 412): retrying cannot change it. */
  | 'client'
  /** Not an S3 or transport failure (a bug, a failing source stream...). */
  | 'other';

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 8,
  baseDelayMs: 50,
  maxDelayMs: 5_000,
};

/** Reported before each retry; holds no secrets (no request, no headers). */
export interface RetryEvent {
  operation: string;
  key: string;
  /** The attempt that failed (1-based). */
  attempt: number;
  delayMs: number;
  kind: FailureKind;
  status: number | undefined;
  errorCode: string | undefined;
}

const THROTTLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
]);
/** 4xx codes that are transient all the same. */
const TRANSIENT_CLIENT_CODES = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'ConditionalRequestConflict',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);

/** The HTTP status, S3 error code and transport error code of an SDK or Node error, if any. */
export interface ErrorFacts {
  status: number | undefined;
  /** S3's error code ('NoSuchKey', 'SlowDown'...) or the SDK error name. */
  errorCode: string | undefined;
  /** A Node/transport error code ('ECONNRESET'...). */
  systemCode: string | undefined;
  name: string | undefined;
  requestId: string | undefined;
}

function stringField(value: unknown, field: string): string | undefined {
  const v = (value as Record<string, unknown> | null | undefined)?.[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Extracts what the retry policy and error mapping need, from any thrown value. */
export function errorFacts(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) {
    return {
      status: undefined,
      errorCode: undefined,
      systemCode: undefined,
      name: undefined,
      requestId: undefined,
    };
  }
  const e = err as Record<string, unknown>;
  const meta = e.$metadata as { httpStatusCode?: unknown; requestId?: unknown } | undefined;
  const response = e.$response as { statusCode?: unknown } | undefined;
  const statusValue = meta?.httpStatusCode ?? response?.statusCode;
  const status = typeof statusValue === 'number' && statusValue > 0 ? statusValue : undefined;
  const name = stringField(e, 'name');
  const code = stringField(e, 'code');
  // SDK service errors: name/Code is the S3 code. Node errors: `code` is the system code.
  const isSystemCode = code !== undefined && (/^E[A-Z_]+$/.test(code) || /^(ERR|UND)_/.test(code));
  const s3Code = stringField(e, 'Code') ?? (status !== undefined ? name : undefined);
  const causeCode = stringField(e.cause, 'code');
  return {
    status,
    errorCode: s3Code,
    systemCode: isSystemCode ? code : causeCode,
    name,
    requestId: typeof meta?.requestId === 'string' ? meta.requestId : undefined,
  };
}

/** Classifies a failure; see `FailureKind`. */
export function classifyFailure(err: unknown): FailureKind {
  const facts = errorFacts(err);
  const { status, errorCode, systemCode, name } = facts;
  if (errorCode !== undefined && THROTTLE_CODES.has(errorCode)) return 'throttled';
  if (status === 429 || status === 503) return 'throttled';
  if (errorCode !== undefined && TRANSIENT_CLIENT_CODES.has(errorCode)) {
    return errorCode === 'ConditionalRequestConflict' ? 'throttled' : 'timeout';
  }
  if (status === 408) return 'timeout';
  // 501 NotImplemented is a definitive "this server cannot do that" (e.g. conditional writes).
  if (status === 501 || errorCode === 'NotImplemented') return 'client';
  if (status !== undefined && status >= 500) return 'server';
  if (status !== undefined && status >= 400) return 'client';
  if (systemCode === 'ECONNREFUSED') return 'refused';
  if (systemCode !== undefined && TIMEOUT_CODES.has(systemCode)) return 'timeout';
  if (systemCode !== undefined && NETWORK_CODES.has(systemCode)) return 'network';
  if (name === 'TimeoutError' || name === 'RequestTimeout') return 'timeout';
  // A body cut short while reading a 2xx response, or a socket closed under the SDK.
  if (name === 'AbortError' && status === undefined && isSdkTransportAbort(err)) return 'network';
  return 'other';
}

/** The SDK reports an aborted response body as AbortError without a caller signal; ours never aborts. */
function isSdkTransportAbort(err: unknown): boolean {
  const message = stringField(err, 'message') ?? '';
  return /aborted|socket hang up|premature/i.test(message);
}

export function isRetryable(kind: FailureKind): boolean {
  return (
    kind === 'throttled' ||
    kind === 'server' ||
    kind === 'network' ||
    kind === 'timeout' ||
    kind === 'refused'
  );
}

/**
 * Whether a failed *write* may have been applied anyway: everything retryable except a refused
 * connection (nothing was sent). A 5xx or throttling answer normally means "not applied", but a
 * proxy or gateway can answer 5xx after the backend applied the write, so those count as ambiguous
 * too; resolving costs one GET.
 */
export function isAmbiguous(kind: FailureKind): boolean {
  return isRetryable(kind) && kind !== 'refused';
}

/** Full-jitter exponential backoff before retry number `retry` (1-based). `random` in [0, 1). */
export function backoffDelayMs(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(retry - 1, 0), 30);
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.floor(random() * cap);
}

export interface RetryDecision {
  retry: boolean;
  kind: FailureKind;
  /** Wait before the next attempt (0 when not retrying). */
  delayMs: number;
}

/** Whether to try again after attempt `attempt` (1-based) failed with `err`, and after how long. */
export function retryDecision(
  err: unknown,
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  const kind = classifyFailure(err);
  if (!isRetryable(kind) || attempt >= policy.maxAttempts) return { retry: false, kind, delayMs: 0 };
  return { retry: true, kind, delayMs: backoffDelayMs(attempt, policy, random) };
}

export interface RetryContext {
  operation: string;
  key: string;
  policy: RetryPolicy;
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Thrown by `withRetry` when it gives up; `attempts` says how many were made. */
export class RetriesExhausted extends Error {
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
    readonly kind: FailureKind,
  ) {
    super('retries exhausted', { cause: lastError });
    this.name = 'RetriesExhausted';
  }
}

export const sleep = (ms: number): Promise<void> =>
  ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn(attempt)` until it succeeds, fails with a non-retryable error (rethrown unchanged), or
 * the policy's attempts are used up (throws `RetriesExhausted` wrapping the last error).
 */
export async function withRetry<T>(ctx: RetryContext, fn: (attempt: number) => Promise<T>): Promise<T> {
  const wait = ctx.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const decision = retryDecision(err, attempt, ctx.policy, ctx.random);
      if (!decision.retry) {
        if (isRetryable(decision.kind)) throw new RetriesExhausted(err, attempt, decision.kind);
        throw err;
      }
      notifyRetry(ctx, err, attempt, decision);
      await wait(decision.delayMs);
    }
  }
}

export function notifyRetry(ctx: RetryContext, err: unknown, attempt: number, decision: RetryDecision): void {
  if (ctx.onRetry === undefined) return;
  const facts = errorFacts(err);
  try {
    ctx.onRetry({
      operation: ctx.operation,
      key: ctx.key,
      attempt,
      delayMs: decision.delayMs,
      kind: decision.kind,
      status: facts.status,
      errorCode: facts.errorCode ?? facts.systemCode,
    });
  } catch {
    // A failing observer must not change the outcome of the request.
  }
}
