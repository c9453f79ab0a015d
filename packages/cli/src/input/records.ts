/**
 * Records read from NDJSON and CSV files: `InputRecord` (a value and its 1-based line), the
 * error for bad input naming `file:line`, and the NDJSON reader: the file streamed in 1 MiB
 * chunks and split into line byte ranges (`NdjsonLines`: CRLF included; blank lines and a
 * leading byte-order mark skipped). An NDJSON line is a `JsonLine`: its bytes, for the
 * builder's JSON fast path (`tryAppendJson`), and its value, `JSON.parse`d only when asked
 * (schema inference samples, lines the fast path refuses).
 *
 * Invariants: records come in file order, in chunks (one per read), so the per-record cost has
 * no async step; a line that is not JSON is `WeirError('INVALID_INPUT')` naming file and line
 * when its value is asked for; `counter.bytes` only grows.
 */
import { createReadStream } from 'node:fs';
import { NdjsonLines } from '@weir/delta';
import { WeirError } from '@weir/storage';

export const READ_CHUNK = 1024 * 1024;

export interface InputRecord {
  readonly value: unknown;
  readonly line: number;
}

export function invalidInput(file: string, line: number, message: string): WeirError {
  return new WeirError('INVALID_INPUT', `${file}:${line}: ${message}`, { details: { file, line } });
}

/** One NDJSON line: bytes [start, end) of `bytes` (a read chunk). */
export class JsonLine implements InputRecord {
  constructor(
    readonly file: string,
    readonly bytes: Buffer,
    readonly start: number,
    readonly end: number,
    readonly line: number,
  ) {}

  /** The parsed line; `INVALID_INPUT` naming file and line when it is not JSON. */
  get value(): unknown {
    const text = this.bytes.toString('utf8', this.start, this.end);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw invalidInput(
        this.file,
        this.line,
        `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
}

/** Streams a file's NDJSON records in chunks (one per ~1 MiB read), counting lines from 1. */
export async function* ndjsonRecords(file: string, counter: { bytes: number }): AsyncGenerator<JsonLine[]> {
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK });
  const lines = new NdjsonLines();
  let out: JsonLine[] = [];
  const visit = (bytes: Buffer, start: number, end: number, line: number) => {
    out.push(new JsonLine(file, bytes, start, end, line));
  };
  try {
    for await (const chunk of stream) {
      lines.push(chunk as Buffer, visit);
      counter.bytes = stream.bytesRead;
      if (out.length > 0) {
        yield out;
        out = [];
      }
    }
    lines.end(visit);
    if (out.length > 0) yield out;
  } finally {
    stream.destroy();
  }
}
