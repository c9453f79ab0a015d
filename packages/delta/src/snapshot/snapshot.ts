/**
 * Snapshot: an immutable view of one table version (protocol, metadata, schema, live files,
 * tombstones, app transaction versions, domain metadata). Built by `loadSnapshot` from
 * `_last_checkpoint` (a hint; listing decides when it is missing, stale or corrupt) + the
 * checkpoint + later JSON commits; `refresh` moves to a newer version by replaying only the
 * commits after this one.
 */
import { compareKeys, type ObjectMeta, type ObjectStore, WeirError } from '@weir/storage';
import { parseCommitFile } from '../actions/codec.js';
import type {
  Action,
  AddAction,
  DomainMetadataAction,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
  TxnAction,
} from '../actions/types.js';
import { readCheckpoint } from '../log/checkpoint-reader.js';
import { classifyLogKey, LOG_DIR, type LogFile, versionPrefix } from '../log/log-files.js';
import {
  type LogListing,
  type LogSegment,
  listLog,
  organizeListing,
  planLogSegment,
  readLastCheckpointHint,
} from '../log/log-segment.js';
import { parseSchema } from '../schema/parse.js';
import type { StructType } from '../schema/types.js';
import { assertReadable } from './protocol-support.js';
import { applyActions, cloneState, emptyState, type TableState } from './replay.js';
import { commitTimestamps, versionAtTimestamp } from './timestamps.js';

export interface SnapshotOptions {
  version?: number;
  /** Time travel: the latest version committed at or before this instant (ms or Date or ISO). */
  timestamp?: number | Date | string;
}

export class Snapshot {
  readonly table: string;
  readonly version: number;
  readonly protocol: ProtocolAction;
  readonly metadata: MetadataAction;
  readonly schema: StructType;
  /** Commit timestamp (ms) of this version, from the commit file's modification time. */
  readonly timestamp: number;
  private readonly state: TableState;
  private fileList: readonly AddAction[] | undefined;

  /** @internal use `loadSnapshot`. */
  constructor(table: string, state: TableState, timestamp: number) {
    if (!state.protocol || !state.metadata) {
      throw new WeirError(
        'CORRUPT_LOG',
        `${table}: version ${state.version} has no ${state.protocol ? 'metaData' : 'protocol'} action in its log`,
        { details: { table, version: state.version } },
      );
    }
    assertReadable(state.protocol, { table, version: state.version });
    this.table = table;
    this.version = state.version;
    this.protocol = state.protocol;
    this.metadata = state.metadata;
    this.schema = parseSchema(state.metadata.schemaString, { table, version: state.version });
    this.timestamp = timestamp;
    this.state = state;
  }

  get partitionColumns(): readonly string[] {
    return this.metadata.partitionColumns;
  }

  get configuration(): Readonly<Record<string, string>> {
    return this.metadata.configuration;
  }

  /** Live data files, in a stable order (by path). */
  files(): readonly AddAction[] {
    if (!this.fileList) {
      this.fileList = [...this.state.files.values()].sort((a, b) =>
        a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
      );
    }
    return this.fileList;
  }

  get numFiles(): number {
    return this.state.files.size;
  }

  /** Files removed and not re-added (for vacuum and checkpoints). */
  tombstones(): readonly RemoveAction[] {
    return [...this.state.tombstones.values()];
  }

  /** The last committed version of an application transaction, or undefined. */
  appTransactionVersion(appId: string): number | undefined {
    return this.state.txns.get(appId)?.version;
  }

  appTransactions(): ReadonlyMap<string, TxnAction> {
    return this.state.txns;
  }

  domainMetadata(domain: string): DomainMetadataAction | undefined {
    return this.state.domains.get(domain);
  }

  domains(): ReadonlyMap<string, DomainMetadataAction> {
    return this.state.domains;
  }

  /** @internal state for writers in this package (never mutated). */
  get tableState(): TableState {
    return this.state;
  }

  /**
   * The snapshot after one more commit whose actions the caller knows (its own commit, made
   * directly on top of this version): no IO. The caller must only pass a commit at version + 1.
   */
  withCommit(version: number, actions: readonly Action[], timestamp: number): Snapshot {
    if (version !== this.version + 1) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `${this.table}: withCommit needs version ${this.version + 1}, got ${version}`,
        {
          details: { table: this.table, version },
        },
      );
    }
    const state = cloneState(this.state);
    applyActions(state, actions, version);
    return new Snapshot(this.table, state, timestamp);
  }

  /** A snapshot of the newest version (or `version`), replaying only commits after this one. */
  async refresh(store: ObjectStore, options: { version?: number } = {}): Promise<Snapshot> {
    const listing = await listLog(store, { fromVersion: this.version + 1 });
    const target = options.version ?? listing.commits.at(-1)?.version ?? this.version;
    if (target === this.version) return this;
    if (target < this.version) return loadSnapshot(store, { version: target });
    const commits = listing.commits.filter((c) => c.version > this.version && c.version <= target);
    if (commits.length !== target - this.version || commits[0]?.version !== this.version + 1) {
      // Something between is missing from a partial listing; a full load decides (and errors precisely).
      return loadSnapshot(store, { version: target });
    }
    const state = cloneState(this.state);
    await replayCommits(store, this.table, state, commits);
    return new Snapshot(this.table, state, commits.at(-1)!.lastModified);
  }
}

async function readCommit(store: ObjectStore, table: string, file: LogFile) {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(file.key);
  } catch (err) {
    // A transient storage failure stays what it is (retryable); only a commit that cannot be
    // read at all is reported as a broken log.
    if (err instanceof WeirError && err.retryable) throw err;
    throw new WeirError('CORRUPT_LOG', `${table}: cannot read commit ${file.key} (version ${file.version})`, {
      cause: err,
      details: { table, file: file.key, version: file.version },
    });
  }
  return parseCommitFile(new TextDecoder().decode(bytes), { file: file.key, version: file.version });
}

/** Reads commits with bounded parallelism and applies them in order. */
async function replayCommits(
  store: ObjectStore,
  table: string,
  state: TableState,
  commits: readonly LogFile[],
) {
  const window = 16;
  for (let i = 0; i < commits.length; i += window) {
    const slice = commits.slice(i, i + window);
    const parsed = await Promise.all(slice.map((c) => readCommit(store, table, c)));
    parsed.forEach((actions, j) => {
      applyActions(state, actions, slice[j]!.version);
    });
  }
}

async function snapshotFromSegment(
  store: ObjectStore,
  segment: LogSegment,
  timestamp: number,
): Promise<Snapshot> {
  const state = emptyState();
  if (segment.checkpoint) {
    const actions = await readCheckpoint(store, segment.table, segment.checkpoint);
    applyActions(state, actions, segment.checkpoint.version);
  }
  await replayCommits(store, segment.table, state, segment.commits);
  return new Snapshot(segment.table, state, timestamp);
}

function timestampOf(listing: LogListing, version: number): number {
  const commit = listing.commits.find((c) => c.version === version);
  if (commit) return commit.lastModified;
  const cp = listing.checkpoints.find((c) => c.version === version);
  return cp?.files[0]?.lastModified ?? 0;
}

/** Versions below the target listed first when loading a given version; grows 10x per retry. */
const VERSION_LIST_WINDOW = 1000;

/**
 * `_delta_log/` from `fromVersion` up to `version`, stopping there: on a long log, listing
 * everything costs far more than loading an old version.
 */
async function listLogUpTo(store: ObjectStore, fromVersion: number, version: number): Promise<LogListing> {
  const options = fromVersion > 0 ? { startAfter: `${LOG_DIR}${versionPrefix(fromVersion - 1)}.~` } : {};
  const beyond = `${LOG_DIR}${versionPrefix(version + 1)}`;
  const entries: ObjectMeta[] = [];
  for await (const meta of store.list(LOG_DIR, options)) {
    if (compareKeys(meta.key, beyond) >= 0) break;
    entries.push(meta);
  }
  return organizeListing(entries);
}

/**
 * The listing that loading `version` needs: from a window of versions below it that holds a
 * checkpoint at or below it (1,000 versions, then 10,000, ..., then from 0), up to `version`.
 * Where planning on it succeeds, it plans the same segment as a full listing (the newest
 * checkpoint at or below `version`, and every commit after it, lie in that window).
 */
async function listLogForVersion(store: ObjectStore, version: number): Promise<LogListing> {
  for (let window = VERSION_LIST_WINDOW; ; window *= 10) {
    const from = Math.max(0, version - window);
    const listing = await listLogUpTo(store, from, version);
    if (from === 0 || listing.checkpoints.some((c) => c.version <= version)) return listing;
  }
}

/**
 * `_delta_log/` up to the first commit whose commit timestamp (made monotonic as in
 * `commitTimestamps`) is after `timestamp`: the version at that instant is before it, and
 * nothing after it matters.
 */
async function listLogUntil(store: ObjectStore, timestamp: number): Promise<LogListing> {
  const entries: ObjectMeta[] = [];
  let previous = Number.NEGATIVE_INFINITY;
  for await (const meta of store.list(LOG_DIR)) {
    entries.push(meta);
    if (classifyLogKey(meta.key).type !== 'commit') continue;
    const ts = meta.lastModified > previous ? meta.lastModified : previous + 1;
    if (ts > timestamp) break;
    previous = ts;
  }
  return organizeListing(entries);
}

/** Loads the snapshot of the latest version, or of a version / timestamp (time travel). */
export async function loadSnapshot(store: ObjectStore, options: SnapshotOptions = {}): Promise<Snapshot> {
  const table = store.root;
  if (options.version !== undefined && options.timestamp !== undefined) {
    throw new WeirError('INVALID_ARGUMENT', 'give either a version or a timestamp, not both');
  }
  // For the latest version, `_last_checkpoint` lets us list only the tail of the log.
  if (options.version === undefined && options.timestamp === undefined) {
    const hint = await readLastCheckpointHint(store);
    if (hint) {
      const tail = await listLog(store, { fromVersion: hint.version });
      if (tail.checkpoints.some((c) => c.version >= hint.version)) {
        const segment = planLogSegment(tail, { table });
        return snapshotFromSegment(store, segment, timestampOf(tail, segment.version));
      }
      // Hint points at a checkpoint that is gone or incomplete: fall back to the full listing.
    }
  }
  if (options.version !== undefined && Number.isSafeInteger(options.version) && options.version >= 0) {
    const listing = await listLogForVersion(store, options.version);
    let segment: LogSegment | undefined;
    try {
      segment = planLogSegment(listing, { table, version: options.version });
    } catch {
      // Missing, cleaned-up or not-yet-written versions: the full listing below decides, and
      // names the error precisely.
    }
    if (segment) return snapshotFromSegment(store, segment, timestampOf(listing, segment.version));
  }
  if (options.timestamp !== undefined) {
    const target = toMillis(options.timestamp);
    const listing = await listLogUntil(store, target);
    let segment: LogSegment | undefined;
    try {
      const version = versionAtTimestamp(commitTimestamps(listing), target, table);
      segment = planLogSegment(listing, { table, version });
    } catch {
      // The full listing below decides, and names the error precisely.
    }
    if (segment) return snapshotFromSegment(store, segment, timestampOf(listing, segment.version));
  }
  const listing = await listLog(store);
  let version = options.version;
  if (options.timestamp !== undefined) {
    version = versionAtTimestamp(commitTimestamps(listing), toMillis(options.timestamp), table);
  }
  const segment = planLogSegment(listing, { table, ...(version !== undefined ? { version } : {}) });
  return snapshotFromSegment(store, segment, timestampOf(listing, segment.version));
}

function toMillis(t: number | Date | string): number {
  // ISO text without a zone means UTC (as Delta and Spark's default session zone do), not local time.
  const zoneless =
    typeof t === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t.trim());
  const text = zoneless ? `${(t as string).trim().replace(' ', 'T')}Z` : t;
  const ms = typeof text === 'number' ? text : text instanceof Date ? text.getTime() : Date.parse(text);
  // NaN would compare false with every commit time and silently resolve to the first version.
  if (!Number.isFinite(ms)) {
    throw new WeirError(
      'INVALID_TIMESTAMP',
      `not a valid timestamp: ${t} (use ISO-8601, e.g. 2024-05-01T12:00:00Z)`,
      {
        details: { timestamp: typeof t === 'string' ? t : String(t) },
      },
    );
  }
  return ms;
}
