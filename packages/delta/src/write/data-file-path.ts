/**
 * Data file names and their `add.path` form.
 *
 * Invariants:
 * - Names are `part-<uuid>.<codec>.parquet` (codec zstd, snappy or uncompressed): unique without
 *   coordination, so a retried or concurrent writer never overwrites another file.
 * - `add.path` is the relative storage path URI-encoded once, the way Spark builds it (Hadoop
 *   `Path.toUri.toString`, i.e. java.net.URI quoting of a path): ASCII letters, digits and
 *   `-_.!~*'()` `:@&=+$,;` `/` stay; every other ASCII character (space, '%', '"', '#', '?', '[',
 *   ...) becomes %XX; non-ASCII stays as is, except space and control characters, which become
 *   their UTF-8 %XX bytes. So a partition directory `t=2021-11-18 02%3A30%3A00` is
 *   `t=2021-11-18%2002%253A30%253A00` in the log, as in Spark's logs, and decoding `add.path` once
 *   (`decodeURIComponent`) gives back the storage path.
 * Pure and synchronous.
 */
import { randomUUID } from 'node:crypto';
import type { ParquetCompression } from './parquet-file.js';

/** A fresh data file name: `part-<uuid>.<codec>.parquet`. */
export function dataFileName(compression: ParquetCompression): string {
  return `part-${randomUUID()}.${compression}.parquet`;
}

const KEPT_ASCII = /[A-Za-z0-9\-_.!~*'():@&=+$,;/]/;
const QUOTED_NON_ASCII = /[\p{Zs}\p{Zl}\p{Zp}\u0080-\u009f]/u;

function percentEncode(ch: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** The `add.path` of a relative storage path (see the module header). */
export function encodeAddPath(relativePath: string): string {
  let out = '';
  for (const ch of relativePath) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out += KEPT_ASCII.test(ch) ? ch : percentEncode(ch);
    else out += QUOTED_NON_ASCII.test(ch) ? percentEncode(ch) : ch;
  }
  return out;
}
