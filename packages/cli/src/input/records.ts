/**
 * Records read from NDJSON and CSV files: `InputRecord` (a value and its 1-based line), the
 * error for bad input naming `file:line`, and the NDJSON reader: the file streamed in 1 MiB
 * chunks, split on newlines (CRLF included; blank lines and a leading byte-order mark skipped),
 * each line `JSON.parse`d.
 *
 * Invariants: records come in file order, in chunks (one per read), so the per-record cost has
 * no async step; a line that is not JSON is `WeirError('INVALID_INPUT')` naming file and line;
 * `counter.bytes` only grows.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { WeirError } from '@weir/storage';

export const READ_CHUNK = 1024 * 1024;

export interface InputRecord {
  value: unknown;
  line: number;
}

export function invalidInput(file: string, line: number, message: string): WeirError {
  return new WeirError('INVALID_INPUT', `${file}:${line}: ${message}`, { details: { file, line } });
}

/** Streams a file's NDJSON records in chunks (one per ~1 MiB read), counting lines from 1. */
export async function* ndjsonRecords(
  file: string,
  counter: { bytes: number },
): AsyncGenerator<InputRecord[]> {
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK });
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  const parseLine = (raw: string, out: InputRecord[]) => {
    line++;
    // A byte-order mark before the first line is not part of the JSON.
    const text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') return;
    try {
      out.push({ value: JSON.parse(text), line });
    } catch (err) {
      throw invalidInput(file, line, `not valid JSON (${err instanceof Error ? err.message : String(err)})`);
    }
  };
  try {
    for await (const chunk of stream) {
      const text = rest + decoder.write(chunk as Buffer);
      const out: InputRecord[] = [];
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        parseLine(text.slice(start, nl), out);
        start = nl + 1;
      }
      rest = text.slice(start);
      counter.bytes = stream.bytesRead;
      if (out.length > 0) yield out;
    }
    const last: InputRecord[] = [];
    rest += decoder.end();
    if (rest !== '') parseLine(rest, last);
    if (last.length > 0) yield last;
  } finally {
    stream.destroy();
  }
}
