/**
 * Expired log cleanup: deletes JSON commits, checkpoints and their `.crc` companions older than
 * `delta.logRetentionDuration` (default 'interval 30 days'), only below a checkpoint, so that the
 * table stays readable from every version still inside the window.
 *
 * Rule (`planLogCleanup`, pure): commit times are the commit files' modification times made
 * monotonic (as time travel sees them); `cutoff = now - retention`. The version current at the
 * cutoff is the newest one committed at or before it; C is the newest complete checkpoint at or
 * below that version. Every log entry of a version < C is deleted (commits, classic, multi-part
 * and V2 checkpoint files, `<v>.crc`, hidden `.<v>...crc`, compacted logs ending below C);
 * checkpoint C, commit C and everything after stay, so every version >= C (all of the window)
 * can still be loaded, and older ones fail with VERSION_NOT_AVAILABLE. Without such a checkpoint
 * nothing is deleted. `_last_checkpoint` is never touched. V2 sidecars are deleted when no kept
 * V2 checkpoint references them and they are older than the cutoff.
 *
 * `cleanupExpiredLogs` does the IO: it lists `_delta_log/` only up to the first commit after the
 * cutoff (cheap on a long log), deletes oldest first (a crash leaves a readable log), and is what
 * the post-commit checkpoint hook calls when `delta.enableExpiredLogCleanup` is not 'false'
 * (Delta's default is true).
 */
import { deleteAll, type ObjectMeta, type ObjectStore, WeirError } from '@weir/storage';
import { parseCommitFile } from '../actions/codec.js';
import type { Configuration } from '../actions/types.js';
import { actionsFromCheckpointParquet } from '../log/checkpoint-reader.js';
import { parseIntervalMs } from '../log/checkpoint-writer.js';
import { classifyLogKey, LOG_DIR, SIDECAR_DIR, versionPrefix } from '../log/log-files.js';
import { organizeListing } from '../log/log-segment.js';
import { loadSnapshot } from '../snapshot/snapshot.js';
import { commitTimestamps } from '../snapshot/timestamps.js';

export const LOG_RETENTION_KEY = 'delta.logRetentionDuration';
export const DEFAULT_LOG_RETENTION = 'interval 30 days';
export const EXPIRED_LOG_CLEANUP_KEY = 'delta.enableExpiredLogCleanup';

/** `delta.logRetentionDuration` in ms; a bad value is INVALID_TABLE_PROPERTY. */
export function logRetentionMs(configuration: Configuration, table: string): number {
  const raw = configuration[LOG_RETENTION_KEY] ?? DEFAULT_LOG_RETENTION;
  const ms = parseIntervalMs(raw);
  if (ms === undefined) {
    throw new WeirError(
      'INVALID_TABLE_PROPERTY',
      `${table}: ${LOG_RETENTION_KEY} = '${raw}' is not an interval such as 'interval 30 days'`,
      { details: { table, key: LOG_RETENTION_KEY, value: raw } },
    );
  }
  return ms;
}

/** Whether checkpoints clean up the expired log (`delta.enableExpiredLogCleanup`, default true). */
export function expiredLogCleanupEnabled(configuration: Configuration): boolean {
  return configuration[EXPIRED_LOG_CLEANUP_KEY]?.trim().toLowerCase() !== 'false';
}

const VERSIONED = /^_delta_log\/\.?(\d{20})\.(?:(\d{20})\.compacted\.json)?/;

/** The version a log entry belongs to (the end version for a compacted log), or undefined. */
export function logEntryVersion(key: string): number | undefined {
  if (!key.startsWith(LOG_DIR) || key.indexOf('/', LOG_DIR.length) >= 0) return undefined;
  const m = VERSIONED.exec(key);
  if (!m) return undefined;
  return Number(m[2] ?? m[1]);
}

export interface LogCleanupPlan {
  table: string;
  retentionMs: number;
  cutoff: number;
  /** The checkpoint everything below is deleted; undefined when nothing can be. */
  checkpointVersion?: number;
  /** The newest version committed at or before the cutoff, if any. */
  versionAtCutoff?: number;
  /** Log entries to delete, oldest first. */
  deletions: ObjectMeta[];
  /** Whether a V2 checkpoint is among them (its sidecars may have become unreferenced). */
  deletesV2Checkpoint: boolean;
}

/**
 * Plans the cleanup from a listing of `_delta_log/` sorted by key (complete, or at least up to
 * and including the first commit after the cutoff). Pure.
 */
export function planLogCleanup(
  entries: readonly ObjectMeta[],
  options: { table: string; now: number; retentionMs: number },
): LogCleanupPlan {
  const cutoff = options.now - options.retentionMs;
  const base = { table: options.table, retentionMs: options.retentionMs, cutoff };
  const listing = organizeListing(entries);
  let versionAtCutoff: number | undefined;
  for (const t of commitTimestamps(listing)) {
    if (t.timestamp > cutoff) break;
    versionAtCutoff = t.version;
  }
  if (versionAtCutoff === undefined) return { ...base, deletions: [], deletesV2Checkpoint: false };
  const checkpoint = listing.checkpoints.filter((c) => c.version <= versionAtCutoff!).at(-1);
  if (!checkpoint) return { ...base, versionAtCutoff, deletions: [], deletesV2Checkpoint: false };
  const c = checkpoint.version;
  const deletions = entries.filter((e) => {
    const v = logEntryVersion(e.key);
    return v !== undefined && v < c;
  });
  deletions.sort((a, b) => logEntryVersion(a.key)! - logEntryVersion(b.key)! || (a.key < b.key ? -1 : 1));
  const deletesV2Checkpoint = deletions.some((e) => {
    const k = classifyLogKey(e.key);
    return k.type === 'checkpoint' && k.kind === 'v2';
  });
  return { ...base, versionAtCutoff, checkpointVersion: c, deletions, deletesV2Checkpoint };
}

export interface LogCleanupOptions {
  /** Table properties (default: the latest snapshot's). */
  configuration?: Configuration;
  /** Retention in ms (default: delta.logRetentionDuration, 30 days). */
  retentionMs?: number;
  /** The current time in ms (tests); default Date.now(). */
  now?: number;
  /** Plan only. */
  dryRun?: boolean;
}

export interface LogCleanupResult {
  table: string;
  dryRun: boolean;
  retentionMs: number;
  cutoff: number;
  /** The oldest version still readable afterwards (the kept checkpoint), if something was expired. */
  checkpointVersion?: number;
  /** Log files deleted (would be, in a dry run), oldest first. */
  files: string[];
  commitsDeleted: number;
  checkpointFilesDeleted: number;
  otherFilesDeleted: number;
  sidecarsDeleted: number;
  bytesDeleted: number;
  durationMs: number;
}

/** Lists `_delta_log/` up to and including the first commit whose (monotonic) time is after `cutoff`. */
export async function listLogUntil(store: ObjectStore, cutoff: number): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for await (const meta of store.list(LOG_DIR)) {
    out.push(meta);
    if (classifyLogKey(meta.key).type !== 'commit') continue;
    const ts = meta.lastModified > previous ? meta.lastModified : previous + 1;
    previous = ts;
    if (ts > cutoff) break;
  }
  return out;
}

/** Sidecar file names the V2 checkpoints at or after `fromVersion` reference. */
async function referencedSidecars(
  store: ObjectStore,
  table: string,
  fromVersion: number,
): Promise<Set<string>> {
  const names = new Set<string>();
  const startAfter = fromVersion > 0 ? { startAfter: `${LOG_DIR}${versionPrefix(fromVersion - 1)}.~` } : {};
  for await (const meta of store.list(LOG_DIR, startAfter)) {
    const k = classifyLogKey(meta.key);
    if (k.type !== 'checkpoint' || k.kind !== 'v2') continue;
    const bytes = await store.get(meta.key);
    const where = { table, file: meta.key, version: k.version };
    const actions =
      k.format === 'json'
        ? parseCommitFile(new TextDecoder().decode(bytes), where)
        : actionsFromCheckpointParquet(bytes, where);
    for (const a of actions) {
      if (!('sidecar' in a)) continue;
      const p = a.sidecar.path;
      names.add(decodeURIComponent(p.slice(p.lastIndexOf('/') + 1)));
    }
  }
  return names;
}

/** Deletes the expired part of the log (see the module comment). */
export async function cleanupExpiredLogs(
  store: ObjectStore,
  options: LogCleanupOptions = {},
): Promise<LogCleanupResult> {
  const started = performance.now();
  const table = store.root;
  const configuration = options.configuration ?? (await loadSnapshot(store)).configuration;
  const retentionMs = options.retentionMs ?? logRetentionMs(configuration, table);
  const now = options.now ?? Date.now();
  const entries = await listLogUntil(store, now - retentionMs);
  const plan = planLogCleanup(entries, { table, now, retentionMs });
  const files = plan.deletions.map((e) => e.key);
  const sidecars: ObjectMeta[] = [];
  if (plan.deletesV2Checkpoint && plan.checkpointVersion !== undefined) {
    const referenced = await referencedSidecars(store, table, plan.checkpointVersion);
    for await (const meta of store.list(SIDECAR_DIR)) {
      const name = meta.key.slice(SIDECAR_DIR.length);
      if (!name.includes('/') && !referenced.has(name) && meta.lastModified < plan.cutoff)
        sidecars.push(meta);
    }
  }
  if (!options.dryRun) {
    for (let i = 0; i < files.length; i += 1000) await deleteAll(store, files.slice(i, i + 1000));
    await deleteAll(
      store,
      sidecars.map((s) => s.key),
    );
  }
  let commitsDeleted = 0;
  let checkpointFilesDeleted = 0;
  for (const key of files) {
    const k = classifyLogKey(key).type;
    if (k === 'commit') commitsDeleted++;
    else if (k === 'checkpoint') checkpointFilesDeleted++;
  }
  return {
    table,
    dryRun: options.dryRun ?? false,
    retentionMs,
    cutoff: plan.cutoff,
    ...(plan.checkpointVersion !== undefined ? { checkpointVersion: plan.checkpointVersion } : {}),
    files: [...files, ...sidecars.map((s) => s.key)],
    commitsDeleted,
    checkpointFilesDeleted,
    otherFilesDeleted: files.length - commitsDeleted - checkpointFilesDeleted,
    sidecarsDeleted: sidecars.length,
    bytesDeleted: [...plan.deletions, ...sidecars].reduce((n, e) => n + e.size, 0),
    durationMs: performance.now() - started,
  };
}
