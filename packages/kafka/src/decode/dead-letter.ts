/**
 * The dead-letter table's schema and the row kept for a message that could not be decoded or
 * did not fit the main table: where it came from (topic, partition, offset), its raw key and
 * value (base64, so any bytes survive, invalid UTF-8 included), its Kafka timestamp, and the
 * typed error (code and message) that refused it.
 */
import type { StructField, StructType } from '@weir/delta';
import type { WeirError } from '@weir/storage';
import type { SourceMessage } from '../source/message.js';

function field(name: string, type: StructField['type'], nullable: boolean): StructField {
  return { name, type, nullable, metadata: {} };
}

export const DEAD_LETTER_SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('topic', { type: 'string' }, false),
    field('partition', { type: 'integer' }, false),
    field('offset', { type: 'long' }, false),
    field('timestamp', { type: 'timestamp' }, true),
    field('key_base64', { type: 'string' }, true),
    field('value_base64', { type: 'string' }, true),
    field('value_bytes', { type: 'long' }, false),
    field('error_code', { type: 'string' }, false),
    field('error', { type: 'string' }, false),
    field('failed_at', { type: 'timestamp' }, false),
  ],
};

/** Error texts are kept whole up to this many characters (a message is never the whole record). */
const MAX_ERROR_CHARS = 4096;

export interface DeadLetterRow {
  topic: string;
  partition: number;
  offset: number;
  timestamp: string | null;
  key_base64: string | null;
  value_base64: string | null;
  value_bytes: number;
  error_code: string;
  error: string;
  failed_at: string;
}

export function deadLetterRecord(message: SourceMessage, error: WeirError, failedAt: number): DeadLetterRow {
  const ts =
    Number.isFinite(message.timestamp) && message.timestamp >= 0 ? new Date(message.timestamp) : null;
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    timestamp: ts ? ts.toISOString() : null,
    key_base64: message.key ? message.key.toString('base64') : null,
    value_base64: message.value ? message.value.toString('base64') : null,
    value_bytes: message.value?.length ?? 0,
    error_code: error.code,
    error:
      error.message.length > MAX_ERROR_CHARS ? `${error.message.slice(0, MAX_ERROR_CHARS)}…` : error.message,
    failed_at: new Date(failedAt).toISOString(),
  };
}
