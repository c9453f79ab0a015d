/**
 * The fast path of `RecordBatchBuilder.tryAppendJson`: one JSON object, given as UTF-8 bytes,
 * scanned straight into the root's column builders — no `JSON.parse` of the whole record, no
 * intermediate object, no decoding of the whole text, ASCII strings copied byte for byte into
 * Utf8 columns. Parsing JSON text into objects and walking them was half of the CPU time of an
 * NDJSON write and of Kafka ingest.
 *
 * Invariants:
 * - For every record it takes, the rows are those of `append(JSON.parse(text))` with `set`'s own
 *   properties assigned over the parsed object: each value becomes exactly the JS value
 *   `JSON.parse` gives (a number by Clinger's exact fast path — at most 15 significant digits and
 *   a power of ten up to 22, one correctly rounded operation — or else `Number()` of its text; a
 *   string with escapes by `JSON.parse` of its text, with other non-ASCII bytes by a fatal UTF-8
 *   decoder; an object or array by `JSON.parse` of its bytes) and goes to the same column
 *   builder's `append`, so coercion and its errors are the builders' own. The shortcuts past
 *   `append` take an ASCII string without escapes: into a Utf8 column its bytes are its UTF-8;
 *   into a timestamp column the builder reads the common ISO forms in place and hands any other
 *   text to `append`.
 * - It refuses (`decode` returns false, or a builder throws) whatever it does not settle on its
 *   own: invalid JSON or invalid UTF-8 anywhere in the record (skipped values are validated too),
 *   a root that is not an object, a duplicate key, an unknown key when unknown keys are errors,
 *   a value its column refuses, nesting deeper than MAX_DEPTH. The caller then truncates the
 *   columns and takes the slow path, which gives the record's exact result or error.
 * - Reads only bytes [start, end) of the buffer it is given.
 */
import { isUtf8 } from 'node:buffer';
import type { ColumnBuilder } from './column-builder.js';
import { TimestampBuilder } from './fixed-width-builders.js';
import { Utf8Builder } from './var-width-builders.js';

/** Exact powers of ten as doubles (10^22 is the largest exact one). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_FAST_DIGITS = 15;
const MAX_DEPTH = 1000;

const ESCAPED = 1;
const NON_ASCII = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const EMPTY = Buffer.alloc(0);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Valid characters after a backslash (JSON's escapes other than \u). */
function isSimpleEscape(c: number): boolean {
  return (
    c === QUOTE ||
    c === BACKSLASH ||
    c === 0x2f || // '/'
    c === 0x62 || // b
    c === 0x66 || // f
    c === 0x6e || // n
    c === 0x72 || // r
    c === 0x74 // t
  );
}

export class JsonRowDecoder {
  private readonly fieldIndex = new Map<string, number>();
  private readonly nameBytes: Uint8Array[];
  /**
   * Per field: whether its name's bytes can be matched in place (printable ASCII, no quote or
   * backslash), so a key equal to it is found without scanning the key as a string first.
   */
  private readonly plainName: boolean[];
  /** Per field: its Utf8 builder when it is one (the byte-copy shortcut). */
  private readonly utf8: (Utf8Builder | undefined)[];
  /** Per field: its timestamp builder when it is one (text parsed in place). */
  private readonly timestamps: (TimestampBuilder | undefined)[];
  /** Per field: the stamp of the last record that gave it a value. */
  private readonly seen: Int32Array;
  /** Per field: the stamp of the last record whose `set` gave it its value. */
  private readonly setBy: Int32Array;
  private readonly containers = new Uint8Array(MAX_DEPTH);
  private stamp = 0;
  private buf: Buffer = EMPTY;
  private end = 0;
  /** Flags (ESCAPED | NON_ASCII) of the last string scanned. */
  private flags = 0;
  /** Whether the last skipped value held a non-ASCII byte. */
  private skippedNonAscii = false;
  /** The value of the last number scanned. */
  private num = 0;

  constructor(
    names: readonly string[],
    private readonly children: readonly ColumnBuilder[],
    private readonly ignoreUnknownFields: boolean,
  ) {
    names.forEach((name, k) => {
      this.fieldIndex.set(name, k);
    });
    this.nameBytes = names.map((name) => encoder.encode(name));
    this.plainName = this.nameBytes.map((bytes) =>
      bytes.every((c) => c >= 0x20 && c < 0x7f && c !== QUOTE && c !== BACKSLASH),
    );
    this.utf8 = children.map((c) => (c instanceof Utf8Builder ? c : undefined));
    this.timestamps = children.map((c) => (c instanceof TimestampBuilder ? c : undefined));
    this.seen = new Int32Array(names.length);
    this.setBy = new Int32Array(names.length);
  }

  /**
   * Appends one value to every child from the JSON object in bytes [start, end) (fields it
   * lacks get `undefined`) and `set`'s own properties over it. Returns false when it refuses
   * the record; then, or when a builder throws, children may hold part of the row and the
   * caller must truncate them.
   */
  decode(bytes: Uint8Array, start: number, end: number, set?: Readonly<Record<string, unknown>>): boolean {
    this.buf =
      bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = end;
    if (this.stamp === 0x3fffffff) {
      this.stamp = 0;
      this.seen.fill(0);
      this.setBy.fill(0);
    }
    const stamp = ++this.stamp;
    const { children, seen, setBy } = this;
    if (set !== undefined) {
      for (const key in set) {
        if (!Object.hasOwn(set, key)) continue;
        const k = this.fieldIndex.get(key);
        if (k === undefined) {
          if (this.ignoreUnknownFields) continue;
          return false;
        }
        seen[k] = stamp;
        setBy[k] = stamp;
        children[k]!.append(set[key]);
      }
    }
    const b = this.buf;
    let p = this.ws(start);
    if (p >= end || b[p] !== OPEN_BRACE) return false;
    p = this.ws(p + 1);
    if (p < end && b[p] === CLOSE_BRACE) p++;
    else {
      let next = 0;
      for (;;) {
        if (p >= end || b[p] !== QUOTE) return false;
        let close = next < children.length ? this.expectedKeyClose(next, p + 1) : -1;
        let k: number;
        if (close >= 0) k = next;
        else {
          close = this.string(p);
          if (close < 0) return false;
          const flags = this.flags;
          // A plain name that did not match in place is not this key; others are compared here.
          if (
            (flags & ESCAPED) === 0 &&
            next < children.length &&
            !this.plainName[next] &&
            this.keyIs(next, p + 1, close)
          )
            k = next;
          else {
            const key =
              flags === 0 ? b.toString('latin1', p + 1, close) : this.stringValue(p + 1, close, flags);
            k = this.fieldIndex.get(key) ?? -1;
          }
        }
        p = this.ws(close + 1);
        if (p >= end || b[p] !== COLON) return false;
        p = this.ws(p + 1);
        if (k < 0) {
          if (!this.ignoreUnknownFields) return false;
          p = this.skipValue(p);
        } else if (seen[k] === stamp) {
          // JSON.parse keeps a repeated key's last value; `set` overrides whatever the JSON says.
          if (setBy[k] !== stamp) return false;
          p = this.skipValue(p);
        } else {
          seen[k] = stamp;
          p = this.value(k, p);
          next = k + 1;
        }
        if (p < 0) return false;
        p = this.ws(p);
        if (p >= end) return false;
        const c = b[p];
        if (c === COMMA) p = this.ws(p + 1);
        else if (c === CLOSE_BRACE) {
          p++;
          break;
        } else return false;
      }
    }
    if (this.ws(p) !== end) return false;
    for (let k = 0; k < children.length; k++) if (seen[k] !== stamp) children[k]!.append(undefined);
    return true;
  }

  private ws(p: number): number {
    const b = this.buf;
    const end = this.end;
    while (p < end) {
      const c = b[p]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    return p;
  }

  /**
   * When the key whose characters start at `start` is field k's name (and that name can be
   * matched in place), the index of its closing quote; else -1. The name holds no quote or
   * backslash, so the first quote after its bytes closes the key.
   */
  private expectedKeyClose(k: number, start: number): number {
    if (!this.plainName[k]) return -1;
    const close = start + this.nameBytes[k]!.length;
    if (close >= this.end || this.buf[close] !== QUOTE) return -1;
    return this.keyIs(k, start, close) ? close : -1;
  }

  private keyIs(k: number, start: number, close: number): boolean {
    const name = this.nameBytes[k]!;
    const n = name.length;
    if (close - start !== n) return false;
    const b = this.buf;
    for (let i = 0; i < n; i++) if (b[start + i] !== name[i]) return false;
    return true;
  }

  /** Appends the value at p to child k; the position after it, or -1. */
  private value(k: number, p: number): number {
    const b = this.buf;
    const end = this.end;
    if (p >= end) return -1;
    const c = b[p]!;
    const child = this.children[k]!;
    if (c === QUOTE) {
      const close = this.string(p);
      if (close < 0) return -1;
      const flags = this.flags;
      if (flags === 0) {
        const utf8 = this.utf8[k];
        if (utf8 !== undefined) {
          utf8.appendUtf8(b, p + 1, close);
          return close + 1;
        }
        const timestamp = this.timestamps[k];
        if (timestamp !== undefined) {
          timestamp.appendText(b, p + 1, close);
          return close + 1;
        }
      }
      child.append(flags === 0 ? b.toString('latin1', p + 1, close) : this.stringValue(p + 1, close, flags));
      return close + 1;
    }
    if (c === 0x2d || isDigit(c)) {
      const after = this.number(p);
      if (after >= 0) child.append(this.num);
      return after;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const after = this.skipValue(p);
      if (after < 0) return -1;
      const text = this.skippedNonAscii
        ? fatalUtf8.decode(b.subarray(p, after))
        : b.toString('latin1', p, after);
      child.append(JSON.parse(text));
      return after;
    }
    const after = this.literal(p);
    if (after >= 0) child.append(c === 0x74 ? true : c === 0x66 ? false : null);
    return after;
  }

  /** The position after `true`, `false` or `null` at p, or -1. */
  private literal(p: number): number {
    const b = this.buf;
    const c = b[p];
    if (c === 0x74 || c === 0x6e) {
      if (p + 4 > this.end) return -1;
      const ok =
        c === 0x74
          ? b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65
          : b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c;
      return ok ? p + 4 : -1;
    }
    if (c === 0x66) {
      if (p + 5 > this.end) return -1;
      const ok = b[p + 1] === 0x61 && b[p + 2] === 0x6c && b[p + 3] === 0x73 && b[p + 4] === 0x65;
      return ok ? p + 5 : -1;
    }
    return -1;
  }

  /**
   * Scans the string whose opening quote is at p: the index of its closing quote (or -1 if it
   * is not a valid JSON string: an unescaped control character, a bad escape, no end) and its
   * flags in `this.flags`. Non-ASCII bytes are not validated here.
   */
  private string(p: number): number {
    const b = this.buf;
    const end = this.end;
    let flags = 0;
    let q = p + 1;
    for (;;) {
      if (q >= end) return -1;
      const c = b[q]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        flags |= ESCAPED;
        if (q + 1 >= end) return -1;
        const e = b[q + 1]!;
        if (e === 0x75) {
          if (q + 6 > end) return -1;
          for (let i = q + 2; i < q + 6; i++) if (!isHex(b[i]!)) return -1;
          q += 6;
        } else if (isSimpleEscape(e)) q += 2;
        else return -1;
        continue;
      }
      if (c < 0x20) return -1;
      if (c >= 0x80) flags |= NON_ASCII;
      q++;
    }
    this.flags = flags;
    return q;
  }

  /** The JS string of the characters [start, close) of a scanned string with escapes or non-ASCII. */
  private stringValue(start: number, close: number, flags: number): string {
    const b = this.buf;
    if ((flags & ESCAPED) === 0) return fatalUtf8.decode(b.subarray(start, close));
    const text =
      (flags & NON_ASCII) === 0
        ? b.toString('latin1', start - 1, close + 1)
        : fatalUtf8.decode(b.subarray(start - 1, close + 1));
    return JSON.parse(text) as string;
  }

  /**
   * Scans the JSON number at p: the position after it (or -1 if it breaks JSON's grammar), and
   * its value in `this.num`, equal to what JSON.parse gives.
   */
  private number(p: number): number {
    const b = this.buf;
    const end = this.end;
    const start = p;
    let negative = false;
    if (b[p] === 0x2d) {
      negative = true;
      p++;
    }
    if (p >= end) return -1;
    let mantissa = 0;
    let digits = 0;
    const first = b[p]!;
    if (first === 0x30) p++;
    else if (first >= 0x31 && first <= 0x39) {
      while (p < end) {
        const c = b[p]!;
        if (!isDigit(c)) break;
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        p++;
      }
    } else return -1;
    let fraction = 0;
    if (p < end && b[p] === 0x2e) {
      p++;
      const from = p;
      while (p < end) {
        const d = b[p]! - 0x30;
        if (d < 0 || d > 9) break;
        if (mantissa !== 0 || d !== 0) digits++;
        mantissa = mantissa * 10 + d;
        p++;
      }
      fraction = p - from;
      if (fraction === 0) return -1;
    }
    let exponent = false;
    if (p < end && (b[p] === 0x65 || b[p] === 0x45)) {
      exponent = true;
      p++;
      if (p < end && (b[p] === 0x2b || b[p] === 0x2d)) p++;
      const from = p;
      while (p < end && isDigit(b[p]!)) p++;
      if (p === from) return -1;
    }
    if (exponent || digits > MAX_FAST_DIGITS || fraction > 22)
      this.num = Number(b.toString('latin1', start, p));
    else {
      const v = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
      this.num = negative ? -v : v;
    }
    return p;
  }

  /**
   * Validates the JSON value at p (any kind, nested containers included) without building it:
   * the position after it, or -1. Sets `skippedNonAscii`; non-ASCII bytes are validated as UTF-8.
   */
  private skipValue(p: number): number {
    const b = this.buf;
    const end = this.end;
    const containers = this.containers;
    const from = p;
    let nonAscii = false;
    let depth = 0;
    for (;;) {
      // A value starts at p.
      p = this.ws(p);
      if (p >= end) return -1;
      let c = b[p]!;
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === MAX_DEPTH) return -1;
        containers[depth++] = c;
        p = this.ws(p + 1);
        if (p >= end) return -1;
        if (b[p] === (c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)) {
          depth--;
          p++;
        } else if (c === OPEN_BRACE) {
          p = this.key(p);
          if (p < 0) return -1;
          nonAscii ||= (this.flags & NON_ASCII) !== 0;
          continue;
        } else continue;
      } else if (c === QUOTE) {
        const close = this.string(p);
        if (close < 0) return -1;
        nonAscii ||= (this.flags & NON_ASCII) !== 0;
        p = close + 1;
      } else if (c === 0x2d || isDigit(c)) {
        p = this.number(p);
        if (p < 0) return -1;
      } else {
        p = this.literal(p);
        if (p < 0) return -1;
      }
      // A value ended at p: close containers until one goes on.
      for (;;) {
        if (depth === 0) {
          if (nonAscii && !isUtf8(b.subarray(from, p))) return -1;
          this.skippedNonAscii = nonAscii;
          return p;
        }
        p = this.ws(p);
        if (p >= end) return -1;
        c = b[p]!;
        const inObject = containers[depth - 1] === OPEN_BRACE;
        if (c === COMMA) {
          p = this.ws(p + 1);
          if (inObject) {
            p = this.key(p);
            if (p < 0) return -1;
            nonAscii ||= (this.flags & NON_ASCII) !== 0;
          }
          break;
        }
        if (c !== (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) return -1;
        depth--;
        p++;
      }
    }
  }

  /** Scans `"key" :` at p inside a skipped object: the position after the colon, or -1. */
  private key(p: number): number {
    if (p >= this.end || this.buf[p] !== QUOTE) return -1;
    const close = this.string(p);
    if (close < 0) return -1;
    p = this.ws(close + 1);
    if (p >= this.end || this.buf[p] !== COLON) return -1;
    return p + 1;
  }
}
