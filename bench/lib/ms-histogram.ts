/**
 * Latency bookkeeping shared by the latency benches: an exact nearest-rank histogram over
 * integer milliseconds (mergeable across child processes) and a fast reader of int64 Arrow
 * columns as numbers.
 */
import type { Data } from 'apache-arrow';
import { type Percentiles, percentiles } from './timing.js';

/** Exact nearest-rank percentiles over integer milliseconds (a count per ms). */
export class MsHistogram {
  private byMs = new Float64Array(4096);
  private n = 0;
  private sum = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;

  add(ms: number, count = 1): void {
    if (ms >= this.byMs.length) {
      const grown = new Float64Array(Math.max(ms + 1, this.byMs.length * 2));
      grown.set(this.byMs);
      this.byMs = grown;
    }
    this.byMs[ms]! += count;
    this.n += count;
    this.sum += ms * count;
    if (ms < this.lo) this.lo = ms;
    if (ms > this.hi) this.hi = ms;
  }

  private rank(q: number): number {
    const target = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let ms = 0; ms < this.byMs.length; ms++) {
      seen += this.byMs[ms]!;
      if (seen >= target) return ms;
    }
    return Number.NaN;
  }

  /** The counts per ms, up to the largest value seen (for the parent to merge runs). */
  counts(): Float64Array {
    return this.byMs.slice(0, Number.isFinite(this.hi) ? this.hi + 1 : 0);
  }

  /** A histogram of several runs' counts. */
  static merge(list: readonly Float64Array[]): MsHistogram {
    const h = new MsHistogram();
    for (const counts of list)
      for (let ms = 0; ms < counts.length; ms++) if (counts[ms]! > 0) h.add(ms, counts[ms]!);
    return h;
  }

  summary(): Percentiles {
    if (this.n === 0) return percentiles([]);
    return {
      count: this.n,
      min: this.lo,
      mean: this.sum / this.n,
      p50: this.rank(0.5),
      p90: this.rank(0.9),
      p99: this.rank(0.99),
      max: this.hi,
    };
  }
}

/** A BigInt64Array's values as numbers (exact below 2^53), without a BigInt per value. */
export function int64Values(data: Data): { at(i: number): number; length: number } {
  const v = data.values as BigInt64Array;
  const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
  return { at: (i) => w[2 * i + 1]! * 4294967296 + (w[2 * i]! >>> 0), length: data.length };
}
