/**
 * The one error base class of Weir. Every error Weir throws on purpose is a `WeirError` with a
 * stable `code` (callers branch on it, never on message text) and a `retryable` flag that tells a
 * caller whether the same call may succeed if tried again. Subclasses exist only where callers
 * branch on the class itself.
 */

export interface WeirErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Structured facts (table, version, file, key...) for logs and machine-readable output. */
  details?: Record<string, unknown>;
}

export class WeirError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: WeirErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeirError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** A key that does not exist was read. */
export class NotFoundError extends WeirError {
  constructor(key: string, options: WeirErrorOptions = {}) {
    super('NOT_FOUND', `object not found: ${key}`, {
      ...options,
      details: { key, ...options.details },
    });
    this.name = 'NotFoundError';
  }
}

/** `putIfAbsent` lost: the key already exists. Commit protocols branch on this. */
export class AlreadyExistsError extends WeirError {
  constructor(key: string, options: WeirErrorOptions = {}) {
    super('ALREADY_EXISTS', `object already exists: ${key}`, {
      ...options,
      details: { key, ...options.details },
    });
    this.name = 'AlreadyExistsError';
  }
}

export function isWeirError(err: unknown, code?: string): err is WeirError {
  return err instanceof WeirError && (code === undefined || err.code === code);
}
