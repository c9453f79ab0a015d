/**
 * VACUUM planning, pure and synchronous: which files under the table root no version inside
 * the retention window references, and may therefore be deleted.
 *
 * Delta's rule: with `cutoff = now - retention`, a file is still needed when it is live in the
 * current snapshot or was removed at or after the cutoff (its tombstone's `deletionTimestamp`
 * >= cutoff): every version committed inside the window only references such files. Deletion
 * vector files referenced by any needed file are needed too.
 * - 'lite': only files the log says were removed before the cutoff — the snapshot's expired
 *   tombstones plus the removes of the JSON commits still in the log from before the cutoff
 *   (checkpoints drop expired tombstones, the commits keep them until log cleanup); no listing
 *   of the table; files already gone are skipped by the executor.
 * - 'full': also every other file under the table root that nothing needed references and that
 *   was last modified before the cutoff (failed or abandoned writes). Files newer than the cutoff
 *   are never touched, so a writer's uploads that are not committed yet are safe.
 * - Hidden paths are never touched: any path segment starting with `_` or `.` (`_delta_log/`,
 *   `_change_data/`, `.crc` files, temp files), except directories named `<partition column>=...`
 *   (a partition column may start with `_`).
 * - A retention shorter than the table's `delta.deletedFileRetentionDuration` is refused
 *   (VACUUM_RETENTION_TOO_SHORT) unless forced: a reader or writer may still need the files.
 * - A retention longer than the table's: checkpoints drop tombstones older than the table's
 *   retention, so the snapshot may lack removes that happened inside the longer window. The
 *   caller passes the removes of the commits inside the window (`windowRemoves`); their files
 *   are needed too (the version before such a commit is inside the window).
 */
import { type ObjectMeta, WeirError } from '@weir/storage';
import type { AddAction, DeletionVectorDescriptor, RemoveAction } from '../actions/types.js';
import { tombstoneRetentionMs } from '../log/checkpoint-writer.js';
import { absoluteDvPath } from '../scan/deletion-vector-path.js';
import { dataFileKey } from '../scan/scan-plan.js';
import { columnMappingMode, physicalSchema } from '../schema/column-mapping.js';
import type { Snapshot } from '../snapshot/snapshot.js';

export type VacuumMode = 'lite' | 'full';

export interface VacuumRetentionOptions {
  /** Retention in ms (default: the table's delta.deletedFileRetentionDuration, 7 days). */
  retentionMs?: number;
  /** Allow a retention shorter than the table's setting. */
  force?: boolean;
}

export interface VacuumPlanOptions {
  mode: VacuumMode;
  /** Lite mode: removes read from the log's commits older than the cutoff (beside the tombstones). */
  expiredRemoves?: readonly RemoveAction[];
  /**
   * Removes of commits inside the window (committed at or after the cutoff) that the snapshot's
   * checkpoint may have dropped (a retention longer than the table's): their files are kept.
   */
  windowRemoves?: readonly RemoveAction[];
  /** The current time (ms since epoch). */
  now: number;
  retentionMs: number;
}

export interface VacuumCandidate {
  /** Store key relative to the table root. */
  key: string;
  /** Bytes, when known (from the listing, or the tombstone's size). */
  size?: number;
  reason: 'expired-tombstone' | 'unreferenced';
}

export interface VacuumPlan {
  table: string;
  version: number;
  mode: VacuumMode;
  retentionMs: number;
  /** Files removed before this instant (ms) are no longer needed. */
  cutoff: number;
  deletions: VacuumCandidate[];
  metrics: {
    /** Keys (data and DV files) that versions in the window reference. */
    referencedFiles: number;
    tombstonesRetained: number;
    /** Expired removes seen (tombstones, and in lite mode the log's removes; may repeat a file). */
    tombstonesExpired: number;
    /** Full mode: files listed, hidden ones skipped, unreferenced ones kept for being recent. */
    filesListed: number;
    hiddenSkipped: number;
    recentSkipped: number;
  };
}

/** The retention to vacuum with, refusing one shorter than the table's unless forced. */
export function resolveVacuumRetention(snapshot: Snapshot, options: VacuumRetentionOptions = {}): number {
  const table = snapshot.table;
  const tableMs = tombstoneRetentionMs(snapshot.configuration, { table, version: snapshot.version });
  const ms = options.retentionMs ?? tableMs;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new WeirError('INVALID_ARGUMENT', `${table}: vacuum retention must be >= 0 ms, not ${ms}`, {
      details: { table, retentionMs: ms },
    });
  }
  if (ms < tableMs && !options.force) {
    const hours = (x: number) => {
      const h = +(x / 3_600_000).toFixed(3);
      return `${h} hour${h === 1 ? '' : 's'}`;
    };
    throw new WeirError(
      'VACUUM_RETENTION_TOO_SHORT',
      `${table}: a vacuum retention of ${hours(ms)} is shorter than the table's delta.deletedFileRetentionDuration (${hours(tableMs)}): readers and writers of recent versions may still need those files; force it (weir vacuum --force) only when nothing reads or writes older versions`,
      { details: { table, retentionMs: ms, tableRetentionMs: tableMs } },
    );
  }
  return ms;
}

/** Whether a key (relative to the table root) is hidden from vacuum. */
export function isHiddenPath(key: string, partitionDirPrefixes: readonly string[]): boolean {
  const segments = key.split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (!(s.startsWith('_') || s.startsWith('.'))) continue;
    const isDir = i < segments.length - 1;
    if (isDir && partitionDirPrefixes.some((p) => s.startsWith(p))) continue;
    return true;
  }
  return false;
}

/** `<column>=` for each partition column, logical and physical names. */
export function partitionDirPrefixes(snapshot: Snapshot): string[] {
  const physical = physicalSchema(snapshot.schema, columnMappingMode(snapshot.configuration));
  const out = new Set<string>();
  snapshot.schema.fields.forEach((f, i) => {
    if (!snapshot.partitionColumns.includes(f.name)) return;
    out.add(`${f.name}=`);
    out.add(`${physical.fields[i]!.name}=`);
  });
  return [...out];
}

/** The key of a data file path, or undefined when it lies outside the table root. */
function keyOf(path: string, table: string): string | undefined {
  try {
    return dataFileKey(path, table);
  } catch {
    return undefined;
  }
}

function dvKeyOf(dv: DeletionVectorDescriptor | undefined, table: string): string | undefined {
  if (!dv || dv.storageType === 'i') return undefined;
  try {
    return absoluteDvPath(dv, '', table);
  } catch {
    return undefined; // outside the table root: never ours to delete
  }
}

function isExpired(tombstone: RemoveAction, cutoff: number): boolean {
  return (tombstone.deletionTimestamp ?? 0) < cutoff;
}

/**
 * Keys of every file (data and DV) that a version inside the window references: live files,
 * tombstones removed at or after the cutoff, and the files of `windowRemoves`.
 */
export function referencedKeys(
  snapshot: Snapshot,
  cutoff: number,
  windowRemoves: readonly RemoveAction[] = [],
): Set<string> {
  const table = snapshot.table;
  const keep = new Set<string>();
  const note = (f: AddAction | RemoveAction) => {
    const key = keyOf(f.path, table);
    if (key !== undefined) keep.add(key);
    const dv = dvKeyOf(f.deletionVector, table);
    if (dv !== undefined) keep.add(dv);
  };
  for (const f of snapshot.files()) note(f);
  for (const t of snapshot.tombstones()) if (!isExpired(t, cutoff)) note(t);
  for (const r of windowRemoves) note(r);
  return keep;
}

/**
 * Chooses the files to delete. `listing` (every object under the table root) is needed in
 * 'full' mode and ignored in 'lite' mode.
 */
export function planVacuum(
  snapshot: Snapshot,
  listing: readonly ObjectMeta[] | undefined,
  options: VacuumPlanOptions,
): VacuumPlan {
  const table = snapshot.table;
  const cutoff = options.now - options.retentionMs;
  const keep = referencedKeys(snapshot, cutoff, options.windowRemoves);
  const prefixes = partitionDirPrefixes(snapshot);
  const deletions: VacuumCandidate[] = [];
  const chosen = new Set<string>();
  const expiredKeys = new Set<string>();
  let tombstonesRetained = 0;
  let tombstonesExpired = 0;
  const consider = (key: string | undefined, candidate: Omit<VacuumCandidate, 'key'>) => {
    if (key === undefined || keep.has(key) || chosen.has(key) || isHiddenPath(key, prefixes)) return;
    chosen.add(key);
    deletions.push({ key, ...candidate });
  };
  for (const t of snapshot.tombstones()) {
    if (!isExpired(t, cutoff)) tombstonesRetained++;
  }
  const fromLog = options.mode === 'lite' ? (options.expiredRemoves ?? []) : [];
  for (const t of [...snapshot.tombstones(), ...fromLog]) {
    if (!isExpired(t, cutoff)) continue;
    tombstonesExpired++;
    const key = keyOf(t.path, table);
    if (key !== undefined) expiredKeys.add(key);
    if (options.mode === 'lite') {
      consider(key, { ...(t.size !== undefined ? { size: t.size } : {}), reason: 'expired-tombstone' });
      consider(dvKeyOf(t.deletionVector, table), { reason: 'expired-tombstone' });
    }
  }
  let filesListed = 0;
  let hiddenSkipped = 0;
  let recentSkipped = 0;
  if (options.mode === 'full') {
    if (!listing) {
      throw new WeirError('INVALID_ARGUMENT', `${table}: a full vacuum needs the listing of the table root`, {
        details: { table },
      });
    }
    for (const meta of listing) {
      filesListed++;
      if (isHiddenPath(meta.key, prefixes)) {
        hiddenSkipped++;
        continue;
      }
      if (keep.has(meta.key) || chosen.has(meta.key)) continue;
      if (meta.lastModified >= cutoff) {
        recentSkipped++;
        continue;
      }
      chosen.add(meta.key);
      const reason = expiredKeys.has(meta.key) ? 'expired-tombstone' : 'unreferenced';
      deletions.push({ key: meta.key, size: meta.size, reason });
    }
  }
  deletions.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    table,
    version: snapshot.version,
    mode: options.mode,
    retentionMs: options.retentionMs,
    cutoff,
    deletions,
    metrics: {
      referencedFiles: keep.size,
      tombstonesRetained,
      tombstonesExpired,
      filesListed,
      hiddenSkipped,
      recentSkipped,
    },
  };
}
