/**
 * What an OPTIMIZE reports: progress while it runs, each committed group, the bins dropped
 * because a concurrent writer changed their inputs, totals, and the error that carries the
 * partial result when a run stops midway. Plain data, no IO.
 */
import { WeirError } from '@weir/storage';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { ConflictReason } from '../txn/conflict-checker.js';
import type { OptimizePlan } from './optimize-plan.js';

export interface OptimizeProgress {
  binsDone: number;
  binsTotal: number;
  /** Input files rewritten (in finished bins). */
  filesDone: number;
  filesTotal: number;
  /** Input bytes rewritten (finished bins, plus the read share of running ones). */
  bytesDone: number;
  bytesTotal: number;
  rowsDone: number;
  commits: number;
}

export interface OptimizeCommit {
  version: number;
  bins: number;
  removedFiles: number;
  addedFiles: number;
  removedBytes: number;
  addedBytes: number;
}

export type DropReason = ConflictReason;

export interface DroppedBin {
  bin: number;
  partition: string;
  files: number;
  reason: DropReason;
  /** The file (or what else) that collided. */
  subject?: string;
  /** The version that made the bin obsolete, when known. */
  winningVersion?: number;
}

export interface OptimizeMetrics {
  numRemovedFiles: number;
  numAddedFiles: number;
  numRemovedBytes: number;
  numAddedBytes: number;
  rowsRewritten: number;
  binsCommitted: number;
  binsDropped: number;
  /** Live files of the planned snapshot, and that count after this run's commits. */
  filesBefore: number;
  filesAfter: number;
  /** Worker threads that decoded the inputs (0: all on the calling thread). */
  decodeWorkers: number;
  /** Worker threads the output files could be encoded on (0: encoded on the calling thread). */
  encodeWorkers: number;
  /** Whether the bins were rewritten on the background worker (`background` option). */
  background: boolean;
  /** Bins whose row groups were copied into the output instead of rewritten (`stitchMinRowGroupBytes`). */
  binsStitched: number;
  durationMs: number;
}

export interface OptimizeResult {
  table: string;
  /** The version planned on. */
  readVersion: number;
  dryRun: boolean;
  plan: OptimizePlan;
  commits: OptimizeCommit[];
  droppedBins: DroppedBin[];
  metrics: OptimizeMetrics;
}

/** An OPTIMIZE that stopped on an error; `result` says what was committed before. */
export class OptimizeFailedError extends WeirError {
  readonly result: OptimizeResult;
  constructor(result: OptimizeResult, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const versions = result.commits.map((c) => c.version);
    super(
      'OPTIMIZE_FAILED',
      `${result.table}: optimize stopped after committing ${result.metrics.binsCommitted} of ${result.plan.bins.length} bins${versions.length > 0 ? ` (versions ${versions.join(', ')})` : ' (the table is unchanged)'}: ${reason}`,
      {
        cause,
        retryable: cause instanceof WeirError ? cause.retryable : false,
        details: { table: result.table, readVersion: result.readVersion, committedVersions: versions },
      },
    );
    this.name = 'OptimizeFailedError';
    this.result = result;
  }
}

/** The result of a run that has committed nothing yet. */
export function emptyResult(plan: OptimizePlan, snapshot: Snapshot, dryRun: boolean): OptimizeResult {
  return {
    table: snapshot.table,
    readVersion: snapshot.version,
    dryRun,
    plan,
    commits: [],
    droppedBins: [],
    metrics: {
      numRemovedFiles: 0,
      numAddedFiles: 0,
      numRemovedBytes: 0,
      numAddedBytes: 0,
      rowsRewritten: 0,
      binsCommitted: 0,
      binsDropped: 0,
      filesBefore: snapshot.numFiles,
      filesAfter: snapshot.numFiles,
      decodeWorkers: 0,
      encodeWorkers: 0,
      background: false,
      binsStitched: 0,
      durationMs: 0,
    },
  };
}
