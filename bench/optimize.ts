/**
 * `optimize` — compaction throughput: OPTIMIZE of a table of many small files (5,000 files of
 * 2,000 rows; quick: 500) into files near the 128 MiB target, versus DuckDB reading the same files
 * and writing one ZSTD Parquet file, in the same process and run.
 *
 * Data: the `scan` bench's fraud-transaction-like schema (11 columns), zstd Parquet written by
 * DuckDB, one row group per file, a hand-written Delta log (lib/fixtures.ts), in a temp dir
 * removed afterwards.
 *
 * - `results.weir`: `optimize(store)` with its defaults (plan, 2 bins at a time on p-queue,
 *   executeScan on a decode worker thread -> one streamed zstd file per bin encoded on the encode
 *   pool's worker (dataChange=false), group commits, inline
 *   checkpoint) on a LocalStore, each run in a fresh process (lib/optimize-child.ts) so that its
 *   peak RSS (`process.resourceUsage().maxRSS`) is Weir's alone; the time and CPU are of
 *   `optimize()` only. Input MB/s = input file bytes / s. Between runs the table is reset
 *   (commits after version 0 and the output files deleted), so every run compacts the same input.
 * - `reference.duckdb`: `SET threads=<cores>; COPY (SELECT * FROM read_parquet([files])) TO
 *   out.parquet (FORMAT parquet, COMPRESSION zstd)` in this process — no Delta log, no stats,
 *   no fsync.
 * - Weir and DuckDB runs alternate (W, D, W, D, ...), so both sides see the same load on a
 *   shared machine.
 * - `ratio.mbPerSec` = Weir MB/s / DuckDB MB/s (median runs; target >= 0.5); `ratio.pairedMedian`
 *   the median of the per-pair ratios (each pair ran back to back); `ratio.bestRun` compares the
 *   fastest runs; `ratio.cpu` = DuckDB CPU time / Weir CPU time (steadier on a loaded machine,
 *   but blind to DuckDB's parallelism). Peak RSS target: < 1 GiB.
 * - `results.codecFloor` (lib/codec-floor-child.ts, a fresh process): the CPU parquet-wasm itself
 *   spends decoding every input file and encoding its rows (ZSTD, the cheapest of several writer
 *   configurations), with nothing else around it. `ratio.codecCeiling` = DuckDB's median time /
 *   (that CPU / cores): the best ratio any compaction through parquet-wasm could reach on this
 *   machine, with its codec work spread perfectly over every core and all else free.
 * Invariants: each Weir run is checked to hold every input row once (count and sum(id) of the
 * output files read back by DuckDB); DuckDB's output is checked the same way.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadSnapshot, type OptimizeMetrics } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import type { Floor } from './lib/codec-floor-child.js';
import {
  buildSyntheticTable,
  makeTempDir,
  removeDir,
  type SyntheticTable,
  sqlString,
} from './lib/fixtures.js';
import { type Bench, type BenchContext, type BenchResult, round } from './lib/result.js';
import { processMaxRssBytes } from './lib/timing.js';

const FULL = { files: 5000, rowsPerFile: 2000, runs: 3 };
const QUICK = { files: 500, rowsPerFile: 2000, runs: 3 };
const TARGET_RATIO = 0.5;
const RSS_LIMIT = 1024 ** 3;

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'BRL', 'INR', 'CNY'];
const COUNTRIES =
  'US GB DE FR ES IT NL SE PL BR MX CA AU JP KR IN CN SG ZA NG AE TR AR CL CO ID TH VN PH EG'.split(' ');
const CATEGORIES = (
  'grocery fuel travel electronics restaurants apparel health gaming utilities ' +
  'entertainment jewelry gift_cards crypto education home'
).split(' ');

function pick(values: readonly string[], seed: number): string {
  return `[${values.map(sqlString).join(', ')}][(hash(i, ${seed}) % ${values.length})::INTEGER + 1]`;
}

/** Rows [offset, offset + count) of the `scan` bench's table. */
function transactionsSelect(offset: number, count: number): string {
  return `SELECT
    i AS id,
    (hash(i, 1) % 1000000)::BIGINT AS user_id,
    ((hash(i, 2) % 2000000)::BIGINT * 0.01)::DECIMAL(12,2) AS amount,
    ${pick(CURRENCIES, 3)} AS currency,
    ${pick(COUNTRIES, 4)} AS country,
    'merchant_' || (hash(i, 5) % 50000)::VARCHAR AS merchant,
    ${pick(CATEGORIES, 6)} AS category,
    hash(i, 7) % 3 = 0 AS card_present,
    TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_microseconds(i * 10000 + (hash(i, 8) % 10000)::BIGINT) AS event_time,
    CASE WHEN hash(i, 9) % 20 = 0 THEN NULL ELSE (hash(i, 10) % 18000000)::DOUBLE / 100000.0 - 90.0 END AS lat,
    CASE WHEN hash(i, 9) % 20 = 0 THEN NULL ELSE (hash(i, 11) % 36000000)::DOUBLE / 100000.0 - 180.0 END AS lon
  FROM range(${offset}, ${offset + count}) t(i)`;
}

/** Puts the table back to version 0 with its input files only. */
async function resetTable(store: LocalStore, table: SyntheticTable): Promise<void> {
  const inputs = new Set(table.files.map((f) => f.path));
  const doomed: string[] = [];
  for await (const meta of store.list('')) {
    if (meta.key === '_delta_log/00000000000000000000.json') continue;
    if (meta.key.startsWith('_delta_log/') || !inputs.has(meta.key)) doomed.push(meta.key);
  }
  for (const key of doomed) await store.delete(key);
}

interface WeirRun {
  ms: number;
  cpuMs: number;
  peakRssBytes: number;
  maxRssBytes: number;
  baselineRssBytes: number;
  metrics: OptimizeMetrics;
  commits: number;
}

/** Runs a bench/lib script in a fresh process; resolves to the JSON of its last stdout line. */
function childJson<T>(script: string, args: string[]): Promise<T> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@weir/source', '--import', 'tsx', path.join(here, 'lib', script), ...args],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${script} exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as T);
    });
  });
}

/** One OPTIMIZE in a fresh process (lib/optimize-child.ts): its own time, CPU and memory. */
function weirRunInChild(tableDir: string): Promise<WeirRun> {
  return childJson<WeirRun>('optimize-child.ts', [tableDir]);
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const size = ctx.quick ? QUICK : FULL;
  const dir = await makeTempDir('weir-bench-optimize');
  ctx.defer(() => removeDir(dir));
  const tableDir = path.join(dir, 'table');
  const threads = Math.max(1, os.availableParallelism());

  ctx.log(`building ${size.files} files x ${size.rowsPerFile} rows with DuckDB`);
  const table = await buildSyntheticTable({
    dir: tableDir,
    totalRows: size.files * size.rowsPerFile,
    files: size.files,
    select: transactionsSelect,
    rowGroupSize: size.rowsPerFile,
    compression: 'zstd',
    onFile: (done, total) => {
      if (done % 500 === 0 || done === total) ctx.log(`  ${done}/${total} files`);
    },
  });
  const inputMb = table.totalBytes / 1e6;
  const store = new LocalStore(tableDir);
  const expectedSum = (BigInt(table.totalRows) * BigInt(table.totalRows - 1)) / 2n;

  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  ctx.defer(() => {
    conn.closeSync();
    instance.closeSync();
  });

  const check = async (files: string[], what: string) => {
    const list = `[${files.map((f) => sqlString(f)).join(', ')}]`;
    const reader = await conn.runAndReadAll(
      `SELECT count(*)::BIGINT, sum(id)::HUGEINT FROM read_parquet(${list})`,
    );
    const [count, sum] = reader.getRowsJS()[0] as [bigint, bigint];
    if (BigInt(count) !== BigInt(table.totalRows) || BigInt(sum) !== expectedSum) {
      throw new Error(
        `optimize bench: ${what} holds ${count} rows (sum ${sum}), expected ${table.totalRows}`,
      );
    }
  };

  await conn.run(`SET threads=${threads}`);
  const out = path.join(dir, 'duckdb.parquet');
  const fileList = `[${table.files.map((f) => sqlString(path.join(tableDir, f.path))).join(', ')}]`;
  const duckRun = async (): Promise<{ ms: number; cpuMs: number }> => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await conn.run(
      `COPY (SELECT * FROM read_parquet(${fileList})) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { ms, cpuMs: (used.user + used.system) / 1000 };
  };

  // Weir and DuckDB alternate (W, D, W, D, ...; full: after one untimed pair), so both sides
  // see the same machine load: the machine is shared, and a ratio of runs taken minutes apart
  // would measure the neighbours. Each Weir run is a fresh process: its samples are its own
  // timings of optimize() (start-up excluded).
  ctx.log(
    `weir: optimize of ${size.files} files (${round(inputMb, 1)} MB), alternating with duckdb COPY ... TO one zstd file, threads=${threads}`,
  );
  const runs: WeirRun[] = [];
  const duckRuns: { ms: number; cpuMs: number }[] = [];
  const warmup = ctx.quick ? 0 : 1;
  for (let i = 0; i < warmup + size.runs; i++) {
    await resetTable(store, table);
    const r = await weirRunInChild(tableDir);
    const snapshot = await loadSnapshot(store);
    await check(
      snapshot.files().map((f) => path.join(tableDir, decodeURIComponent(f.path))),
      'the optimized table',
    );
    const d = await duckRun();
    ctx.log(
      `  weir: ${r.metrics.filesBefore} -> ${r.metrics.filesAfter} files in ${round(r.ms / 1000, 1)} s (cpu ${round(r.cpuMs / 1000, 1)} s), peak RSS ${round(r.maxRssBytes / 1024 ** 2, 0)} MiB; duckdb ${round(d.ms / 1000, 1)} s (cpu ${round(d.cpuMs / 1000, 1)} s)${i < warmup ? ' (warm-up)' : ''}`,
    );
    if (i >= warmup) {
      runs.push(r);
      duckRuns.push(d);
    }
  }
  await check([out], 'DuckDB output');
  // What parquet-wasm alone needs to decode these files and encode their rows (fresh process,
  // one thread): no compaction on it can beat this CPU spread over every core.
  ctx.log('codec floor: parquet-wasm decode of every input file + encode of its rows (fresh process)');
  const floor = await childJson<Floor>('codec-floor-child.ts', [tableDir, ...table.files.map((f) => f.path)]);
  const medianOf = <T extends { ms: number }>(xs: T[]) =>
    [...xs].sort((a, b) => a.ms - b.ms)[Math.ceil(xs.length / 2) - 1]!;
  const weir = { medianMs: medianOf(runs).ms, samplesMs: runs.map((r) => r.ms), median: medianOf(runs) };
  const duckMedian = medianOf(duckRuns);
  const duck = { medianMs: duckMedian.ms, samplesMs: duckRuns.map((r) => r.ms), median: duckMedian.cpuMs };
  const { size: duckBytes } = await import('node:fs/promises').then((fs) => fs.stat(out));

  const w = weir.median.metrics;
  const weirMbPerSec = inputMb / (weir.medianMs / 1000);
  const duckMbPerSec = inputMb / (duck.medianMs / 1000);
  const peakRss = Math.max(...runs.map((v) => v.maxRssBytes));
  const ratio = weirMbPerSec / duckMbPerSec;
  const bestRun = Math.min(...duck.samplesMs) / Math.min(...weir.samplesMs);
  const cpuRatio = duck.median / weir.median.cpuMs;
  // Ratio of each alternating pair, then the median: both runs of a pair saw about the same load.
  const pairRatios = runs.map((r, i) => duckRuns[i]!.ms / r.ms).sort((a, b) => a - b);
  const pairRatio = pairRatios[Math.ceil(pairRatios.length / 2) - 1]!;
  // The best ratio any compaction through parquet-wasm could reach here: its codec CPU spread
  // perfectly over every core, and nothing else (reading, stats, commits) costing anything.
  const codecCeiling = duck.medianMs / (floor.floorCpuMs / threads);
  ctx.log(
    `weir ${round(weirMbPerSec, 1)} MB/s, duckdb ${round(duckMbPerSec, 1)} MB/s, ratio ${round(ratio, 3)} (target >= ${TARGET_RATIO}); peak RSS ${round(peakRss / 1024 ** 2, 0)} MiB`,
  );
  ctx.log(
    `codec floor: decode ${round(floor.decodeCpuMs / 1000, 2)} s + encode (${floor.cheapestEncode}) ${round(floor.encode[floor.cheapestEncode]!.cpuMs / 1000, 2)} s of CPU; ceiling ratio on ${threads} cores ${round(codecCeiling, 3)}`,
  );
  return {
    params: {
      quick: ctx.quick,
      files: size.files,
      rowsPerFile: size.rowsPerFile,
      rows: table.totalRows,
      inputBytes: table.totalBytes,
      columns: table.schema.length,
      compression: 'zstd',
      targetFileSize: 128 * 1024 * 1024,
      runs: size.runs,
      duckdbThreads: threads,
    },
    results: {
      weir: {
        method:
          'optimize(store) defaults, in a fresh process: planOptimize, 2 bins on p-queue, executeScan on a decode worker thread -> one streamed zstd file per bin encoded on the encode pool worker, group commits, LocalStore',
        medianMs: round(weir.medianMs, 1),
        samplesMs: weir.samplesMs.map((x) => round(x, 1)),
        mbPerSec: round(weirMbPerSec, 2),
        rowsPerSec: Math.round(table.totalRows / (weir.medianMs / 1000)),
        filesBefore: w.filesBefore,
        filesAfter: w.filesAfter,
        bytesWritten: w.numAddedBytes,
        commits: weir.median.commits,
        cpuMs: round(weir.median.cpuMs, 1),
        peakRssBytes: peakRss,
        polledPeakRssBytes: Math.max(...runs.map((v) => v.peakRssBytes)),
        baselineRssBytes: weir.median.baselineRssBytes,
        peakRssUnderLimit: peakRss < RSS_LIMIT,
      },
      codecFloor: {
        method:
          'fresh process, one thread: pw.readParquet of every input file (freed at once), then its rows, coalesced as the Weir encoder does (about 65,536 rows) and already in WebAssembly memory, through transformParquetStream (ZSTD) with each writer configuration; floorCpuMs = decode + the cheapest encode',
        ...roundFloor(floor),
      },
    },
    reference: {
      duckdb: {
        method: `SET threads=${threads}; COPY (SELECT * FROM read_parquet([files])) TO out.parquet (FORMAT parquet, COMPRESSION zstd)`,
        medianMs: round(duck.medianMs, 1),
        samplesMs: duck.samplesMs.map((x) => round(x, 1)),
        mbPerSec: round(duckMbPerSec, 2),
        rowsPerSec: Math.round(table.totalRows / (duck.medianMs / 1000)),
        cpuMs: round(duck.median, 1),
        bytesWritten: duckBytes,
        processMaxRssBytes: processMaxRssBytes(),
      },
    },
    ratio: {
      mbPerSec: round(ratio, 3),
      pairedMedian: round(pairRatio, 3),
      bestRun: round(bestRun, 3),
      cpu: round(cpuRatio, 3),
      codecCeiling: round(codecCeiling, 3),
    },
  };
}

function roundFloor(floor: Floor) {
  const encode = Object.fromEntries(
    Object.entries(floor.encode).map(([k, v]) => [
      k,
      { ms: round(v.ms, 1), cpuMs: round(v.cpuMs, 1), bytes: v.bytes },
    ]),
  );
  return {
    rows: floor.rows,
    decodeMs: round(floor.decodeMs, 1),
    decodeCpuMs: round(floor.decodeCpuMs, 1),
    encode,
    cheapestEncode: floor.cheapestEncode,
    floorCpuMs: round(floor.floorCpuMs, 1),
  };
}

const bench: Bench = {
  description:
    'OPTIMIZE of 5,000 small files (2,000 rows each; 500 quick) into 128 MiB files vs DuckDB read_parquet -> one zstd file; ratio = Weir MB/s / DuckDB MB/s (target >= 0.5), peak RSS < 1 GiB',
  run,
};
export default bench;
