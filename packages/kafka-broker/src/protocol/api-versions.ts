/**
 * ApiVersions (key 18) v0-2: the request body is empty in these versions; the response lists
 * the advertised version range of every implemented API.
 *
 * Invariants: a request for a version above 2 (librdkafka starts with flexible v3) is answered
 * in v0 layout with UNSUPPORTED_VERSION and the full list, so the client retries with our max.
 */
import type { VersionRange } from './api-keys.js';
import { Writer } from './writer.js';

export function encodeApiVersionsResponse(
  version: number,
  errorCode: number,
  apis: readonly VersionRange[],
): Buffer[] {
  const w = new Writer(16 + apis.length * 6);
  w.int16(errorCode);
  w.array(apis, (w, a) => w.int16(a.apiKey).int16(a.min).int16(a.max));
  if (version >= 1) w.int32(0);
  return w.chunks();
}
