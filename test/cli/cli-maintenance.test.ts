/**
 * The maintenance commands of `weir` through public interfaces (the CLI, `@weir/delta` reads):
 * `optimize` (summary line, --json, --dry-run, --where, --target-size, errors), `vacuum` (lite and
 * --full, --dry-run listing, --json, the retention check and --force), `cleanup-log`, and the
 * progress bar on a terminal. Tables live in a temporary folder removed afterwards; time is
 * controlled through the files' modification times.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSnapshot, readHistory } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNdjson, runCli, spawnCli, WEIR_BIN } from '../support/cli.js';

let root: string;
let n = 0;
const newTable = () => path.join(root, `t${++n}`);

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'weir-cli-maint-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function ok(args: string[]) {
  const run = await runCli(args);
  if (run.code !== 0) throw new Error(`weir ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  expect(run.stderr).toBe('');
  return run.stdout;
}

async function fails(args: string[]) {
  const run = await runCli(args);
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** A table partitioned by `day` written by `weir write` in `writes` commits of 2 rows per day. */
async function smallFiles(writes: number, days = ['2024-05-01', '2024-05-02']): Promise<string> {
  const table = newTable();
  let id = 0;
  for (let i = 0; i < writes; i++) {
    const input = path.join(root, `in-${n}-${i}.ndjson`);
    const rows = days.flatMap((day) => [0, 1].map(() => JSON.stringify({ id: id++, day, name: `n${id}` })));
    writeFileSync(input, `${rows.join('\n')}\n`);
    await ok([
      'write',
      table,
      '--input',
      input,
      ...(i === 0 ? ['--schema', 'id BIGINT, day DATE, name STRING', '--partition-by', 'day'] : []),
    ]);
  }
  return table;
}

const commitFile = (table: string, v: number) =>
  path.join(table, '_delta_log', `${String(v).padStart(20, '0')}.json`);

describe('weir optimize', () => {
  it('compacts and prints one summary line; scan output is unchanged', async () => {
    const table = await smallFiles(6);
    const before = parseNdjson(await ok(['scan', table]));
    const out = await ok(['optimize', table]);
    expect(out).toMatch(
      /^optimized .*: 12 -> 2 files, rewrote 12 files \(.+\) into 2 files \(.+\), 24 rows, 1 commit \(version 6\) \(took \d+\.\d s\)\n$/,
    );
    const after = parseNdjson(await ok(['scan', table]));
    const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));
    expect(byId(after)).toEqual(byId(before));
    const history = await readHistory(new LocalStore(table), { limit: 1 });
    expect(history[0]!.operation).toBe('OPTIMIZE');
    expect(await ok(['optimize', table])).toMatch(/^nothing to optimize in .* at version 6 \(2 files;/);
  });

  it('--json, --where and --target-size', async () => {
    const table = await smallFiles(4);
    const r = JSON.parse(
      await ok(['optimize', table, '--where', "day = '2024-05-02'", '--target-size', '1MB', '--json']),
    );
    expect(r).toMatchObject({
      readVersion: 3,
      dryRun: false,
      targetSize: 1024 * 1024,
      predicate: "day = '2024-05-02'",
      filesBefore: 8,
      filesAfter: 5,
      bins: 1,
      binsCommitted: 1,
      binsDropped: 0,
      numRemovedFiles: 4,
      numAddedFiles: 1,
      rowsRewritten: 8,
      versions: [4],
      droppedBins: [],
      binsStitched: 0,
    });
    expect(r.numRemovedBytes).toBeGreaterThan(0);
    expect(r.numAddedBytes).toBeGreaterThan(0);
    expect(typeof r.durationMs).toBe('number');
  });

  it('--stitch-min-row-group copies row groups instead of rewriting; scan output is unchanged', async () => {
    const table = await smallFiles(3);
    const before = parseNdjson(await ok(['scan', table]));
    const out = await ok(['optimize', table, '--stitch-min-row-group', '0']);
    expect(out).toMatch(
      /^optimized .*: 6 -> 2 files, rewrote 6 files .* \(2 bins stitched: row groups copied\), 12 rows/,
    );
    const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));
    expect(byId(parseNdjson(await ok(['scan', table])))).toEqual(byId(before));
    expect(await fails(['optimize', table, '--stitch-min-row-group', 'lots'])).toMatch(
      /^weir: not a size: lots/,
    );
  });

  it('--encode-workers sets the encoding threads (0: on the main thread); --json reports them', async () => {
    const table = await smallFiles(3);
    const before = parseNdjson(await ok(['scan', table]));
    const r = JSON.parse(await ok(['optimize', table, '--encode-workers', '0', '--json']));
    expect(r).toMatchObject({ filesBefore: 6, filesAfter: 2, encodeWorkers: 0 });
    const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));
    expect(byId(parseNdjson(await ok(['scan', table])))).toEqual(byId(before));
    const other = await smallFiles(3);
    const two = JSON.parse(await ok(['optimize', other, '--encode-workers', '2', '--json']));
    expect(two).toMatchObject({ filesAfter: 2, encodeWorkers: 2 });
    expect(await fails(['optimize', other, '--encode-workers', 'two'])).toMatch(
      /--encode-workers must be a non-negative integer, got two/,
    );
  });

  it('--dry-run lists the bins and changes nothing', async () => {
    const table = await smallFiles(3);
    const out = await ok(['optimize', table, '--dry-run']);
    expect(out).toContain('  day=2024-05-01: 3 files (');
    expect(out).toContain('  day=2024-05-02: 3 files (');
    expect(out).toMatch(
      /dry run: would rewrite 6 files \(.+\) in 2 bins of .* at version 2 into files of about 128 MiB; nothing was changed\n$/,
    );
    const json = JSON.parse(await ok(['optimize', table, '--dry-run', '--json']));
    expect(json).toMatchObject({ dryRun: true, bins: 2, filesToRewrite: 6, versions: [] });
    expect(json.plannedBins).toHaveLength(2);
    expect((await loadSnapshot(new LocalStore(table))).version).toBe(2);
  });

  it('errors are one line with exit 1: data-column predicates, bad sizes, missing tables', async () => {
    const table = await smallFiles(2);
    expect(await fails(['optimize', table, '--where', 'id > 3'])).toMatch(
      /^weir: .*OPTIMIZE's predicate may only use partition columns \(day\); it uses id$/,
    );
    expect(await fails(['optimize', table, '--target-size', 'huge'])).toMatch(/^weir: not a size: huge/);
    expect(await fails(['optimize', table, '--min-input-files', '0'])).toMatch(
      /--min-input-files must be a positive/,
    );
    expect(await fails(['optimize', path.join(root, 'nope')])).toMatch(/^weir: .*not a Delta table/);
  });
});

describe('weir vacuum', () => {
  it('refuses a short retention unless forced; --dry-run lists, then --full deletes', async () => {
    const table = await smallFiles(3);
    await ok(['optimize', table]);
    writeFileSync(path.join(table, 'day=2024-05-01', 'part-orphan.zstd.parquet'), 'failed write');
    expect(await fails(['vacuum', table, '--retention-hours', '1'])).toMatch(
      /^weir: .*a vacuum retention of 1 hour is shorter than the table's delta.deletedFileRetentionDuration \(168 hours\)/,
    );
    // Nothing is old enough with the default retention.
    expect(await ok(['vacuum', table])).toMatch(
      /^vacuumed .*: deleted 0 files \(0 B\) .*\(lite, retention 168 hours;/,
    );

    const dry = await ok(['vacuum', table, '--retention-hours', '0', '--force', '--dry-run']);
    const lines = dry.trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines.at(-1)).toMatch(
      /^dry run: would delete 6 files \(.+\) from .* \(lite, retention 0 hours\); nothing was deleted$/,
    );

    const json = JSON.parse(
      await ok(['vacuum', table, '--retention-hours', '0', '--force', '--full', '--json']),
    );
    expect(json).toMatchObject({
      mode: 'full',
      dryRun: false,
      retentionHours: 0,
      numFiles: 7,
      filesDeleted: 7,
    });
    expect(json.files).toContain('day=2024-05-01/part-orphan.zstd.parquet');
    expect(json.bytesDeleted).toBeGreaterThan(0);
    const dataFiles = readdirSync(table, { recursive: true }).filter((f) => String(f).endsWith('.parquet'));
    expect(dataFiles.filter((f) => !String(f).startsWith('_delta_log'))).toHaveLength(2);
    expect(parseNdjson(await ok(['scan', table]))).toHaveLength(12);
  });

  it('bad --retention-hours is a usage error naming the option', async () => {
    const table = await smallFiles(1);
    expect(await fails(['vacuum', table, '--retention-hours', 'soon'])).toMatch(
      /--retention-hours must be a number/,
    );
  });
});

describe('weir cleanup-log', () => {
  it('deletes the log below the newest checkpoint older than the retention; --json; nothing twice', async () => {
    const table = await smallFiles(12); // versions 0..11, checkpoint at 10
    expect(await ok(['cleanup-log', table])).toMatch(/^nothing to clean up in .*'s log/);
    const old = Date.now() - 40 * 86_400_000;
    for (let v = 0; v <= 10; v++)
      utimesSync(commitFile(table, v), new Date(old + v * 1000), new Date(old + v * 1000));
    const dry = JSON.parse(await ok(['cleanup-log', table, '--dry-run', '--json']));
    expect(dry).toMatchObject({
      dryRun: true,
      oldestAvailableVersion: 10,
      commitsDeleted: 10,
      filesDeleted: 0,
    });
    const out = await ok(['cleanup-log', table]);
    expect(out).toMatch(
      /^cleaned up .*'s log: deleted 10 log files \(10 commits, 0 checkpoint files, .+\) older than .*; the oldest readable version is now 10/,
    );
    expect(parseNdjson(await ok(['scan', table]))).toHaveLength(48);
    expect(await fails(['scan', table, '--version', '3'])).toMatch(/version 3 is no longer reconstructable/);
    expect(await ok(['cleanup-log', table])).toMatch(/^nothing to clean up/);
  });
});

describe('progress on a terminal', () => {
  it('the maintenance commands are listed in --help', () => {
    const r = spawnCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['optimize', 'vacuum', 'cleanup-log']) expect(r.stdout).toContain(c);
  });

  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)(
    'optimize on a pseudo-terminal draws a bar (files, bytes, rate, ETA), then the summary',
    async () => {
      const table = await smallFiles(4);
      const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
      const command = [process.execPath, WEIR_BIN, 'optimize', table].map(quote).join(' ');
      const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('optimize [');
      expect(r.stdout).toMatch(/\d+ \/ 8 files \| .+ \/ .+ \| .+\/s \| ETA/);
      expect(r.stdout).toMatch(/optimized .*: 8 -> 2 files/);
    },
  );

  it.skipIf(!hasScript)('vacuum on a pseudo-terminal draws a bar, then the summary', async () => {
    const table = await smallFiles(3);
    await ok(['optimize', table]);
    const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, WEIR_BIN, 'vacuum', table, '--retention-hours', '0', '--force']
      .map(quote)
      .join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('vacuum [');
    expect(r.stdout).toMatch(/6 \/ 6 files \| .+ \/ .+ \|/);
    expect(r.stdout).toMatch(/vacuumed .*: deleted 6 files \(.+\) no version since .* references/);
  });
});
