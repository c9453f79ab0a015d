/**
 * CSV input: the file streamed through csv-parse (BOM skipped, empty lines skipped); the first
 * row is the header; an unquoted empty cell is null, a quoted one ("") the empty string. Rows
 * come as objects of cell text by header name, in chunks. `csvConverter` maps header names to
 * the schema's fields (exactly, else case-insensitively) and parses the JSON text of nested
 * (struct, array, map) columns.
 *
 * Invariants: a header without a name or naming a column twice, a row with the wrong number of
 * cells, bad quoting, or nested-column text that is not JSON is `WeirError('INVALID_INPUT')`
 * naming the file and line; a header column not in the schema is an error unless unknown
 * fields are ignored.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { StructType } from '@weir/delta';
import { WeirError } from '@weir/storage';
import { parse as parseCsv } from 'csv-parse';
import { type InputRecord, invalidInput, READ_CHUNK } from './records.js';

/** The objects a readable (object-mode) stream has ready, in chunks, until it ends or fails. */
async function* readableChunks<T>(stream: Readable): AsyncGenerator<T[]> {
  let failure: unknown;
  let ended = false;
  let signaled = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    signaled = true;
    wake?.();
  };
  stream.on('readable', signal);
  stream.on('end', () => {
    ended = true;
    signal();
  });
  stream.on('error', (err) => {
    failure = err;
    signal();
  });
  for (;;) {
    const items: T[] = [];
    for (let item = stream.read() as T | null; item !== null; item = stream.read() as T | null)
      items.push(item);
    if (items.length > 0) yield items;
    if (failure !== undefined) throw failure;
    if (ended) return;
    if (!signaled) await new Promise<void>((resolve) => (wake = resolve));
    signaled = false;
    wake = undefined;
  }
}

export interface CsvState {
  bytes: number;
  header: string[] | undefined;
}

/** Streams a CSV file's rows (after the header) as objects of cell text or null, in chunks. */
export async function* csvRecords(file: string, state: CsvState): AsyncGenerator<InputRecord[]> {
  const stream = createReadStream(file, { highWaterMark: READ_CHUNK });
  const parser = parseCsv({
    bom: true,
    info: true,
    skip_empty_lines: true,
    cast: (value, context) => (value === '' && !context.quoting ? null : value),
  });
  stream.on('error', (err) => parser.destroy(err));
  stream.pipe(parser);
  let lastLine = 1;
  try {
    for await (const chunk of readableChunks<{ record: (string | null)[]; info: { lines: number } }>(
      parser,
    )) {
      state.bytes = stream.bytesRead;
      const out: InputRecord[] = [];
      for (const { record, info } of chunk) {
        lastLine = info.lines;
        if (!state.header) {
          state.header = csvHeader(file, record, info.lines);
          continue;
        }
        const value: Record<string, string | null> = {};
        for (let i = 0; i < state.header.length; i++) value[state.header[i]!] = record[i] ?? null;
        out.push({ value, line: info.lines });
      }
      if (out.length > 0) yield out;
    }
  } catch (err) {
    if (err instanceof WeirError) throw err;
    const e = err as { message?: string; lines?: number };
    throw invalidInput(file, e.lines ?? lastLine, `invalid CSV: ${e.message ?? String(err)}`);
  } finally {
    stream.destroy();
    parser.destroy();
  }
}

function csvHeader(file: string, record: readonly (string | null)[], line: number): string[] {
  const header = record.map((c) => c ?? '');
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name.trim() === '') throw invalidInput(file, line, `header column ${i + 1} has no name`);
    if (seen.has(name)) throw invalidInput(file, line, `header names column ${name} twice`);
    seen.add(name);
  });
  return header;
}

/** Maps CSV header names to schema fields and parses JSON text of nested columns. */
export function csvConverter(
  file: string,
  header: readonly string[],
  schema: StructType,
  options: { table: string; ignoreUnknownFields?: boolean },
): (r: InputRecord) => unknown {
  const targets = header.map((name) => {
    const field =
      schema.fields.find((f) => f.name === name) ??
      schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!field && !options.ignoreUnknownFields) {
      throw invalidInput(
        file,
        1,
        `column ${name} is not in the schema of ${options.table} (columns: ${schema.fields.map((f) => f.name).join(', ')}); use --merge-schema to add it`,
      );
    }
    const nested = field !== undefined && ['struct', 'array', 'map'].includes(field.type.type);
    return { name, target: field?.name, nested };
  });
  return (r) => {
    const row = r.value as Record<string, string | null>;
    const out: Record<string, unknown> = {};
    for (const t of targets) {
      if (t.target === undefined) continue;
      const text = row[t.name] ?? null;
      if (t.nested && text !== null) {
        try {
          out[t.target] = JSON.parse(text);
        } catch {
          throw invalidInput(
            file,
            r.line,
            `column ${t.name}: expected JSON text for a nested value, got ${JSON.stringify(text.slice(0, 80))}`,
          );
        }
      } else out[t.target] = text;
    }
    return out;
  };
}
