/**
 * Errors of the broker package: one typed base class (`BrokerError`, with a stable `code` and a
 * `retryable` flag, like Weir's error base but with no dependency on it) and the Kafka protocol
 * error codes the broker answers with.
 *
 * Invariants: callers branch on `code`, never on message text; `KafkaErrorCode` values are the
 * numbers the Kafka protocol defines and are never renumbered.
 */

export interface BrokerErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class BrokerError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: BrokerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BrokerError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** A request that cannot be decoded: the connection that sent it is closed. */
export class ProtocolError extends BrokerError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('PROTOCOL_ERROR', message, { details });
    this.name = 'ProtocolError';
  }
}

export function isBrokerError(err: unknown, code?: string): err is BrokerError {
  return err instanceof BrokerError && (code === undefined || err.code === code);
}

/** Kafka protocol error codes used by this broker (a subset of the protocol's list). */
export const KafkaErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  MESSAGE_TOO_LARGE: 10,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  INVALID_RECORD: 87,
} as const;

export type KafkaErrorCodeValue = (typeof KafkaErrorCode)[keyof typeof KafkaErrorCode];
