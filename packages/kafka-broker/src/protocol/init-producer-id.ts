/**
 * InitProducerId (key 22) v0-1. Request: transactional id (must be null: transactions are not
 * supported) and transaction timeout. Response: throttle time, error, producer id and epoch.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export function decodeInitProducerIdRequest(
  r: Reader,
  _version: number,
): { transactionalId: string | null; transactionTimeoutMs: number } {
  return { transactionalId: r.nullableString(), transactionTimeoutMs: r.int32() };
}

export function encodeInitProducerIdResponse(
  _version: number,
  res: { errorCode: number; producerId: number; producerEpoch: number },
): Buffer[] {
  return new Writer(24).int32(0).int16(res.errorCode).int64(res.producerId).int16(res.producerEpoch).chunks();
}
