/**
 * Message values -> plain records the table's RecordBatchBuilder coerces: JSON (an object per
 * message, strict UTF-8), raw strings and raw bytes (one `value` column), and Avro through a
 * Confluent schema registry (avro.ts). Every failure is a typed `WeirError` naming the message
 * (`topic/partition@offset`), so the ingest can route it to the dead-letter table and go on.
 *
 * Invariants: decoding is pure and synchronous for json/string/bytes (avro may fetch a schema
 * once per id, then decodes synchronously); a message is either one record or one error,
 * never both; a message over `maxMessageBytes` is refused before it is parsed.
 */
import { WeirError } from '@weir/storage';
import type { SourceMessage } from '../source/message.js';

export type ValueFormat = 'json' | 'avro' | 'string' | 'bytes';

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Error codes a decoder gives (all route to the dead-letter table). */
export type DecodeErrorCode =
  | 'MESSAGE_TOO_LARGE'
  | 'MESSAGE_NULL_VALUE'
  | 'INVALID_UTF8'
  | 'INVALID_JSON'
  | 'NOT_AN_OBJECT'
  | 'INVALID_AVRO'
  | 'SCHEMA_REGISTRY_ERROR';

export function messageOrigin(m: Pick<SourceMessage, 'topic' | 'partition' | 'offset'>): string {
  return `${m.topic}/${m.partition}@${m.offset}`;
}

export function decodeError(
  code: DecodeErrorCode,
  message: SourceMessage,
  reason: string,
  options: { retryable?: boolean; cause?: unknown } = {},
): WeirError {
  const origin = messageOrigin(message);
  return new WeirError(code, `message ${origin}: ${reason}`, {
    details: { topic: message.topic, partition: message.partition, offset: message.offset, origin },
    retryable: options.retryable ?? false,
    ...(options.cause !== undefined ? { cause: options.cause } : {}),
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The value as text; invalid UTF-8 is an error, never replaced silently. */
export function valueText(message: SourceMessage, value: Buffer): string {
  try {
    return utf8.decode(value);
  } catch (err) {
    throw decodeError('INVALID_UTF8', message, 'the value is not valid UTF-8', { cause: err });
  }
}

export function checkSize(message: SourceMessage, maxBytes: number): Buffer {
  const value = message.value;
  if (value === null) throw decodeError('MESSAGE_NULL_VALUE', message, 'the value is null (a tombstone)');
  if (value.length > maxBytes) {
    throw decodeError(
      'MESSAGE_TOO_LARGE',
      message,
      `the value is ${value.length} bytes, over the limit of ${maxBytes} bytes`,
    );
  }
  return value;
}

/** One JSON object per message. */
export function decodeJson(message: SourceMessage, value: Buffer): Record<string, unknown> {
  const text = valueText(message, value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw decodeError('INVALID_JSON', message, `the value is not JSON (${reason})`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`;
    throw decodeError('NOT_AN_OBJECT', message, `the value is ${kind}, not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/** Raw formats: the whole value in one `value` column (string or binary). */
export function decodeRaw(
  format: 'string' | 'bytes',
  message: SourceMessage,
  value: Buffer,
): Record<string, unknown> {
  return { value: format === 'string' ? valueText(message, value) : value };
}
