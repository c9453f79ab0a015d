/**
 * Commit timestamps for time travel. Delta uses the commit file's modification time, made
 * monotonic: a commit whose time is not after its predecessor's counts as predecessor + 1 ms
 * (clock skew between writers must not make versions go back in time). Pure.
 */
import { WeirError } from '@weir/storage';
import type { LogListing } from '../log/log-segment.js';

export interface CommitTime {
  version: number;
  timestamp: number;
}

export function commitTimestamps(listing: LogListing): CommitTime[] {
  const out: CommitTime[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for (const c of listing.commits) {
    const ts = c.lastModified > previous ? c.lastModified : previous + 1;
    out.push({ version: c.version, timestamp: ts });
    previous = ts;
  }
  return out;
}

/** The latest version committed at or before `timestamp`. */
export function versionAtTimestamp(times: readonly CommitTime[], timestamp: number, table: string): number {
  if (times.length === 0) {
    throw new WeirError('NOT_A_DELTA_TABLE', `${table} has no commits`, { details: { table } });
  }
  const first = times[0]!;
  if (timestamp < first.timestamp) {
    throw new WeirError(
      'TIMESTAMP_BEFORE_FIRST_COMMIT',
      `${table}: ${new Date(timestamp).toISOString()} is before the earliest available commit (version ${first.version} at ${new Date(first.timestamp).toISOString()})`,
      { details: { table, timestamp, earliestVersion: first.version, earliestTimestamp: first.timestamp } },
    );
  }
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]!.timestamp <= timestamp) lo = mid;
    else hi = mid - 1;
  }
  return times[lo]!.version;
}
