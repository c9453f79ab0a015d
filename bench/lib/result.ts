/**
 * The bench plug-in contract and the result format. A bench module exports a `Bench`; the
 * runner wraps its `BenchResult` into a `BenchReport` (adding the name and machine), prints it
 * as one JSON line and writes it to `bench/results/<name>.json`.
 *
 * Invariants: a report serializes to JSON with keys in the order bench, machine, params,
 * results, reference, ratio; bigints are written as numbers when exactly representable and as
 * strings otherwise; non-finite numbers become null (JSON has no NaN).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MachineInfo } from './machine.js';

export type JsonScalar = string | number | boolean | null;
export type JsonLike =
  | JsonScalar
  | bigint
  | undefined
  | readonly JsonLike[]
  | { readonly [key: string]: JsonLike };
export type JsonObject = { readonly [key: string]: JsonLike };

/** What a bench returns. */
export interface BenchResult {
  /** The inputs that shaped the run (sizes, counts, settings), enough to reproduce it. */
  params: JsonObject;
  /** What was measured for the system under test (Weir). */
  results: JsonObject;
  /** The same measurements for the reference, taken in the same run (e.g. DuckDB). */
  reference: JsonObject;
  /**
   * results vs reference: one number (e.g. weir rows/s / duckdb rows/s; > 1 means Weir is
   * faster), an object of named ratios, or null where no reference applies.
   */
  ratio: number | { readonly [key: string]: number } | null;
}

/** Handed to `Bench.run`. */
export interface BenchContext {
  name: string;
  /** Reduced size that finishes in under a minute. */
  quick: boolean;
  /** Absolute path of `bench/results/`. */
  resultsDir: string;
  /** Absolute path of `bench/results/<name>.<ext>` (charts and other artifacts). */
  artifactPath(ext: string): string;
  /** Progress to stderr, prefixed with the bench name and elapsed seconds. */
  log(message: string): void;
  /** Registers a cleanup (e.g. removing a temp table) run after `run` ends, fails or is interrupted. */
  defer(cleanup: () => Promise<void> | void): void;
  /** Aborted on SIGINT / SIGTERM. */
  signal: AbortSignal;
}

export interface Bench {
  /** One line for `--help` and the README. */
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export interface BenchReport extends BenchResult {
  bench: string;
  machine: MachineInfo;
}

export function makeReport(name: string, machine: MachineInfo, result: BenchResult): BenchReport {
  return {
    bench: name,
    machine,
    params: result.params,
    results: result.results,
    reference: result.reference,
    ratio: result.ratio,
  };
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** One line of JSON, no trailing newline. */
export function reportToJson(report: BenchReport): string {
  return JSON.stringify(report, replacer);
}

/** Writes `<dir>/<bench>.json` (creating the directory) and returns its path. */
export async function writeReport(dir: string, report: BenchReport): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${report.bench}.json`);
  await writeFile(file, `${JSON.stringify(JSON.parse(reportToJson(report)), null, 2)}\n`);
  return file;
}

/** Rounds for readable reports (throughputs, milliseconds). */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
