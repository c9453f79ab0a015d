/**
 * The write commands: `create` (an empty table from a schema), `write` (NDJSON, CSV or
 * Parquet input appended to, overwriting, or replacing partitions of a table, creating it if
 * needed) and `checkpoint` (a classic checkpoint of the latest version).
 *
 * Invariants: one `write` is one `writeTable` call, so one commit or none: a bad record, a
 * schema mismatch or a failed upload leaves the table at its version (the error says
 * "nothing was committed"). Option values are checked before any input is read. The progress
 * bar (stderr, terminals only) is always stopped before the summary line is printed.
 */

import path from 'node:path';
import {
  createTable,
  loadSnapshot,
  type Snapshot,
  validateProperties,
  type WriteMode,
  type WriteOptions,
  type WriteResult,
  writeCheckpoint,
  writeTable,
} from '@weir/delta';
import { isWeirError, type ObjectStore, WeirError } from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';
import type { Command } from 'commander';
import { type CliContext, write } from '../context.js';
import { formatBytes, parseBytes } from '../format/bytes.js';
import { createProgressBar } from '../format/progress.js';
import { type InputFile, inputFormatOf, openInput } from '../input/input-readers.js';
import { INFER_SAMPLE_RECORDS, resolveRecordSchema } from '../input/input-schema.js';
import { loadSchemaArg } from '../input/schema-arg.js';
import { parseNonNegativeInt } from './read-commands.js';

type Compression = NonNullable<WriteOptions['compression']>;

/** Help of `--encode-workers` (write, optimize). */
export const ENCODE_WORKERS_HELP =
  'threads that encode Parquet (default: one fewer than the cores, at most 4; 0: on the main thread). More than the default pays when reading leaves cores idle';

/** Commander collector for the repeatable `--property key=value`. */
export function collectProperty(
  text: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new WeirError('INVALID_ARGUMENT', `--property must be key=value, got ${text}`, {
      details: { property: text },
    });
  }
  return { ...previous, [text.slice(0, eq).trim()]: text.slice(eq + 1).trim() };
}

function parseColumnList(text: string): string[] {
  const columns = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (columns.length === 0) {
    throw new WeirError('INVALID_ARGUMENT', `--partition-by needs column names, got ${JSON.stringify(text)}`);
  }
  return columns;
}

function parseMode(text: string | undefined, replaceWhere: string | undefined): WriteMode {
  // --replace-where only makes sense when overwriting: it implies --mode overwrite.
  const mode = text ?? (replaceWhere !== undefined ? 'overwrite' : 'append');
  if (mode !== 'append' && mode !== 'overwrite') {
    throw new WeirError('INVALID_ARGUMENT', `--mode must be append or overwrite, got ${mode}`);
  }
  if (replaceWhere !== undefined && mode !== 'overwrite') {
    throw new WeirError('INVALID_ARGUMENT', '--replace-where needs --mode overwrite');
  }
  return mode;
}

function parseCompression(text: string): Compression {
  if (text === 'zstd' || text === 'snappy' || text === 'uncompressed') return text;
  throw new WeirError('INVALID_ARGUMENT', `--compression must be zstd, snappy or uncompressed, got ${text}`);
}

function parseTargetFileSize(text: string): number {
  const bytes = parseBytes(text);
  if (bytes < 1) throw new WeirError('INVALID_ARGUMENT', `--target-file-size must be positive, got ${text}`);
  return bytes;
}

/** The latest snapshot, or undefined when the location holds no table yet. */
async function tryLoadSnapshot(store: ObjectStore): Promise<Snapshot | undefined> {
  try {
    return await loadSnapshot(store);
  } catch (err) {
    if (isWeirError(err) && err.code === 'NOT_A_DELTA_TABLE') return undefined;
    throw err;
  }
}

interface WriteCliOptions {
  input: string;
  format?: string;
  mode?: string;
  replaceWhere?: string;
  partitionBy?: string[];
  property?: Record<string, string>;
  schema?: string;
  inferSchema?: boolean;
  mergeSchema?: boolean;
  ignoreUnknownFields?: boolean;
  compression?: Compression;
  targetFileSize?: number;
  encodeWorkers?: number;
  appId?: string;
  appVersion?: number;
  json?: boolean;
}

/** The input's batches for the table (schema chosen per `resolveRecordSchema`). */
async function inputBatches(
  table: string,
  input: InputFile,
  snapshot: Snapshot | undefined,
  opts: WriteCliOptions,
): Promise<AsyncIterable<RecordBatch>> {
  if (input.format === 'parquet') {
    if (opts.schema !== undefined || opts.inferSchema) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `--schema and --infer-schema apply to NDJSON and CSV input; ${input.file} is Parquet and carries its own schema`,
      );
    }
    return input.batches();
  }
  const schema = await resolveRecordSchema({
    table,
    file: input.file,
    tableSchema: snapshot?.schema,
    schemaArg: opts.schema !== undefined ? loadSchemaArg(opts.schema) : undefined,
    inferSchema: opts.inferSchema ?? false,
    mergeSchema: opts.mergeSchema ?? false,
    samples: () => input.sample(INFER_SAMPLE_RECORDS),
  });
  return input.batches(schema, { table, ...(opts.ignoreUnknownFields ? { ignoreUnknownFields: true } : {}) });
}

/**
 * Rethrows an input failure as a WeirError saying that nothing was committed (an error reading
 * the file, e.g. EACCES, becomes INPUT_READ_FAILED naming it).
 */
async function* noteNothingCommitted(
  batches: AsyncIterable<RecordBatch>,
  where: { table: string; file: string; version: number | undefined },
): AsyncGenerator<RecordBatch> {
  try {
    yield* batches;
  } catch (err) {
    const systemCode = (err as { code?: unknown } | undefined)?.code;
    const cause =
      err instanceof WeirError
        ? err
        : err instanceof Error && typeof systemCode === 'string'
          ? new WeirError('INPUT_READ_FAILED', `cannot read ${where.file}: ${err.message}`, {
              details: { file: where.file, code: systemCode },
            })
          : undefined;
    if (!cause) throw err;
    const state =
      where.version === undefined
        ? `${where.table} was not created`
        : `${where.table} is still at version ${where.version}`;
    const hint =
      cause.code === 'INVALID_RECORD' && cause.details.expectedType === 'none'
        ? ' (--merge-schema adds new columns, --ignore-unknown-fields drops them)'
        : '';
    throw new WeirError(cause.code, `${cause.message}${hint}; nothing was committed (${state})`, {
      cause: err,
      details: cause.details,
    });
  }
}

function summarize(table: string, result: WriteResult, created: boolean, ms: number) {
  const removed = (result.actions ?? []).filter((a) => 'remove' in a).length;
  return {
    table,
    version: result.version,
    skipped: result.skipped,
    created,
    rows: result.rows,
    numFiles: result.files.length,
    sizeInBytes: result.files.reduce((n, f) => n + f.size, 0),
    removedFiles: removed,
    durationMs: Math.round(ms),
    ...(result.attempts !== undefined ? { attempts: result.attempts } : {}),
  };
}

async function runWrite(ctx: CliContext, table: string, opts: WriteCliOptions): Promise<void> {
  const started = performance.now();
  const mode = parseMode(opts.mode, opts.replaceWhere);
  if ((opts.appId === undefined) !== (opts.appVersion === undefined)) {
    throw new WeirError('INVALID_ARGUMENT', '--app-id and --app-version go together');
  }
  const format = inputFormatOf(opts.input, opts.format);
  const store = ctx.openStore(table);
  const snapshot = await tryLoadSnapshot(store);
  const properties = opts.property ?? {};
  if (snapshot && Object.keys(properties).length > 0) {
    throw new WeirError(
      'INVALID_ARGUMENT',
      `${table} already exists: --property only applies when the write creates the table`,
      { details: { table } },
    );
  }
  validateProperties(table, properties);
  const input = openInput(opts.input, format);
  const batches = await inputBatches(table, input, snapshot, opts);
  const bar = createProgressBar(ctx.io, { label: path.basename(input.file), totalBytes: input.size });
  let result: WriteResult;
  try {
    result = await writeTable(
      store,
      noteNothingCommitted(batches, { table, file: input.file, version: snapshot?.version }),
      {
        mode,
        ...(snapshot ? { snapshot } : {}),
        ...(opts.replaceWhere !== undefined ? { replaceWhere: opts.replaceWhere } : {}),
        ...(opts.partitionBy ? { partitionBy: opts.partitionBy } : {}),
        ...(snapshot ? {} : { properties }),
        ...(opts.mergeSchema ? { mergeSchema: true } : {}),
        ...(opts.compression ? { compression: opts.compression } : {}),
        ...(opts.targetFileSize !== undefined ? { targetFileSize: opts.targetFileSize } : {}),
        ...(opts.encodeWorkers !== undefined ? { encodeWorkers: opts.encodeWorkers } : {}),
        ...(opts.appId !== undefined && opts.appVersion !== undefined
          ? { appTransaction: { appId: opts.appId, version: opts.appVersion } }
          : {}),
        onProgress: ({ rows }) => bar?.update({ bytes: input.bytesRead(), rows }),
        onCheckpointError: (err) => {
          const message = err instanceof Error ? err.message : String(err);
          ctx.io.stderr.write(
            `weir: warning: the data was committed but the checkpoint failed: ${message}\n`,
          );
        },
      },
    );
  } finally {
    bar?.stop();
  }
  const s = summarize(table, result, snapshot === undefined, performance.now() - started);
  if (opts.json) {
    await write(ctx.io.stdout, `${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  const took = `took ${(s.durationMs / 1000).toFixed(1)} s`;
  if (s.skipped) {
    await write(
      ctx.io.stdout,
      `skipped: ${table} already holds ${opts.appId} at version >= ${opts.appVersion} (table version ${s.version}, ${took})\n`,
    );
    return;
  }
  const files = `${s.numFiles} file${s.numFiles === 1 ? '' : 's'}`;
  const replaced =
    s.removedFiles > 0 ? `, replacing ${s.removedFiles} file${s.removedFiles === 1 ? '' : 's'}` : '';
  const creating = s.created ? ', creating the table' : '';
  await write(
    ctx.io.stdout,
    `wrote ${s.rows} row${s.rows === 1 ? '' : 's'} in ${files} (${formatBytes(s.sizeInBytes)}) to ${table} at version ${s.version}${creating}${replaced} (${took})\n`,
  );
}

export function registerWriteCommands(program: Command, ctx: CliContext): void {
  program
    .command('create')
    .description('create an empty table from a schema')
    .argument('<table>', 'table location: a path, file://, memory:// or s3:// URI')
    .requiredOption(
      '--schema <schema>',
      "a JSON schema file, or DDL such as 'id BIGINT NOT NULL, amount DECIMAL(12,2), tags ARRAY<STRING>'",
    )
    .option('--partition-by <columns>', 'comma-separated partition columns', parseColumnList)
    .option(
      '--property <key=value>',
      'a table property, e.g. delta.appendOnly=true (repeatable)',
      collectProperty,
    )
    .option('--if-not-exists', 'succeed without changes when the table already exists')
    .option('--json', 'print JSON')
    .action(
      async (
        table: string,
        opts: {
          schema: string;
          partitionBy?: string[];
          property?: Record<string, string>;
          ifNotExists?: boolean;
          json?: boolean;
        },
      ) => {
        const schema = loadSchemaArg(opts.schema);
        const properties = opts.property ?? {};
        validateProperties(table, properties);
        const result = await createTable(ctx.openStore(table), {
          schema,
          ...(opts.partitionBy ? { partitionColumns: opts.partitionBy } : {}),
          properties,
          ifExists: opts.ifNotExists ? 'ignore' : 'error',
        });
        if (opts.json) {
          await write(ctx.io.stdout, `${JSON.stringify({ table, ...result }, null, 2)}\n`);
          return;
        }
        await write(
          ctx.io.stdout,
          result.created
            ? `created ${table} at version ${result.version}\n`
            : `${table} already exists at version ${result.version} (left unchanged)\n`,
        );
      },
    );

  program
    .command('write')
    .description('write an NDJSON, CSV or Parquet file to a table (creating it if needed), in one commit')
    .argument('<table>', 'table location')
    .requiredOption('--input <file>', 'the input file: .ndjson/.jsonl, .csv (with a header row) or .parquet')
    .option('--format <format>', 'ndjson, csv or parquet (default: from the file extension)')
    .option('--mode <mode>', 'append or overwrite (default: append; overwrite with --replace-where)')
    .option(
      '--replace-where <predicate>',
      'overwrite only the partitions matching this, e.g. "day = \'2024-05-01\'"',
    )
    .option(
      '--partition-by <columns>',
      'partition columns of a new table (must match an existing one)',
      parseColumnList,
    )
    .option('--property <key=value>', 'a table property of a new table (repeatable)', collectProperty)
    .option(
      '--schema <schema>',
      "NDJSON/CSV: the records' schema (JSON file or DDL); columns of a table created by write are nullable",
    )
    .option(
      '--infer-schema',
      `NDJSON/CSV: infer the schema of a new table (or new columns) from the first ${INFER_SAMPLE_RECORDS} records`,
    )
    .option('--merge-schema', 'add new columns (and widen types) instead of refusing them')
    .option('--ignore-unknown-fields', 'NDJSON/CSV: drop fields that are not in the schema')
    .option('--compression <codec>', 'zstd, snappy or uncompressed', parseCompression)
    .option('--target-file-size <size>', 'target data file size, e.g. 128MB', parseTargetFileSize)
    .option('--encode-workers <n>', ENCODE_WORKERS_HELP, parseNonNegativeInt('--encode-workers'))
    .option('--app-id <id>', 'exactly-once: the writing application (with --app-version)')
    .option(
      '--app-version <n>',
      'exactly-once: skip the write if the table holds --app-id at >= n',
      parseNonNegativeInt('--app-version'),
    )
    .option('--json', 'print the result as JSON')
    .action((table: string, opts: WriteCliOptions) => runWrite(ctx, table, opts));

  program
    .command('checkpoint')
    .description('write a checkpoint of the latest table version (faster snapshot loading)')
    .argument('<table>', 'table location')
    .option('--json', 'print JSON')
    .action(async (table: string, opts: { json?: boolean }) => {
      const store = ctx.openStore(table);
      const snapshot = await loadSnapshot(store);
      const written = await writeCheckpoint(store, snapshot);
      const file = `_delta_log/${String(written.version).padStart(20, '0')}.checkpoint.parquet`;
      if (opts.json) {
        await write(ctx.io.stdout, `${JSON.stringify({ table, path: file, ...written }, null, 2)}\n`);
        return;
      }
      await write(
        ctx.io.stdout,
        `checkpoint of ${table} at version ${written.version}: ${file} (${formatBytes(written.sizeInBytes ?? 0)}), size ${written.size} actions, numOfAddFiles ${written.numOfAddFiles}\n`,
      );
    });
}
