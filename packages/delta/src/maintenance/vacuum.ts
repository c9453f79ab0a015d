/**
 * VACUUM execution: loads the snapshot, lists the table root (full mode) or reads the removes of
 * the log's commits from before the cutoff (lite mode), plans with `planVacuum`, and deletes the
 * chosen files in chunks (`deleteMany` where the store has it).
 *
 * Invariants: nothing is deleted before the whole plan is known; a dry run deletes nothing and
 * reports the same files a real run would delete; lite mode checks (HEAD, bounded parallelism)
 * that expired tombstones' files still exist, so it reports only what it really deletes; nothing
 * under a hidden path (`_delta_log/`, `_`/`.`-prefixed) is ever deleted (the planner guarantees
 * it, the executor asserts it). VACUUM writes no commit (Spark's optional VACUUM START/END
 * entries are not written). On a table with the `vacuumProtocolCheck` feature, vacuum first
 * checks that Weir supports every writer feature of the table. With a retention longer than the
 * table's `delta.deletedFileRetentionDuration`, the removes of the commits inside the window up
 * to the newest checkpoint are read too (one GET per commit): that checkpoint dropped the
 * tombstones older than the table's retention, yet versions inside the window need their files.
 */
import { deleteAll, NotFoundError, type ObjectMeta, type ObjectStore, WeirError } from '@weir/storage';
import { parseCommitFile } from '../actions/codec.js';
import type { RemoveAction } from '../actions/types.js';
import { tombstoneRetentionMs } from '../log/checkpoint-writer.js';
import { LOG_DIR } from '../log/log-files.js';
import { organizeListing } from '../log/log-segment.js';
import { loadSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import { commitTimestamps } from '../snapshot/timestamps.js';
import { assertWritable } from '../table/table-config.js';
import { listLogUntil } from './log-cleanup.js';
import {
  isHiddenPath,
  partitionDirPrefixes,
  planVacuum,
  resolveVacuumRetention,
  type VacuumCandidate,
  type VacuumMode,
  type VacuumPlan,
} from './vacuum-plan.js';

export interface VacuumOptions {
  /**
   * 'lite' (default): files the log says were removed before the cutoff (expired tombstones and
   * the removes of commits still in the log; cost: one GET per such commit); 'full': also every
   * unreferenced file found by listing the table (failed writes).
   */
  mode?: VacuumMode;
  /** Retention in hours (default: the table's delta.deletedFileRetentionDuration, 7 days). */
  retentionHours?: number;
  /** Allow a retention shorter than the table's setting. */
  force?: boolean;
  /** List what would be deleted; delete nothing. */
  dryRun?: boolean;
  /** The snapshot to vacuum against (default: the latest). */
  snapshot?: Snapshot;
  /** The current time in ms (tests); default Date.now(). */
  now?: number;
  /** Keys per delete call (default 1000). */
  deleteBatchSize?: number;
  onProgress?: (progress: VacuumProgress) => void;
}

export interface VacuumProgress {
  filesDeleted: number;
  bytesDeleted: number;
  filesTotal: number;
  bytesTotal: number;
}

export interface VacuumResult {
  table: string;
  version: number;
  mode: VacuumMode;
  dryRun: boolean;
  retentionMs: number;
  /** Files removed before this instant (ms since epoch) were eligible. */
  cutoff: number;
  /** Files deleted (or, in a dry run, that would be deleted), by key. */
  files: VacuumCandidate[];
  /** Files and bytes eligible for deletion (deleted unless a dry run). */
  numFiles: number;
  numBytes: number;
  /** Files and bytes actually deleted (0 in a dry run). */
  filesDeleted: number;
  bytesDeleted: number;
  metrics: VacuumPlan['metrics'] & { commitsScanned: number };
  durationMs: number;
}

const HEAD_CONCURRENCY = 16;

/** Keeps the lite-mode candidates that still exist, with their sizes. */
async function existing(
  store: ObjectStore,
  candidates: readonly VacuumCandidate[],
): Promise<VacuumCandidate[]> {
  const out: (VacuumCandidate | undefined)[] = new Array(candidates.length);
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      const c = candidates[i]!;
      try {
        const meta = await store.head(c.key);
        out[i] = { ...c, size: meta.size };
      } catch (err) {
        if (!(err instanceof NotFoundError || (err instanceof WeirError && err.code === 'NOT_FOUND')))
          throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, candidates.length) }, worker));
  return out.filter((c): c is VacuumCandidate => c !== undefined);
}

/** The remove actions of some JSON commits (bounded parallel GETs). */
async function removesOf(
  store: ObjectStore,
  commits: readonly { key: string; version: number }[],
): Promise<RemoveAction[]> {
  const removes: RemoveAction[] = [];
  for (let i = 0; i < commits.length; i += HEAD_CONCURRENCY) {
    const slice = commits.slice(i, i + HEAD_CONCURRENCY);
    const parsed = await Promise.all(
      slice.map(async (c) =>
        parseCommitFile(new TextDecoder().decode(await store.get(c.key)), {
          file: c.key,
          version: c.version,
        }),
      ),
    );
    for (const actions of parsed) for (const a of actions) if ('remove' in a) removes.push(a.remove);
  }
  return removes;
}

/** Removes in the JSON commits still in the log that were committed before `cutoff`. */
async function expiredRemoves(
  store: ObjectStore,
  cutoff: number,
): Promise<{ removes: RemoveAction[]; commits: number }> {
  const listing = organizeListing(await listLogUntil(store, cutoff));
  const times = commitTimestamps(listing);
  const commits = listing.commits.filter((_, i) => times[i]!.timestamp < cutoff);
  return { removes: await removesOf(store, commits), commits: commits.length };
}

/**
 * Removes in the JSON commits committed at or after `cutoff`, up to the newest checkpoint at or
 * below `version` (later commits are replayed into the snapshot's tombstones as they are).
 */
async function windowRemoves(
  store: ObjectStore,
  cutoff: number,
  version: number,
): Promise<{ removes: RemoveAction[]; commits: number }> {
  const entries: ObjectMeta[] = [];
  for await (const meta of store.list(LOG_DIR)) entries.push(meta);
  const listing = organizeListing(entries);
  const checkpoint = listing.checkpoints.filter((c) => c.version <= version).at(-1);
  if (!checkpoint) return { removes: [], commits: 0 };
  const times = commitTimestamps(listing);
  const commits = listing.commits.filter(
    (c, i) => times[i]!.timestamp >= cutoff && c.version <= checkpoint.version,
  );
  return { removes: await removesOf(store, commits), commits: commits.length };
}

async function listTable(store: ObjectStore): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = [];
  for await (const meta of store.list('')) out.push(meta);
  return out;
}

/** Deletes data files no version inside the retention window references. */
export async function vacuum(store: ObjectStore, options: VacuumOptions = {}): Promise<VacuumResult> {
  const started = performance.now();
  const snapshot = options.snapshot ?? (await loadSnapshot(store));
  const table = snapshot.table;
  const mode = options.mode ?? 'lite';
  if (mode !== 'lite' && mode !== 'full') {
    throw new WeirError(
      'INVALID_ARGUMENT',
      `${table}: vacuum mode must be lite or full, not ${String(mode)}`,
      {
        details: { table, mode: String(mode) },
      },
    );
  }
  if (
    options.retentionHours !== undefined &&
    !(Number.isFinite(options.retentionHours) && options.retentionHours >= 0)
  ) {
    throw new WeirError(
      'INVALID_ARGUMENT',
      `${table}: retention must be a number of hours >= 0, not ${options.retentionHours}`,
      {
        details: { table, retentionHours: options.retentionHours },
      },
    );
  }
  const retentionMs = resolveVacuumRetention(snapshot, {
    ...(options.retentionHours !== undefined
      ? { retentionMs: Math.round(options.retentionHours * 3_600_000) }
      : {}),
    ...(options.force ? { force: true } : {}),
  });
  if (snapshot.protocol.readerFeatures?.includes('vacuumProtocolCheck')) {
    assertWritable(table, snapshot.protocol, snapshot.schema, snapshot.configuration, { deletesData: false });
  }
  const now = options.now ?? Date.now();
  const cutoff = now - retentionMs;
  const listing = mode === 'full' ? await listTable(store) : undefined;
  const fromLog = mode === 'lite' ? await expiredRemoves(store, cutoff) : undefined;
  const tableMs = tombstoneRetentionMs(snapshot.configuration, { table, version: snapshot.version });
  const inWindow = retentionMs > tableMs ? await windowRemoves(store, cutoff, snapshot.version) : undefined;
  const plan = planVacuum(snapshot, listing, {
    mode,
    now,
    retentionMs,
    ...(fromLog ? { expiredRemoves: fromLog.removes } : {}),
    ...(inWindow ? { windowRemoves: inWindow.removes } : {}),
  });
  const files = mode === 'lite' ? await existing(store, plan.deletions) : plan.deletions;
  const prefixes = partitionDirPrefixes(snapshot);
  for (const f of files) {
    if (isHiddenPath(f.key, prefixes)) {
      throw new WeirError(
        'INTERNAL_ERROR',
        `${table}: vacuum planned to delete hidden path ${f.key}; refusing`,
        {
          details: { table, file: f.key },
        },
      );
    }
  }
  const bytesTotal = files.reduce((n, f) => n + (f.size ?? 0), 0);
  const progress: VacuumProgress = { filesDeleted: 0, bytesDeleted: 0, filesTotal: files.length, bytesTotal };
  if (!options.dryRun) {
    const chunk = Math.max(1, Math.floor(options.deleteBatchSize ?? 1000));
    for (let i = 0; i < files.length; i += chunk) {
      const slice = files.slice(i, i + chunk);
      await deleteAll(
        store,
        slice.map((f) => f.key),
      );
      progress.filesDeleted += slice.length;
      progress.bytesDeleted += slice.reduce((n, f) => n + (f.size ?? 0), 0);
      options.onProgress?.({ ...progress });
    }
  }
  return {
    table,
    version: snapshot.version,
    mode,
    dryRun: options.dryRun ?? false,
    retentionMs,
    cutoff: plan.cutoff,
    files,
    numFiles: files.length,
    numBytes: bytesTotal,
    filesDeleted: options.dryRun ? 0 : files.length,
    bytesDeleted: options.dryRun ? 0 : bytesTotal,
    metrics: { ...plan.metrics, commitsScanned: (fromLog?.commits ?? 0) + (inWindow?.commits ?? 0) },
    durationMs: performance.now() - started,
  };
}
