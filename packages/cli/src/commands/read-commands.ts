/**
 * The read commands: `scan`, `describe`, `history`, `files`. Each opens the table through the
 * context's store resolver, loads a snapshot (optionally time-travelled) and prints text for
 * people or JSON for programs.
 */

import {
  type AddAction,
  executeScan,
  type HistoryEntry,
  loadSnapshot,
  planScan,
  readHistory,
  type Snapshot,
  type SnapshotOptions,
  scanOutputSchema,
  typeToString,
} from '@weir/delta';
import { WeirError } from '@weir/storage';
import Table from 'cli-table3';
import type { Command } from 'commander';
import { type CliContext, write } from '../context.js';
import { formatBytes } from '../format/bytes.js';
import { parseRowFormat, writeRows } from '../format/rows.js';

export function parseNonNegativeInt(name: string) {
  return (text: string): number => {
    if (!/^\d+$/.test(text))
      throw new WeirError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${text}`);
    return Number(text);
  };
}

interface TimeTravel {
  version?: number;
  timestamp?: string;
}

function snapshotOptions(opts: TimeTravel): SnapshotOptions {
  return {
    ...(opts.version !== undefined ? { version: opts.version } : {}),
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
  };
}

function fileRecords(add: AddAction): number | undefined {
  if (!add.stats && !add.statsParsed) return undefined;
  try {
    const stats = add.statsParsed ?? (JSON.parse(add.stats!) as { numRecords?: number });
    if (typeof stats.numRecords !== 'number') return undefined;
    return stats.numRecords - (add.deletionVector?.cardinality ?? 0);
  } catch {
    return undefined;
  }
}

export function describeSnapshot(snapshot: Snapshot) {
  const files = snapshot.files();
  let records: number | undefined = 0;
  let bytes = 0;
  for (const f of files) {
    bytes += f.size;
    const n = fileRecords(f);
    records = records === undefined || n === undefined ? undefined : records + n;
  }
  return {
    table: snapshot.table,
    version: snapshot.version,
    timestamp: new Date(snapshot.timestamp).toISOString(),
    id: snapshot.metadata.id,
    ...(snapshot.metadata.name !== undefined ? { name: snapshot.metadata.name } : {}),
    ...(snapshot.metadata.description !== undefined ? { description: snapshot.metadata.description } : {}),
    protocol: snapshot.protocol,
    schema: snapshot.schema,
    partitionColumns: snapshot.partitionColumns,
    configuration: snapshot.configuration,
    numFiles: files.length,
    sizeInBytes: bytes,
    ...(records !== undefined ? { numRecords: records } : {}),
  };
}

export function registerReadCommands(program: Command, ctx: CliContext): void {
  program
    .command('scan')
    .description('print the rows of a table (or of an older version)')
    .argument('<table>', 'table location: a path, file://, memory:// or s3:// URI')
    .option('--version <n>', 'read this table version', parseNonNegativeInt('--version'))
    .option('--timestamp <iso>', 'read the version current at this time (ISO-8601)')
    .option('--columns <list>', 'comma-separated columns to print, in this order')
    .option('--where <predicate>', 'row filter, e.g. "country = \'DE\' AND amount > 100"')
    .option('--limit <n>', 'print at most n rows', parseNonNegativeInt('--limit'))
    .option('--format <format>', 'ndjson, csv or table', 'ndjson')
    .action(
      async (
        table: string,
        opts: TimeTravel & { columns?: string; where?: string; limit?: number; format: string },
      ) => {
        const format = parseRowFormat(opts.format);
        const store = ctx.openStore(table);
        const snapshot = await loadSnapshot(store, snapshotOptions(opts));
        const plan = planScan(snapshot, {
          ...(opts.columns
            ? {
                columns: opts.columns
                  .split(',')
                  .map((c) => c.trim())
                  .filter(Boolean),
              }
            : {}),
          ...(opts.where !== undefined ? { where: opts.where } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        });
        await writeRows(ctx.io, format, scanOutputSchema(plan), executeScan(store, plan));
      },
    );

  program
    .command('describe')
    .description('show version, protocol, schema, partitioning, properties and size of a table')
    .argument('<table>', 'table location')
    .option('--version <n>', 'describe this table version', parseNonNegativeInt('--version'))
    .option('--timestamp <iso>', 'describe the version current at this time (ISO-8601)')
    .option('--json', 'print JSON')
    .action(async (table: string, opts: TimeTravel & { json?: boolean }) => {
      const snapshot = await loadSnapshot(ctx.openStore(table), snapshotOptions(opts));
      const d = describeSnapshot(snapshot);
      if (opts.json) {
        await write(ctx.io.stdout, `${JSON.stringify(d, null, 2)}\n`);
        return;
      }
      const p = d.protocol;
      const features = [...(p.readerFeatures ?? []), ...(p.writerFeatures ?? [])];
      const lines = [
        `table        ${d.table}`,
        `version      ${d.version} (${d.timestamp})`,
        `protocol     reader ${p.minReaderVersion}, writer ${p.minWriterVersion}${features.length ? ` [${[...new Set(features)].join(', ')}]` : ''}`,
        `partitioned  ${d.partitionColumns.length ? d.partitionColumns.join(', ') : '(none)'}`,
        `files        ${d.numFiles} (${formatBytes(d.sizeInBytes)})`,
        `records      ${d.numRecords ?? 'unknown (files without stats)'}`,
        'schema',
        ...snapshot.schema.fields.map(
          (f) => `  ${f.name}: ${typeToString(f.type)}${f.nullable ? '' : ' NOT NULL'}`,
        ),
        'properties',
        ...(Object.keys(d.configuration).length
          ? Object.entries(d.configuration).map(([k, v]) => `  ${k}=${v}`)
          : ['  (none)']),
      ];
      await write(ctx.io.stdout, `${lines.join('\n')}\n`);
    });

  program
    .command('history')
    .description('list commits, newest first')
    .argument('<table>', 'table location')
    .option('--limit <n>', 'show at most n commits', parseNonNegativeInt('--limit'))
    .option('--json', 'print JSON (one array)')
    .action(async (table: string, opts: { limit?: number; json?: boolean }) => {
      const entries: HistoryEntry[] = await readHistory(
        ctx.openStore(table),
        opts.limit !== undefined ? { limit: opts.limit } : {},
      );
      if (opts.json) {
        const out = entries.map(({ commitInfo: _c, ...e }) => ({
          ...e,
          timestamp: new Date(e.timestamp).toISOString(),
        }));
        await write(ctx.io.stdout, `${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const t = new Table({
        head: ['version', 'timestamp', 'operation', 'parameters'],
        style: { head: [], border: [] },
      });
      for (const e of entries) {
        t.push([
          String(e.version),
          new Date(e.timestamp).toISOString(),
          e.operation ?? '',
          e.operationParameters ? JSON.stringify(e.operationParameters) : '',
        ]);
      }
      await write(ctx.io.stdout, `${t.toString()}\n`);
    });

  program
    .command('files')
    .description('list the live data files of a table version')
    .argument('<table>', 'table location')
    .option('--version <n>', 'files of this table version', parseNonNegativeInt('--version'))
    .option('--timestamp <iso>', 'files of the version current at this time (ISO-8601)')
    .option('--json', 'print JSON (one array)')
    .action(async (table: string, opts: TimeTravel & { json?: boolean }) => {
      const snapshot = await loadSnapshot(ctx.openStore(table), snapshotOptions(opts));
      const files = snapshot.files().map((f) => {
        const records = fileRecords(f);
        return {
          path: f.path,
          size: f.size,
          partitionValues: f.partitionValues,
          ...(records !== undefined ? { numRecords: records } : {}),
          modificationTime: new Date(f.modificationTime).toISOString(),
          ...(f.deletionVector ? { deletedRows: f.deletionVector.cardinality } : {}),
        };
      });
      if (opts.json) {
        await write(ctx.io.stdout, `${JSON.stringify(files, null, 2)}\n`);
        return;
      }
      const t = new Table({
        head: ['path', 'size', 'records', 'partition'],
        style: { head: [], border: [] },
      });
      for (const f of files) {
        const part = Object.entries(f.partitionValues)
          .map(([k, v]) => `${k}=${v ?? 'null'}`)
          .join(', ');
        t.push([f.path, formatBytes(f.size), f.numRecords === undefined ? '?' : String(f.numRecords), part]);
      }
      await write(
        ctx.io.stdout,
        `${t.toString()}\n${files.length} file${files.length === 1 ? '' : 's'}, version ${snapshot.version}\n`,
      );
    });
}
