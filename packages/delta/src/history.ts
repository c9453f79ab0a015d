/**
 * Table history: one entry per commit still in the log, newest first, from each commit's
 * `commitInfo` (operation, parameters, metrics, engine) and the commit file's timestamp.
 * Commits whose log was cleaned up (before the listing or while it is read) are simply not
 * listed. `limit` keeps the newest n commits; 0 gives none.
 */
import { NotFoundError, type ObjectStore, WeirError } from '@weir/storage';
import { parseCommitFile } from './actions/codec.js';
import type { CommitInfoAction } from './actions/types.js';
import type { LogFile } from './log/log-files.js';
import { listLog } from './log/log-segment.js';
import { commitTimestamps } from './snapshot/timestamps.js';

export interface HistoryEntry {
  version: number;
  /** Commit time (ms): `commitInfo.inCommitTimestamp` when present, else the commit file's time. */
  timestamp: number;
  operation?: string;
  operationParameters?: Readonly<Record<string, unknown>>;
  operationMetrics?: Readonly<Record<string, unknown>>;
  engineInfo?: string;
  commitInfo?: CommitInfoAction;
}

export async function readHistory(
  store: ObjectStore,
  options: { limit?: number } = {},
): Promise<HistoryEntry[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (Number.isNaN(limit) || limit < 0 || (Number.isFinite(limit) && !Number.isInteger(limit))) {
    throw new WeirError('INVALID_ARGUMENT', `history limit must be a non-negative integer, got ${limit}`, {
      details: { table: store.root, limit },
    });
  }
  const listing = await listLog(store);
  if (listing.commits.length === 0) {
    throw new WeirError(
      'NOT_A_DELTA_TABLE',
      `${store.root} is not a Delta table: no commits under _delta_log/`,
      {
        details: { table: store.root },
      },
    );
  }
  if (limit === 0) return [];
  const times = commitTimestamps(listing);
  const timeByVersion = new Map(times.map((t) => [t.version, t.timestamp]));
  // Newest first; `slice(-n)` with n = 0 would take everything, hence the guard above.
  const selected = listing.commits.slice(-Math.min(limit, listing.commits.length)).reverse();
  const entries: HistoryEntry[] = [];
  for (let i = 0; i < selected.length; i += READ_WINDOW) {
    const window = selected.slice(i, i + READ_WINDOW);
    const read = await Promise.all(window.map((c) => readEntry(store, c, timeByVersion)));
    for (const e of read) if (e) entries.push(e);
  }
  return entries;
}

/** Commits read at once: bounded so a long history does not open thousands of requests. */
const READ_WINDOW = 16;

async function readEntry(
  store: ObjectStore,
  c: LogFile,
  timeByVersion: ReadonlyMap<number, number>,
): Promise<HistoryEntry | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(c.key);
  } catch (err) {
    // Log cleanup removed it after the listing: it is no longer part of the history.
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  const actions = parseCommitFile(new TextDecoder().decode(bytes), { file: c.key, version: c.version });
  let info: CommitInfoAction | undefined;
  for (const a of actions) if ('commitInfo' in a) info = a.commitInfo;
  return {
    version: c.version,
    timestamp: info?.inCommitTimestamp ?? timeByVersion.get(c.version) ?? c.lastModified,
    ...(info?.operation !== undefined ? { operation: info.operation } : {}),
    ...(info?.operationParameters !== undefined ? { operationParameters: info.operationParameters } : {}),
    ...(info?.operationMetrics !== undefined ? { operationMetrics: info.operationMetrics } : {}),
    ...(info?.engineInfo !== undefined ? { engineInfo: info.engineInfo } : {}),
    ...(info ? { commitInfo: info } : {}),
  };
}
