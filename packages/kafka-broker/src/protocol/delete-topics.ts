/**
 * DeleteTopics (key 20) v0-1. Request: topic names and a timeout. Response: throttle time (v1+)
 * and per topic an error code.
 */
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

export function decodeDeleteTopicsRequest(
  r: Reader,
  _version: number,
): { names: string[]; timeoutMs: number } {
  const names = r.array((r) => r.string());
  return { names, timeoutMs: r.int32() };
}

export function encodeDeleteTopicsResponse(
  version: number,
  topics: readonly { name: string; errorCode: number }[],
): Buffer[] {
  const w = new Writer(128);
  if (version >= 1) w.int32(0);
  w.array(topics, (w, t) => w.string(t.name).int16(t.errorCode));
  return w.chunks();
}
