/**
 * The maintenance commands: `optimize` (bin-packing compaction of small files, optionally of
 * the partitions a predicate selects), `vacuum` (delete data files no version inside the
 * retention window references; lite or full) and `cleanup-log` (delete the expired part of the
 * Delta log below a checkpoint).
 *
 * Invariants: option values are checked before the table is touched; `--dry-run` changes
 * nothing; the progress bar (stderr, terminals only) is always stopped before the summary line;
 * `--json` prints one JSON object and nothing else on stdout. A failure prints one line (exit 1);
 * an OPTIMIZE that failed midway says which versions it committed.
 */
import {
  cleanupExpiredLogs,
  type LogCleanupResult,
  type OptimizeResult,
  optimize,
  type VacuumResult,
  vacuum,
} from '@weir/delta';
import { WeirError } from '@weir/storage';
import type { Command } from 'commander';
import { type CliContext, write } from '../context.js';
import { formatBytes, parseBytes } from '../format/bytes.js';
import { createWorkProgressBar } from '../format/work-progress.js';
import { parseNonNegativeInt } from './read-commands.js';
import { ENCODE_WORKERS_HELP } from './write-commands.js';

function parsePositiveSize(name: string) {
  return (text: string): number => {
    const bytes = parseBytes(text);
    if (bytes < 1) throw new WeirError('INVALID_ARGUMENT', `${name} must be positive, got ${text}`);
    return bytes;
  };
}

function parsePositiveInt(name: string) {
  return (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < 1) {
      throw new WeirError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${text}`);
    }
    return Number(text);
  };
}

function parseHours(text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) {
    throw new WeirError('INVALID_ARGUMENT', `--retention-hours must be a number of hours >= 0, got ${text}`);
  }
  return Number(text);
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
const took = (ms: number) => `took ${(ms / 1000).toFixed(1)} s`;

interface OptimizeCliOptions {
  where?: string;
  targetSize?: number;
  minInputFiles?: number;
  maxBytes?: number;
  concurrency?: number;
  stitchMinRowGroup?: number;
  encodeWorkers?: number;
  dryRun?: boolean;
  json?: boolean;
}

function optimizeSummary(table: string, r: OptimizeResult) {
  const m = r.metrics;
  return {
    table,
    readVersion: r.readVersion,
    dryRun: r.dryRun,
    targetSize: r.plan.targetSize,
    ...(r.plan.predicate !== undefined ? { predicate: r.plan.predicate } : {}),
    filesBefore: m.filesBefore,
    filesAfter: r.dryRun ? undefined : m.filesAfter,
    bins: r.plan.bins.length,
    filesToRewrite: r.plan.metrics.filesInBins,
    bytesToRewrite: r.plan.metrics.bytesInBins,
    binsCommitted: m.binsCommitted,
    binsDropped: m.binsDropped,
    binsStitched: m.binsStitched,
    numRemovedFiles: m.numRemovedFiles,
    numAddedFiles: m.numAddedFiles,
    numRemovedBytes: m.numRemovedBytes,
    numAddedBytes: m.numAddedBytes,
    rowsRewritten: m.rowsRewritten,
    versions: r.commits.map((c) => c.version),
    droppedBins: r.droppedBins,
    ...(r.dryRun
      ? {
          plannedBins: r.plan.bins.map((b) => ({
            partition: b.partition,
            files: b.files.length,
            inputBytes: b.inputBytes,
          })),
        }
      : {}),
    ...(r.dryRun ? {} : { encodeWorkers: m.encodeWorkers, decodeWorkers: m.decodeWorkers }),
    durationMs: Math.round(m.durationMs),
  };
}

async function runOptimize(ctx: CliContext, table: string, opts: OptimizeCliOptions): Promise<void> {
  const store = ctx.openStore(table);
  let bar: ReturnType<typeof createWorkProgressBar>;
  let result: OptimizeResult;
  try {
    result = await optimize(store, {
      ...(opts.where !== undefined ? { where: opts.where } : {}),
      ...(opts.targetSize !== undefined ? { targetSize: opts.targetSize } : {}),
      ...(opts.minInputFiles !== undefined ? { minInputFiles: opts.minInputFiles } : {}),
      ...(opts.maxBytes !== undefined ? { maxBytesPerRun: opts.maxBytes } : {}),
      ...(opts.concurrency !== undefined ? { maxConcurrentBins: opts.concurrency } : {}),
      ...(opts.stitchMinRowGroup !== undefined ? { stitchMinRowGroupBytes: opts.stitchMinRowGroup } : {}),
      ...(opts.encodeWorkers !== undefined ? { encodeWorkers: opts.encodeWorkers } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      onProgress: (p) => {
        bar ??= createWorkProgressBar(ctx.io, {
          label: 'optimize',
          totalFiles: p.filesTotal,
          totalBytes: p.bytesTotal,
        });
        bar?.update({ files: p.filesDone, bytes: p.bytesDone });
      },
      onCheckpointError: (err) => {
        const message = err instanceof Error ? err.message : String(err);
        ctx.io.stderr.write(
          `weir: warning: compaction was committed but the checkpoint failed: ${message}\n`,
        );
      },
    });
  } finally {
    bar?.stop();
  }
  const s = optimizeSummary(table, result);
  if (opts.json) {
    await write(ctx.io.stdout, `${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  const rewrite = `${plural(s.filesToRewrite, 'file')} (${formatBytes(s.bytesToRewrite)}) in ${plural(s.bins, 'bin')}`;
  if (s.bins === 0) {
    await write(
      ctx.io.stdout,
      `nothing to optimize in ${table} at version ${s.readVersion} (${plural(s.filesBefore, 'file')}; no partition has ${result.plan.minInputFiles} or more files below ${formatBytes(result.plan.minFileSize)})\n`,
    );
    return;
  }
  if (s.dryRun) {
    for (const b of result.plan.bins) {
      await write(
        ctx.io.stdout,
        `  ${b.partition || '(unpartitioned)'}: ${plural(b.files.length, 'file')} (${formatBytes(b.inputBytes)})\n`,
      );
    }
    await write(
      ctx.io.stdout,
      `dry run: would rewrite ${rewrite} of ${table} at version ${s.readVersion} into files of about ${formatBytes(s.targetSize)}; nothing was changed\n`,
    );
    return;
  }
  const versions =
    s.versions.length === 0
      ? 'nothing committed'
      : `${plural(s.versions.length, 'commit')} (version${s.versions.length === 1 ? '' : 's'} ${s.versions.join(', ')})`;
  const dropped =
    s.binsDropped > 0
      ? `; dropped ${plural(s.binsDropped, 'bin')} whose files a concurrent writer changed (${[...new Set(result.droppedBins.map((d) => d.reason))].join(', ')})`
      : '';
  const stitched =
    s.binsStitched > 0 ? ` (${plural(s.binsStitched, 'bin')} stitched: row groups copied)` : '';
  await write(
    ctx.io.stdout,
    `optimized ${table}: ${s.filesBefore} -> ${s.filesAfter} files, rewrote ${plural(s.numRemovedFiles, 'file')} (${formatBytes(s.numRemovedBytes)}) into ${plural(s.numAddedFiles, 'file')} (${formatBytes(s.numAddedBytes)})${stitched}, ${plural(s.rowsRewritten, 'row')}, ${versions}${dropped} (${took(s.durationMs)})\n`,
  );
}

interface VacuumCliOptions {
  retentionHours?: number;
  full?: boolean;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

function vacuumSummary(r: VacuumResult) {
  return {
    table: r.table,
    version: r.version,
    mode: r.mode,
    dryRun: r.dryRun,
    retentionHours: r.retentionMs / 3_600_000,
    cutoff: new Date(r.cutoff).toISOString(),
    numFiles: r.numFiles,
    numBytes: r.numBytes,
    filesDeleted: r.filesDeleted,
    bytesDeleted: r.bytesDeleted,
    files: r.files.map((f) => f.key),
    durationMs: Math.round(r.durationMs),
  };
}

async function runVacuum(ctx: CliContext, table: string, opts: VacuumCliOptions): Promise<void> {
  const store = ctx.openStore(table);
  let bar: ReturnType<typeof createWorkProgressBar>;
  let result: VacuumResult;
  try {
    result = await vacuum(store, {
      mode: opts.full ? 'full' : 'lite',
      ...(opts.retentionHours !== undefined ? { retentionHours: opts.retentionHours } : {}),
      ...(opts.force ? { force: true } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
      onProgress: (p) => {
        bar ??= createWorkProgressBar(ctx.io, {
          label: 'vacuum',
          totalFiles: p.filesTotal,
          totalBytes: p.bytesTotal,
        });
        bar?.update({ files: p.filesDeleted, bytes: p.bytesDeleted });
      },
    });
  } finally {
    bar?.stop();
  }
  const s = vacuumSummary(result);
  if (opts.json) {
    await write(ctx.io.stdout, `${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  const how = `${s.mode}, retention ${s.retentionHours} hours`;
  if (s.dryRun) {
    for (const f of s.files) await write(ctx.io.stdout, `${f}\n`);
    await write(
      ctx.io.stdout,
      `dry run: would delete ${plural(s.numFiles, 'file')} (${formatBytes(s.numBytes)}) from ${table} (${how}); nothing was deleted\n`,
    );
    return;
  }
  await write(
    ctx.io.stdout,
    `vacuumed ${table}: deleted ${plural(s.filesDeleted, 'file')} (${formatBytes(s.bytesDeleted)}) no version since ${s.cutoff} references (${how}; ${took(s.durationMs)})\n`,
  );
}

function cleanupSummary(r: LogCleanupResult) {
  return {
    table: r.table,
    dryRun: r.dryRun,
    retentionHours: r.retentionMs / 3_600_000,
    cutoff: new Date(r.cutoff).toISOString(),
    ...(r.checkpointVersion !== undefined ? { oldestAvailableVersion: r.checkpointVersion } : {}),
    filesDeleted: r.dryRun ? 0 : r.files.length,
    commitsDeleted: r.commitsDeleted,
    checkpointFilesDeleted: r.checkpointFilesDeleted,
    otherFilesDeleted: r.otherFilesDeleted + r.sidecarsDeleted,
    bytesDeleted: r.dryRun ? 0 : r.bytesDeleted,
    files: r.files,
    durationMs: Math.round(r.durationMs),
  };
}

async function runCleanupLog(
  ctx: CliContext,
  table: string,
  opts: { dryRun?: boolean; json?: boolean },
): Promise<void> {
  const result = await cleanupExpiredLogs(ctx.openStore(table), opts.dryRun ? { dryRun: true } : {});
  const s = cleanupSummary(result);
  if (opts.json) {
    await write(ctx.io.stdout, `${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  if (result.files.length === 0) {
    await write(
      ctx.io.stdout,
      `nothing to clean up in ${table}'s log (no checkpoint below the versions of the last ${s.retentionHours / 24} days that could replace older log files)\n`,
    );
    return;
  }
  const what = `${plural(result.files.length, 'log file')} (${plural(s.commitsDeleted, 'commit')}, ${plural(s.checkpointFilesDeleted, 'checkpoint file')}, ${formatBytes(result.bytesDeleted)})`;
  if (s.dryRun) {
    for (const f of result.files) await write(ctx.io.stdout, `${f}\n`);
    await write(ctx.io.stdout, `dry run: would delete ${what} from ${table}; nothing was deleted\n`);
    return;
  }
  await write(
    ctx.io.stdout,
    `cleaned up ${table}'s log: deleted ${what} older than ${s.cutoff}; the oldest readable version is now ${s.oldestAvailableVersion} (${took(s.durationMs)})\n`,
  );
}

export function registerMaintenanceCommands(program: Command, ctx: CliContext): void {
  program
    .command('optimize')
    .description('compact small data files into files near the target size (bin-packing, per partition)')
    .argument('<table>', 'table location: a path, file://, memory:// or s3:// URI')
    .option('--where <predicate>', 'only partitions matching this predicate on partition columns')
    .option(
      '--target-size <size>',
      'output file size to aim for, e.g. 128MB (default: delta.targetFileSize, else 128 MiB)',
      parsePositiveSize('--target-size'),
    )
    .option(
      '--min-input-files <n>',
      'rewrite a bin only with at least n files (default 2)',
      parsePositiveInt('--min-input-files'),
    )
    .option(
      '--max-bytes <size>',
      'rewrite at most this much input in this run',
      parsePositiveSize('--max-bytes'),
    )
    .option(
      '--concurrency <n>',
      'bins rewritten at the same time (default 2)',
      parsePositiveInt('--concurrency'),
    )
    .option(
      '--stitch-min-row-group <size>',
      "copy the inputs' row groups into the output instead of rewriting them when they average at least this size, e.g. 1MB (fast; keeps their row groups)",
      parseBytes,
    )
    .option('--encode-workers <n>', ENCODE_WORKERS_HELP, parseNonNegativeInt('--encode-workers'))
    .option('--dry-run', 'show what would be compacted; change nothing')
    .option('--json', 'print the result as JSON')
    .action((table: string, opts: OptimizeCliOptions) => runOptimize(ctx, table, opts));

  program
    .command('vacuum')
    .description('delete data files that no table version within the retention window references')
    .argument('<table>', 'table location')
    .option(
      '--retention-hours <n>',
      "keep files needed by versions of the last n hours (default: the table's delta.deletedFileRetentionDuration, 7 days)",
      parseHours,
    )
    .option('--full', 'also delete unreferenced files found by listing the table (e.g. failed writes)')
    .option('--force', "allow a retention shorter than the table's delta.deletedFileRetentionDuration")
    .option('--dry-run', 'list the files that would be deleted; delete nothing')
    .option('--json', 'print the result as JSON')
    .action((table: string, opts: VacuumCliOptions) => runVacuum(ctx, table, opts));

  program
    .command('cleanup-log')
    .description(
      'delete log files older than delta.logRetentionDuration (30 days) that a newer checkpoint replaces',
    )
    .argument('<table>', 'table location')
    .option('--dry-run', 'list the log files that would be deleted; delete nothing')
    .option('--json', 'print the result as JSON')
    .action((table: string, opts: { dryRun?: boolean; json?: boolean }) => runCleanupLog(ctx, table, opts));
}
