/**
 * `NdjsonLines`: NDJSON bytes, pushed in chunks as they are read, -> the byte range of each
 * record line, numbered from 1, ready for `RecordBatchBuilder.tryAppendJson` — no decoding to
 * text and no per-line string.
 *
 * Invariants:
 * - Lines end at '\n'; a '\r' before it stays in the range (it is JSON whitespace). A byte-order
 *   mark at the start of line 1 is not part of it. Blank lines (only whitespace, Unicode
 *   whitespace included, as `String.prototype.trim` sees it) are counted but not visited.
 * - A line split across chunks is visited once, from a copy of its pieces; every other range
 *   points into the chunk pushed, so a visitor that keeps a range keeps that chunk alive.
 * - Lines are visited in order; `end()` visits a last line without a newline.
 */

/** Called per record line: bytes [start, end) of `bytes`, its 1-based line number. */
export type NdjsonLineVisitor = (bytes: Buffer, start: number, end: number, line: number) => void;

const NEWLINE = 0x0a;

export class NdjsonLines {
  private rest: Buffer | undefined;
  private line = 0;

  /** Lines counted so far (blank ones included). */
  get lines(): number {
    return this.line;
  }

  /** Visits every line `chunk` completes; keeps the unfinished end for the next push. */
  push(chunk: Buffer, visit: NdjsonLineVisitor): void {
    let from = 0;
    let nl = chunk.indexOf(NEWLINE);
    if (nl < 0) {
      this.rest = this.rest === undefined ? Buffer.from(chunk) : Buffer.concat([this.rest, chunk]);
      return;
    }
    if (this.rest !== undefined) {
      const joined = Buffer.concat([this.rest, chunk.subarray(0, nl)]);
      this.rest = undefined;
      this.emit(joined, 0, joined.length, visit);
      from = nl + 1;
      nl = chunk.indexOf(NEWLINE, from);
    }
    while (nl >= 0) {
      this.emit(chunk, from, nl, visit);
      from = nl + 1;
      nl = chunk.indexOf(NEWLINE, from);
    }
    // A copy: the caller may reuse the chunk's memory.
    if (from < chunk.length) this.rest = Buffer.from(chunk.subarray(from));
  }

  /** Visits the last line when the input did not end with a newline. */
  end(visit: NdjsonLineVisitor): void {
    const rest = this.rest;
    this.rest = undefined;
    if (rest !== undefined) this.emit(rest, 0, rest.length, visit);
  }

  private emit(bytes: Buffer, start: number, end: number, visit: NdjsonLineVisitor): void {
    const line = ++this.line;
    if (
      line === 1 &&
      end - start >= 3 &&
      bytes[start] === 0xef &&
      bytes[start + 1] === 0xbb &&
      bytes[start + 2] === 0xbf
    )
      start += 3;
    let p = start;
    while (p < end) {
      const c = bytes[p]!;
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0b && c !== 0x0c) break;
      p++;
    }
    if (p === end) return;
    // Unicode whitespace (NBSP, U+2028, ...) can only start with a non-ASCII byte.
    if (bytes[p]! >= 0x80 && bytes.toString('utf8', p, end).trim() === '') return;
    visit(bytes, start, end, line);
  }
}
