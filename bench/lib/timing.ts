/**
 * Timing primitives for benches: a monotonic clock (hrtime), percentile summaries over samples,
 * a warm-up-then-repeat helper that keeps the median run, and a peak-RSS sampler.
 *
 * Invariants: all durations are milliseconds as floating-point numbers; percentiles use the
 * nearest-rank method over the sorted samples (p50 of [1, 2, 3, 4] is 2), so every reported
 * value is a value that was actually observed.
 */

/** Milliseconds on a monotonic clock (meaningful only as differences). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A started timer; `elapsedMs()` may be read any number of times. */
export interface Stopwatch {
  elapsedMs(): number;
}

export function startTimer(): Stopwatch {
  const start = process.hrtime.bigint();
  return { elapsedMs: () => Number(process.hrtime.bigint() - start) / 1e6 };
}

/** Runs `fn` and returns its value with its duration. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const timer = startTimer();
  const value = await fn();
  return { ms: timer.elapsedMs(), value };
}

export interface Percentiles {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of already sorted samples; `q` in [0, 1]. */
export function percentileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    p50: percentileOfSorted(sorted, 0.5),
    p90: percentileOfSorted(sorted, 0.9),
    p99: percentileOfSorted(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** The median (lower middle for an even count, so it is an observed value). */
export function median(samples: readonly number[]): number {
  return percentileOfSorted(
    [...samples].sort((a, b) => a - b),
    0.5,
  );
}

export interface RepeatOptions {
  /** Untimed runs first (JIT, page cache, lazy init). Default 1. */
  warmup?: number;
  /** Timed runs. Default 3. */
  runs?: number;
  /** Called before each timed run (and warm-up), e.g. to log progress. */
  onRun?: (index: number, warmup: boolean) => void;
}

export interface RepeatResult<T> {
  samplesMs: number[];
  medianMs: number;
  /** The value returned by the run whose duration is the median. */
  median: T;
  values: T[];
}

/**
 * Runs `fn` `warmup` times untimed, then `runs` times timed, and returns every sample plus the
 * median run (its duration and value). The whole call is timed, so `fn` should do only the
 * work being measured.
 */
export async function repeatMedian<T>(
  fn: () => Promise<T>,
  options: RepeatOptions = {},
): Promise<RepeatResult<T>> {
  const warmup = options.warmup ?? 1;
  const runs = Math.max(1, options.runs ?? 3);
  for (let i = 0; i < warmup; i++) {
    options.onRun?.(i, true);
    await fn();
  }
  const samples: { ms: number; value: T }[] = [];
  for (let i = 0; i < runs; i++) {
    options.onRun?.(i, false);
    samples.push(await timed(fn));
  }
  const byTime = [...samples].sort((a, b) => a.ms - b.ms);
  const mid = byTime[Math.ceil(byTime.length / 2) - 1]!;
  return {
    samplesMs: samples.map((s) => s.ms),
    medianMs: mid.ms,
    median: mid.value,
    values: samples.map((s) => s.value),
  };
}

export interface RssReport {
  /** Highest RSS seen by polling while the sampler ran. */
  peakRssBytes: number;
  /** Highest heap in use seen by polling. */
  peakHeapUsedBytes: number;
  /** Highest memory held by ArrayBuffers (Arrow buffers, wasm copies) seen by polling. */
  peakArrayBuffersBytes: number;
  samples: number;
}

/**
 * Polls `process.memoryUsage()` on an interval (unref'd timer) and on every explicit `sample()`.
 * A timer cannot fire while synchronous work blocks the event loop, so long CPU-bound loops
 * should call `sample()` themselves (e.g. once per batch).
 */
export class PeakRssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peakRss = 0;
  private peakHeap = 0;
  private peakArrayBuffers = 0;
  private count = 0;

  constructor(private readonly intervalMs = 20) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.peakRss) this.peakRss = m.rss;
    if (m.heapUsed > this.peakHeap) this.peakHeap = m.heapUsed;
    if (m.arrayBuffers > this.peakArrayBuffers) this.peakArrayBuffers = m.arrayBuffers;
    this.count++;
  }

  stop(): RssReport {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return {
      peakRssBytes: this.peakRss,
      peakHeapUsedBytes: this.peakHeap,
      peakArrayBuffersBytes: this.peakArrayBuffers,
      samples: this.count,
    };
  }
}

/** The process's lifetime maximum RSS in bytes (`resourceUsage().maxRSS` is in kilobytes). */
export function processMaxRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
