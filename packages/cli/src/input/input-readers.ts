/**
 * Input files of `weir write` as async iterables of Arrow record batches:
 * - NDJSON: streamed in 1 MiB chunks split into lines, each line's bytes decoded straight into a
 *   `RecordBatchBuilder` for the chosen Delta schema (`tryAppendJson`; `JSON.parse` + `append`
 *   for a line it refuses), flushed every 65,536 rows (or 64 MiB);
 * - CSV: streamed through csv-parse; the first row is the header; an unquoted empty cell is
 *   null; cells are text coerced by the builder to the schema's types (nested columns hold
 *   JSON text);
 * - Parquet: the file's own schema, decoded one row group at a time from a Blob over the file
 *   (`fs.openAsBlob`): only the footer and the row group being decoded are in memory, whatever
 *   the file size.
 * The line readers are in records.ts (NDJSON) and csv-records.ts.
 *
 * Invariants: records are read once, in file order; records sampled for schema inference are
 * buffered and still written. Every bad input — a line that is not JSON, a CSV syntax error,
 * a value that does not fit its column — is a `WeirError` naming the file and 1-based line
 * (`events.ndjson:17`); the batch that would hold it is never yielded, so a write that fails
 * commits nothing. `bytesRead()` only grows and ends at the file size (progress).
 */
import { openAsBlob, statSync } from 'node:fs';
import path from 'node:path';
import {
  openParquetBlob,
  type ParquetBlobReader,
  RecordBatchBuilder,
  type RowGroupInfo,
  type StructType,
} from '@weir/delta';
import { WeirError } from '@weir/storage';
import { RecordBatch, type Schema } from 'apache-arrow';
import { type CsvState, csvConverter, csvRecords } from './csv-records.js';
import { typeCsvSamples } from './input-schema.js';
import { type InputRecord, JsonLine, ndjsonRecords } from './records.js';

export type InputFormat = 'ndjson' | 'csv' | 'parquet';

const EXTENSIONS: Readonly<Record<string, InputFormat>> = {
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.json': 'ndjson',
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
};

export const BATCH_ROWS = 65_536;
const BATCH_BYTES = 64 * 1024 * 1024;

/** The format named by `--format`, else the one the file's extension says. */
export function inputFormatOf(file: string, explicit?: string): InputFormat {
  if (explicit !== undefined) {
    if (explicit === 'ndjson' || explicit === 'csv' || explicit === 'parquet') return explicit;
    throw new WeirError('INVALID_ARGUMENT', `unknown input format ${explicit} (ndjson, csv or parquet)`, {
      details: { format: explicit },
    });
  }
  const format = EXTENSIONS[path.extname(file).toLowerCase()];
  if (format) return format;
  throw new WeirError(
    'INVALID_ARGUMENT',
    `cannot tell the format of ${file} from its extension (.ndjson, .jsonl, .csv, .parquet); give --format`,
    { details: { file } },
  );
}

function fileSize(file: string): number {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(file);
  } catch {
    throw new WeirError('INPUT_NOT_FOUND', `input file ${file} does not exist`, { details: { file } });
  }
  if (!stat.isFile())
    throw new WeirError('INVALID_ARGUMENT', `input ${file} is not a file`, { details: { file } });
  return stat.size;
}

export interface RecordBatchOptions {
  /** The table's location, for error messages. */
  table: string;
  ignoreUnknownFields?: boolean;
}

/** An NDJSON or CSV file being read. */
export interface RecordInput {
  readonly format: 'ndjson' | 'csv';
  readonly file: string;
  readonly size: number;
  bytesRead(): number;
  /** Up to n records typed for schema inference; they stay buffered for `batches`. */
  sample(n: number): Promise<unknown[]>;
  batches(schema: StructType, options: RecordBatchOptions): AsyncGenerator<RecordBatch>;
}

/** A Parquet file being read. */
export interface ParquetInput {
  readonly format: 'parquet';
  readonly file: string;
  readonly size: number;
  bytesRead(): number;
  batches(): AsyncGenerator<RecordBatch>;
}

export type InputFile = RecordInput | ParquetInput;

function recordInput(format: 'ndjson' | 'csv', file: string, size: number): RecordInput {
  const counter = { bytes: 0 };
  const csv: CsvState = { bytes: 0, header: undefined };
  const source = format === 'ndjson' ? ndjsonRecords(file, counter) : csvRecords(file, csv);
  /** Chunks read ahead by `sample`, not yet written. */
  const buffered: InputRecord[][] = [];
  let bufferedRecords = 0;
  let exhausted = false;
  let started = false;

  async function* chunks(): AsyncGenerator<InputRecord[]> {
    while (buffered.length > 0) yield buffered.shift()!;
    if (exhausted) return;
    for await (const chunk of { [Symbol.asyncIterator]: () => source }) yield chunk;
    exhausted = true;
  }

  return {
    format,
    file,
    size,
    bytesRead: () => (exhausted ? size : format === 'ndjson' ? counter.bytes : csv.bytes),
    async sample(n) {
      while (!exhausted && bufferedRecords < n) {
        const r = await source.next();
        if (r.done) exhausted = true;
        else {
          buffered.push(r.value);
          bufferedRecords += r.value.length;
        }
      }
      const values = buffered
        .flat()
        .slice(0, n)
        .map((r) => r.value);
      if (format === 'ndjson') return values;
      return typeCsvSamples(values as Record<string, string | null>[], csv.header ?? []);
    },
    async *batches(schema, options) {
      if (started) throw new Error('an input file is read once');
      started = true;
      const builder = new RecordBatchBuilder(schema, {
        table: options.table,
        ...(options.ignoreUnknownFields ? { ignoreUnknownFields: true } : {}),
      });
      let convert: ((r: InputRecord) => unknown) | undefined =
        format === 'ndjson' ? (r) => r.value : undefined;
      let index = 0;
      for await (const chunk of chunks()) {
        convert ??= csvConverter(file, csv.header ?? [], schema, options);
        for (const r of chunk) {
          // NDJSON: straight from the line's bytes; the parsed value only for a line refused.
          if (!(r instanceof JsonLine && builder.tryAppendJson(r.bytes, r.start, r.end)))
            builder.append(convert(r), { recordIndex: index, source: `${file}:${r.line}` });
          index++;
          if (
            builder.numRows >= BATCH_ROWS ||
            ((index & 1023) === 0 && builder.estimatedBytes >= BATCH_BYTES)
          ) {
            yield builder.flush();
          }
        }
      }
      // An empty input still yields one (empty) batch: it carries the schema of a new table.
      if (builder.numRows > 0 || index === 0) yield builder.flush();
    },
  };
}

/** A batch of no rows with `schema`'s columns (one argument would be read as a column map). */
function emptyBatch(schema: Schema): RecordBatch {
  return new RecordBatch(schema, undefined);
}

function parquetInput(file: string, size: number): ParquetInput {
  let read = 0;
  return {
    format: 'parquet',
    file,
    size,
    bytesRead: () => read,
    async *batches() {
      let reader: ParquetBlobReader;
      try {
        reader = await openParquetBlob(await openAsBlob(file));
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new WeirError('INVALID_INPUT', `${file} is not a readable Parquet file: ${reason}`, {
          details: { file, reason },
        });
      }
      try {
        yield* parquetBatches(file, size, reader, (n) => {
          read = n;
        });
      } finally {
        reader.free();
      }
    },
  };
}

/** The batches of an opened Parquet input, one row group decoded at a time. */
async function* parquetBatches(
  file: string,
  size: number,
  reader: ParquetBlobReader,
  progress: (bytesRead: number) => void,
): AsyncGenerator<RecordBatch> {
  const groups: readonly RowGroupInfo[] = reader.rowGroups;
  const decode = async (rowGroup?: number) => {
    try {
      return await reader.read(rowGroup);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new WeirError('INVALID_INPUT', `${file}: cannot decode Parquet: ${reason}`, {
        details: { file, reason },
      });
    }
  };
  // Progress: the row groups' compressed bytes when the footer has them, else their rows.
  const byBytes = groups.every((g) => g.compressedBytes > 0);
  const weight = (g: RowGroupInfo) => (byBytes ? g.compressedBytes : g.numRows);
  const total = groups.reduce((n, g) => n + weight(g), 0);
  let done = 0;
  if (groups.length === 0) {
    // No row groups: one empty batch with the file's schema (creates an empty table).
    yield emptyBatch((await decode()).schema);
  }
  for (let i = 0; i < groups.length; i++) {
    const table = await decode(i);
    done += weight(groups[i]!);
    progress(total > 0 ? Math.round((size * done) / total) : size);
    if (table.batches.length === 0) yield emptyBatch(table.schema);
    for (const batch of table.batches) yield batch;
  }
  progress(size);
}

/** Opens an input file (it must exist) of the given format. */
export function openInput(file: string, format: InputFormat): InputFile {
  const size = fileSize(file);
  return format === 'parquet' ? parquetInput(file, size) : recordInput(format, file, size);
}
