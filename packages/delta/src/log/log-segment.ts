/**
 * The log segment of one table version: the checkpoint to start from (if any) and the JSON
 * commits after it, up to the version. `planLogSegment` is pure (it works on a listing);
 * `listLog` and `readLastCheckpointHint` do the IO.
 *
 * Invariants of a planned segment: commits are contiguous from checkpoint.version + 1 (or 0)
 * to `version`; a multi-part checkpoint is used only when all its parts are listed; a missing
 * version is an error naming it (VERSIONS_NOT_CONTIGUOUS), never skipped; a version older than
 * what log cleanup left (no commit 0, no checkpoint at or below it) is VERSION_NOT_AVAILABLE.
 */
import { listAll, NotFoundError, type ObjectStore, WeirError } from '@weir/storage';
import {
  type CheckpointFile,
  type CheckpointKind,
  classifyLogKey,
  LAST_CHECKPOINT_KEY,
  LOG_DIR,
  type LogFile,
  versionPrefix,
} from './log-files.js';

export interface LogListing {
  /** Commit files by version, ascending. */
  commits: LogFile[];
  /** Complete checkpoints (all parts present), ascending by version. */
  checkpoints: CompleteCheckpoint[];
}

export interface CompleteCheckpoint {
  version: number;
  kind: CheckpointKind;
  /** One file for classic and V2, every part in order for multi-part. */
  files: CheckpointFile[];
}

export interface LogSegment {
  /** Table root, for error messages. */
  table: string;
  version: number;
  checkpoint?: CompleteCheckpoint;
  /** Commits after the checkpoint, ascending, contiguous, ending at `version`. */
  commits: LogFile[];
}

export interface LastCheckpointHint {
  version: number;
  size?: number;
  parts?: number;
  sizeInBytes?: number;
  numOfAddFiles?: number;
  checksum?: string;
  v2Checkpoint?: unknown;
  checkpointSchema?: unknown;
}

/** Groups raw listing entries into commits and complete checkpoints. Pure. */
export function organizeListing(
  entries: readonly { key: string; size: number; lastModified: number }[],
): LogListing {
  const commits: LogFile[] = [];
  const byCheckpoint = new Map<string, CheckpointFile[]>();
  for (const e of entries) {
    const c = classifyLogKey(e.key);
    if (c.type === 'commit') {
      commits.push({ key: e.key, version: c.version, size: e.size, lastModified: e.lastModified });
    } else if (c.type === 'checkpoint') {
      const file: CheckpointFile = {
        key: e.key,
        version: c.version,
        size: e.size,
        lastModified: e.lastModified,
        kind: c.kind,
        format: c.format,
        ...(c.part !== undefined ? { part: c.part } : {}),
        ...(c.parts !== undefined ? { parts: c.parts } : {}),
      };
      // Multi-part checkpoints of the same version with different part counts are different
      // checkpoints (a writer may have retried with another split).
      const group = c.kind === 'multipart' ? `${c.version}/m/${c.parts}` : `${c.version}/${c.kind}/${e.key}`;
      const list = byCheckpoint.get(group);
      if (list) list.push(file);
      else byCheckpoint.set(group, [file]);
    }
  }
  commits.sort((a, b) => a.version - b.version);
  const checkpoints: CompleteCheckpoint[] = [];
  for (const files of byCheckpoint.values()) {
    const first = files[0]!;
    if (first.kind === 'multipart') {
      const parts = first.parts ?? 0;
      const seen = new Map<number, CheckpointFile>();
      for (const f of files) seen.set(f.part ?? 0, f);
      if (seen.size !== parts) continue;
      const ordered: CheckpointFile[] = [];
      for (let p = 1; p <= parts; p++) {
        const f = seen.get(p);
        if (!f) break;
        ordered.push(f);
      }
      if (ordered.length !== parts) continue;
      checkpoints.push({ version: first.version, kind: 'multipart', files: ordered });
    } else {
      checkpoints.push({ version: first.version, kind: first.kind, files: [first] });
    }
  }
  // Prefer, per version: V2 over classic over multi-part (all are equivalent; fewer files wins).
  const rank: Record<CheckpointKind, number> = { v2: 0, classic: 1, multipart: 2 };
  checkpoints.sort((a, b) => a.version - b.version || rank[b.kind] - rank[a.kind]);
  return { commits, checkpoints };
}

export interface PlanOptions {
  table: string;
  /** Target version; latest when absent. */
  version?: number;
}

/** Chooses the checkpoint and commits for a version. Pure. */
export function planLogSegment(listing: LogListing, options: PlanOptions): LogSegment {
  const { table } = options;
  const { commits, checkpoints } = listing;
  if (commits.length === 0 && checkpoints.length === 0) {
    throw new WeirError('NOT_A_DELTA_TABLE', `${table} is not a Delta table: no commits under ${LOG_DIR}`, {
      details: { table },
    });
  }
  const latestCommit = commits.length > 0 ? commits[commits.length - 1]!.version : -1;
  const latestCheckpoint = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1]!.version : -1;
  const latest = Math.max(latestCommit, latestCheckpoint);
  const version = options.version ?? latest;
  if (!Number.isInteger(version) || version < 0) {
    throw new WeirError('INVALID_VERSION', `${table}: invalid version ${version}`, {
      details: { table, version },
    });
  }
  if (version > latest) {
    throw new WeirError(
      'VERSION_NOT_FOUND',
      `${table}: version ${version} does not exist (latest is ${latest})`,
      {
        details: { table, version, latest },
      },
    );
  }
  let checkpoint: CompleteCheckpoint | undefined;
  for (let i = checkpoints.length - 1; i >= 0; i--) {
    const cp = checkpoints[i]!;
    if (cp.version <= version) {
      checkpoint = cp;
      break;
    }
  }
  const start = checkpoint ? checkpoint.version + 1 : 0;
  const needed = commits.filter((c) => c.version >= start && c.version <= version);
  if (!checkpoint && commits[0]?.version !== 0) {
    // No checkpoint at or below the version and no commit 0: the start of the log is gone. When
    // a later checkpoint exists (or the version is older than every commit), log cleanup removed
    // it and the version is simply no longer reconstructable.
    const earliestCheckpoint = checkpoints[0]?.version;
    const earliestCommit = commits[0]?.version;
    if (earliestCheckpoint !== undefined || (earliestCommit !== undefined && version < earliestCommit)) {
      const earliest = earliestCheckpoint ?? earliestCommit!;
      throw new WeirError(
        'VERSION_NOT_AVAILABLE',
        `${table}: version ${version} is no longer reconstructable: its log was cleaned up (the earliest available version is ${earliest})`,
        { details: { table, version, earliest } },
      );
    }
  }
  let expected = start;
  for (const c of needed) {
    if (c.version !== expected) {
      throw new WeirError(
        'VERSIONS_NOT_CONTIGUOUS',
        `${table}: the log is missing version ${expected} (found ${c.version} after ${expected - 1}); versions must be contiguous`,
        { details: { table, missingVersion: expected, foundVersion: c.version } },
      );
    }
    expected++;
  }
  if (expected - 1 !== version) {
    throw new WeirError(
      'VERSIONS_NOT_CONTIGUOUS',
      `${table}: the log is missing version ${expected} needed to read version ${version}`,
      { details: { table, missingVersion: expected, version } },
    );
  }
  return { table, version, ...(checkpoint ? { checkpoint } : {}), commits: needed };
}

/** Lists `_delta_log/` (everything, or only keys after a version's prefix). */
export async function listLog(
  store: ObjectStore,
  options: { fromVersion?: number } = {},
): Promise<LogListing> {
  const listOptions =
    options.fromVersion !== undefined && options.fromVersion > 0
      ? { startAfter: `${LOG_DIR}${versionPrefix(options.fromVersion - 1)}.~` }
      : {};
  const entries = await listAll(store, LOG_DIR, listOptions);
  return organizeListing(entries);
}

/** Reads `_last_checkpoint`; returns undefined when it is missing or unreadable (the log listing decides then). */
export async function readLastCheckpointHint(store: ObjectStore): Promise<LastCheckpointHint | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(LAST_CHECKPOINT_KEY);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    if (typeof parsed.version !== 'number' || !Number.isInteger(parsed.version) || parsed.version < 0)
      return undefined;
    return parsed as unknown as LastCheckpointHint;
  } catch {
    return undefined;
  }
}
