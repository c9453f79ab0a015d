/**
 * Auto-compaction policy: decides, from a snapshot alone, whether a table has accumulated
 * enough small files to be worth compacting, and plans a bounded OPTIMIZE for it. Pure and
 * synchronous, so a streaming sink can ask after every commit at no IO cost, and run
 * `autoCompact` (optimize.ts) only when the answer is yes.
 *
 * Rules: a file is small when it is below `smallFileSize` (default: half the target size) or
 * carries a deletion vector; a partition is due when it holds at least `minSmallFiles` (default
 * 50) small files; a run rewrites at most `maxBytesPerRun` (default 512 MiB) of input, partitions
 * with the most small files first, so a sink's background work stays bounded. Bins are
 * size-tiered (`tierRatio`, default 2, see optimize-plan.ts): a file that earlier runs grew is
 * rewritten only once about as many new bytes have gathered beside it, so a partition that
 * streams for hours is not rewritten whole every few seconds (a partition's rows are rewritten
 * O(log n) times, and a run's cost stays near the size of what arrived since the last one).
 */
import { WeirError } from '@weir/storage';
import type { AddAction } from '../actions/types.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { type OptimizePlan, planOptimize, tableTargetFileSize } from './optimize-plan.js';

export interface AutoCompactionThresholds {
  /** Output file size to aim for (default `delta.targetFileSize`, else 128 MiB). */
  targetSize?: number;
  /** Files below this size count as small (default: targetSize / 2). */
  smallFileSize?: number;
  /** Small files a partition must hold before it is compacted (default 50). */
  minSmallFiles?: number;
  /** Input bytes one run may rewrite (default 512 MiB). */
  maxBytesPerRun?: number;
  /** A file joins a bin only while at most this many times the bin's bytes (default 2; Infinity: no tiers). */
  tierRatio?: number;
}

export const DEFAULT_MIN_SMALL_FILES = 50;
export const DEFAULT_AUTO_MAX_BYTES_PER_RUN = 512 * 1024 * 1024;
export const DEFAULT_TIER_RATIO = 2;

function check(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) {
    throw new WeirError('INVALID_ARGUMENT', `auto-compaction: ${name} must be a positive integer, not ${v}`, {
      details: { option: name, value: v },
    });
  }
}

export class AutoCompactionPolicy {
  readonly thresholds: Readonly<AutoCompactionThresholds>;

  constructor(thresholds: AutoCompactionThresholds = {}) {
    check('targetSize', thresholds.targetSize);
    check('smallFileSize', thresholds.smallFileSize);
    check('minSmallFiles', thresholds.minSmallFiles);
    check('maxBytesPerRun', thresholds.maxBytesPerRun);
    const ratio = thresholds.tierRatio;
    if (ratio !== undefined && !(ratio >= 1)) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `auto-compaction: tierRatio must be a number >= 1, not ${ratio}`,
        {
          details: { option: 'tierRatio', value: ratio },
        },
      );
    }
    this.thresholds = { ...thresholds };
  }

  /** The effective thresholds for a table (table properties fill what was not given). */
  resolve(snapshot: Snapshot): Required<AutoCompactionThresholds> {
    const targetSize = this.thresholds.targetSize ?? tableTargetFileSize(snapshot);
    return {
      targetSize,
      smallFileSize: this.thresholds.smallFileSize ?? Math.max(1, Math.floor(targetSize / 2)),
      minSmallFiles: this.thresholds.minSmallFiles ?? DEFAULT_MIN_SMALL_FILES,
      maxBytesPerRun: this.thresholds.maxBytesPerRun ?? DEFAULT_AUTO_MAX_BYTES_PER_RUN,
      tierRatio: this.thresholds.tierRatio ?? DEFAULT_TIER_RATIO,
    };
  }

  /** Small files per partition (keyed by the JSON of its partition values). */
  smallFilesByPartition(snapshot: Snapshot): Map<string, number> {
    const { smallFileSize } = this.resolve(snapshot);
    const counts = new Map<string, number>();
    const isSmall = (f: AddAction) => f.size < smallFileSize || f.deletionVector !== undefined;
    for (const f of snapshot.files()) {
      if (!isSmall(f)) continue;
      const key = JSON.stringify(Object.entries(f.partitionValues).sort(([a], [b]) => (a < b ? -1 : 1)));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /** Whether some partition holds at least `minSmallFiles` small files. */
  shouldCompact(snapshot: Snapshot): boolean {
    const { minSmallFiles } = this.resolve(snapshot);
    for (const n of this.smallFilesByPartition(snapshot).values()) if (n >= minSmallFiles) return true;
    return false;
  }

  /** The bounded OPTIMIZE plan for the due partitions, or undefined when nothing is due. */
  planFor(snapshot: Snapshot): OptimizePlan | undefined {
    if (!this.shouldCompact(snapshot)) return undefined;
    const t = this.resolve(snapshot);
    const plan = planOptimize(snapshot, {
      targetSize: t.targetSize,
      minFileSize: t.smallFileSize,
      minFilesPerPartition: t.minSmallFiles,
      maxBytesPerRun: t.maxBytesPerRun,
      ...(Number.isFinite(t.tierRatio) ? { tierRatio: t.tierRatio } : {}),
    });
    return plan.bins.length > 0 ? plan : undefined;
  }
}
