/**
 * Request header decoding and response framing.
 *
 * Requests arrive as `int32 size` + header v1 (`api_key int16, api_version int16,
 * correlation_id int32, client_id nullable string`) + body. Every response this broker sends is
 * non-flexible, so its header is v0: `int32 size` + `correlation_id int32` + body. (ApiVersions
 * responses use header v0 even for flexible versions, which is what lets a v3 request be
 * answered with UNSUPPORTED_VERSION.)
 *
 * Invariants: `peekHeader` reads only the fixed 8 bytes, so it works for any version, flexible
 * or not; `responseFrame` never copies the body chunks.
 */
import { ProtocolError } from '../errors.js';
import { Reader } from './reader.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

export interface FullRequestHeader extends RequestHeader {
  clientId: string | null;
}

/** The fixed part of a request header (frame without its size prefix). */
export function peekHeader(frame: Buffer): RequestHeader {
  if (frame.length < 8) throw new ProtocolError('request shorter than its header', { length: frame.length });
  return {
    apiKey: frame.readInt16BE(0),
    apiVersion: frame.readInt16BE(2),
    correlationId: frame.readInt32BE(4),
  };
}

/** Parses header v1 and returns it with a reader positioned at the body. */
export function readRequestHeader(frame: Buffer): { header: FullRequestHeader; body: Reader } {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  return { header: { apiKey, apiVersion, correlationId, clientId }, body: r };
}

/** `[size, correlation id]` followed by the body chunks. */
export function responseFrame(correlationId: number, body: readonly Buffer[]): Buffer[] {
  let size = 4;
  for (const c of body) size += c.length;
  const head = Buffer.allocUnsafe(8);
  head.writeInt32BE(size, 0);
  head.writeInt32BE(correlationId, 4);
  return [head, ...body];
}
