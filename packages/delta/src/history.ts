/**
 * Table history: one entry per commit still in the log, newest first, from each commit's
 * `commitInfo` (operation, parameters, metrics, engine) and the commit file's timestamp.
 * Commits whose log was cleaned up are simply not listed.
 */
import type { ObjectStore } from '@weir/storage';
import { WeirError } from '@weir/storage';
import { parseCommitFile } from './actions/codec.js';
import type { CommitInfoAction } from './actions/types.js';
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
  const times = commitTimestamps(listing);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const selected = listing.commits.slice(-Math.min(limit, listing.commits.length)).reverse();
  const timeByVersion = new Map(times.map((t) => [t.version, t.timestamp]));
  return Promise.all(
    selected.map(async (c) => {
      const text = new TextDecoder().decode(await store.get(c.key));
      const actions = parseCommitFile(text, { file: c.key, version: c.version });
      let info: CommitInfoAction | undefined;
      for (const a of actions) if ('commitInfo' in a) info = a.commitInfo;
      const entry: HistoryEntry = {
        version: c.version,
        timestamp: info?.inCommitTimestamp ?? timeByVersion.get(c.version) ?? c.lastModified,
        ...(info?.operation !== undefined ? { operation: info.operation } : {}),
        ...(info?.operationParameters !== undefined ? { operationParameters: info.operationParameters } : {}),
        ...(info?.operationMetrics !== undefined ? { operationMetrics: info.operationMetrics } : {}),
        ...(info?.engineInfo !== undefined ? { engineInfo: info.engineInfo } : {}),
        ...(info ? { commitInfo: info } : {}),
      };
      return entry;
    }),
  );
}
