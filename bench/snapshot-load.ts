/**
 * `snapshot-load` — time to load a snapshot of a table with a long log: the latest version
 * (target: under 1 s), an old version, an early version (no checkpoint before it), a timestamp
 * (time travel) and an incremental `refresh` after one more commit. The latest load is broken
 * down into hint / list / checkpoint (read, Parquet decode, Arrow -> actions, apply) / tail
 * (read, parse, apply). Reference, in the same run: the raw storage floor with node:fs — list
 * `_delta_log/`, read `_last_checkpoint`, the latest checkpoint's bytes and the tail commits'
 * bytes. ratio = Weir latest load / raw IO floor (medians; lower is better, 1 = IO-bound).
 *
 * Table (temp dir, removed afterwards): 100,000 JSON commits (quick: 10,000), versions 0..N-1.
 * v0 = protocol (1,2) + metaData (8 columns, partitioned by the string column `date`,
 * `delta.checkpointInterval` = 10, `delta.deletedFileRetentionDuration` = 1 hour) + commitInfo.
 * Every later version is commitInfo + one append (1 add, dataChange true, full stats JSON), and
 * every 10th version is instead a compaction (dataChange false) that removes the 9 files
 * appended since the previous one and adds 1: live files grow by one per 10 commits (10,000 at
 * full size, 1,000 quick). Appends carry `txn` actions for two appIds now and then. The
 * partition `date` is a simulated event date that advances every 250 commits. Commit mtimes
 * are 1 s apart (the last is about now), so timestamp time travel is meaningful; tombstones
 * carry the same instants, and a 1-hour retention keeps ~3,200 of them in the latest checkpoint.
 *
 * Commits are written with `serializeCommit` + writeFileSync (no transaction). Checkpoints: the
 * running Snapshot is moved forward with `refresh` and a classic checkpoint written with
 * `writeCheckpoint` (which also maintains `_last_checkpoint`) every 10 commits, but only in the
 * last 1,000 commits and within 200 versions of the old version measured (141 checkpoints).
 * Checkpointing every 10 commits throughout took 55 s of generation at quick size (999
 * checkpoints, ~50 ms each) and would take ~30 min at full size (writeCheckpoint costs
 * ~20 us per action, and checkpoints grow to 13k actions), so `params.checkpointPlan` records
 * the reduced plan; every version measured has the checkpoint it would have with the full
 * plan. During generation only, the store passed to refresh/writeCheckpoint lists `_delta_log/`
 * from an in-memory index of what was written and skips fsync (LocalStore reads the whole
 * directory on every listing and fsyncs every put); the files are the same.
 *
 * Every measurement is the median of 5 timed runs after 1 warm-up, each with a fresh
 * LocalStore and a fresh `loadSnapshot` call (nothing cached between runs; the page cache is
 * warm, so this measures CPU work plus syscalls, not the disk). Each load is checked against
 * the generator's model (live files, app transaction versions), which also checks that the
 * generated log is a valid Delta table. Memory: `peakRssBytes` is polled during the latest
 * loads; `rssBeforeLatestBytes` is the process RSS just before them (generation leftovers).
 */
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type Action,
  type AddAction,
  listLog,
  loadSnapshot,
  parseCommitFile,
  planLogSegment,
  type RemoveAction,
  readLastCheckpointHint,
  readParquetTable,
  Snapshot,
  serializeCommit,
} from '@weir/delta';
import {
  compareKeys,
  type ListOptions,
  LocalStore,
  type ObjectMeta,
  type ObjectStore,
  type PutOptions,
} from '@weir/storage';
// Not exported from the package entry point (writer and replay internals).
import { actionsFromCheckpointParquet } from '../packages/delta/src/log/checkpoint-reader.js';
import { writeCheckpoint } from '../packages/delta/src/log/checkpoint-writer.js';
import { applyActions, emptyState } from '../packages/delta/src/snapshot/replay.js';
import { makeTempDir, removeDir } from './lib/fixtures.js';
import { type Bench, type BenchContext, type BenchResult, round } from './lib/result.js';
import { median, PeakRssSampler, processMaxRssBytes, repeatMedian, startTimer } from './lib/timing.js';

const FULL = { commits: 100_000, oldVersion: 50_000 };
const QUICK = { commits: 10_000, oldVersion: 5_000 };
const EARLY_VERSION = 5;
const CHECKPOINT_INTERVAL = 10;
const COMPACT_EVERY = 10;
const COMMITS_PER_DAY = 250;
const RETENTION = 'interval 1 hour';
/** Checkpoints (every CHECKPOINT_INTERVAL) are written only in the last this-many commits... */
const CHECKPOINT_WINDOW_LATEST = 1000;
/** ...and within this many versions of the old version measured (see the header). */
const CHECKPOINT_WINDOW_OLD = 200;
const RUNS = 5;
const WARMUP = 1;
const TARGET_LATEST_MS = 1000;
const LOG = '_delta_log';

// ---------------------------------------------------------------------------------------------
// The table model
// ---------------------------------------------------------------------------------------------

const SCHEMA = {
  type: 'struct',
  fields: [
    { name: 'event_id', type: 'long', nullable: false, metadata: {} },
    { name: 'user_id', type: 'long', nullable: false, metadata: {} },
    { name: 'amount', type: 'decimal(12,2)', nullable: true, metadata: {} },
    { name: 'currency', type: 'string', nullable: true, metadata: {} },
    { name: 'country', type: 'string', nullable: true, metadata: {} },
    { name: 'merchant', type: 'string', nullable: true, metadata: {} },
    { name: 'event_time', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'date', type: 'string', nullable: true, metadata: {} },
  ],
};

const CURRENCIES = ['AUD', 'BRL', 'CAD', 'CHF', 'EUR', 'GBP', 'INR', 'JPY', 'USD'];
const COUNTRIES = ['AE', 'AR', 'AU', 'BR', 'CA', 'DE', 'ES', 'FR', 'GB', 'IN', 'JP', 'US', 'ZA'];
const MERCHANTS = ['acme_books', 'bluebird_air', 'cafe_nero', 'delta_fuel', 'zenith_games'];

/** Deterministic pseudo-UUID for a file name. */
function fileUuid(version: number, kind: number): string {
  let x = (version * 2654435761 + kind * 40503) >>> 0;
  const hex = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      s += (x >>> 28).toString(16);
    }
    return s;
  };
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

const DAY0 = Date.UTC(2024, 0, 1);
function dayOf(version: number): string {
  return new Date(DAY0 + Math.floor(version / COMMITS_PER_DAY) * 86_400_000).toISOString().slice(0, 10);
}

interface FileModel {
  path: string;
  date: string;
  size: number;
  rows: number;
  firstId: number;
  minAmount: number;
  maxAmount: number;
  minTime: number;
  maxTime: number;
  nulls: number;
}

function statsJson(f: FileModel): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  return JSON.stringify({
    numRecords: f.rows,
    minValues: {
      event_id: f.firstId,
      user_id: 1000 + (f.firstId % 977),
      amount: f.minAmount,
      currency: CURRENCIES[0],
      country: COUNTRIES[0],
      merchant: MERCHANTS[0],
      event_time: iso(f.minTime),
    },
    maxValues: {
      event_id: f.firstId + f.rows - 1,
      user_id: 990_000 + (f.firstId % 9973),
      amount: f.maxAmount,
      currency: CURRENCIES.at(-1),
      country: COUNTRIES.at(-1),
      merchant: MERCHANTS.at(-1),
      event_time: iso(f.maxTime),
    },
    nullCount: {
      event_id: 0,
      user_id: 0,
      amount: f.nulls,
      currency: 0,
      country: Math.floor(f.nulls / 2),
      merchant: 0,
      event_time: 0,
    },
  });
}

function addAction(f: FileModel, modificationTime: number, dataChange: boolean): Action {
  const add: AddAction = {
    path: f.path,
    partitionValues: { date: f.date },
    size: f.size,
    modificationTime,
    dataChange,
    stats: statsJson(f),
  };
  return { add };
}

function removeAction(f: FileModel, deletionTimestamp: number): Action {
  const remove: RemoveAction = {
    path: f.path,
    deletionTimestamp,
    dataChange: false,
    extendedFileMetadata: true,
    partitionValues: { date: f.date },
    size: f.size,
  };
  return { remove };
}

/** What the generator wrote, for checking loads: live files and txn versions per version. */
class Model {
  private readonly pending: FileModel[] = [];
  live = 0;
  readonly txns = new Map<string, number>();
  /** Live file count after each version. */
  readonly liveAt: number[] = [];
  /** Latest txn version per appId after each version (by appId). */
  readonly txnAt = new Map<string, number[]>();
  constructor(
    private readonly instant: (v: number) => number,
    private readonly appIds: readonly string[],
  ) {
    for (const id of appIds) this.txnAt.set(id, []);
  }

  /** The actions of version `v` (>= 1). */
  commit(v: number): Action[] {
    const ts = this.instant(v);
    const actions: Action[] = [];
    if (v % COMPACT_EVERY === 0) {
      const inputs = this.pending.splice(0);
      actions.push({
        commitInfo: {
          timestamp: ts,
          operation: 'OPTIMIZE',
          operationParameters: { predicate: '[]', zOrderBy: '[]' },
          readVersion: v - 1,
          isolationLevel: 'SnapshotIsolation',
          isBlindAppend: false,
          engineInfo: 'weir-bench',
          operationMetrics: { numRemovedFiles: String(inputs.length), numAddedFiles: '1' },
        },
      });
      for (const f of inputs) actions.push(removeAction(f, ts));
      const merged: FileModel = {
        path: `date=${dayOf(v)}/part-00000-${fileUuid(v, 1)}-c000.snappy.parquet`,
        date: dayOf(v),
        size: inputs.reduce((s, f) => s + f.size, 0) - 3_000 * Math.max(0, inputs.length - 1),
        rows: inputs.reduce((s, f) => s + f.rows, 0),
        firstId: inputs[0]?.firstId ?? v * 1000,
        minAmount: Math.min(...inputs.map((f) => f.minAmount)),
        maxAmount: Math.max(...inputs.map((f) => f.maxAmount)),
        minTime: inputs[0]?.minTime ?? ts,
        maxTime: inputs.at(-1)?.maxTime ?? ts,
        nulls: inputs.reduce((s, f) => s + f.nulls, 0),
      };
      actions.push(addAction(merged, ts, false));
      this.live += 1 - inputs.length;
    } else {
      const rows = 800 + ((v * 37) % 400);
      const f: FileModel = {
        path: `date=${dayOf(v)}/part-00000-${fileUuid(v, 0)}-c000.snappy.parquet`,
        date: dayOf(v),
        size: 24_000 + rows * 31,
        rows,
        firstId: v * 1000,
        minAmount: ((v * 13) % 500) / 100 + 0.01,
        maxAmount: 900 + ((v * 7) % 9000) / 100,
        minTime: ts - 1000,
        maxTime: ts - 1,
        nulls: v % 17,
      };
      actions.push({
        commitInfo: {
          timestamp: ts,
          operation: 'WRITE',
          operationParameters: { mode: 'Append', partitionBy: '["date"]' },
          readVersion: v - 1,
          isolationLevel: 'Serializable',
          isBlindAppend: true,
          engineInfo: 'weir-bench',
          operationMetrics: { numFiles: '1', numOutputRows: String(rows) },
        },
      });
      // Two streaming writers record their progress now and then.
      for (const [i, appId] of this.appIds.entries()) {
        if (v % (7 + 4 * i) === 3) {
          actions.push({ txn: { appId, version: v, lastUpdated: ts } });
          this.txns.set(appId, v);
        }
      }
      actions.push(addAction(f, ts, true));
      this.pending.push(f);
      this.live += 1;
    }
    this.liveAt[v] = this.live;
    for (const id of this.appIds) this.txnAt.get(id)![v] = this.txns.get(id) ?? -1;
    return actions;
  }
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

function versionName(v: number): string {
  return String(v).padStart(20, '0');
}

/**
 * Generation-only store: LocalStore for reads; `_delta_log/` listings answered from an index of
 * what the generator wrote (binary search, no readdir); puts without fsync. Same files on disk.
 */
class GeneratorStore implements ObjectStore {
  readonly root: string;
  private readonly local: LocalStore;
  /** `_delta_log/` entries, kept sorted by key. */
  private readonly entries: ObjectMeta[] = [];

  constructor(private readonly dir: string) {
    this.local = new LocalStore(dir);
    this.root = this.local.root;
  }

  record(meta: ObjectMeta): void {
    const e = this.entries;
    if (e.length === 0 || compareKeys(e[e.length - 1]!.key, meta.key) < 0) {
      e.push(meta);
      return;
    }
    const i = this.lowerBound(meta.key);
    if (e[i]?.key === meta.key) e[i] = meta;
    else e.splice(i, 0, meta);
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.entries[mid]!.key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(key: string): Promise<Uint8Array> {
    return this.local.get(key);
  }
  getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return this.local.getRange(key, offset, length);
  }
  head(key: string): Promise<ObjectMeta> {
    return this.local.head(key);
  }
  async put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, _options?: PutOptions): Promise<void> {
    if (!(data instanceof Uint8Array)) throw new Error('GeneratorStore.put: bytes only');
    writeFileSync(path.join(this.dir, key), data);
    if (key.startsWith(`${LOG}/`)) this.record({ key, size: data.byteLength, lastModified: Date.now() });
  }
  putIfAbsent(key: string, data: Uint8Array): Promise<void> {
    return this.local.putIfAbsent(key, data);
  }
  async *list(prefix: string, options: ListOptions = {}): AsyncGenerator<ObjectMeta> {
    if (prefix !== `${LOG}/`) throw new Error(`GeneratorStore.list: only ${LOG}/ (got ${prefix})`);
    let i = 0;
    if (options.startAfter !== undefined) {
      i = this.lowerBound(options.startAfter);
      if (this.entries[i]?.key === options.startAfter) i++;
    }
    // Copy first: the generator does not write while a listing is consumed, but be safe.
    const out = this.entries.slice(i);
    yield* out;
  }
  delete(key: string): Promise<void> {
    return this.local.delete(key);
  }
}

interface Generated {
  commits: number;
  checkpoints: number;
  checkpointVersions: { first: number; last: number };
  instant: (v: number) => number;
  model: Model;
  appIds: readonly string[];
  generateMs: number;
  commitsMs: number;
  refreshMs: number;
  checkpointWriteMs: number;
  commitBytes: number;
}

async function generate(
  ctx: BenchContext,
  dir: string,
  commits: number,
  checkpointAt: (v: number) => boolean,
): Promise<Generated> {
  const total = startTimer();
  const logDir = path.join(dir, LOG);
  mkdirSync(logDir, { recursive: true });
  const t0 = Math.floor(Date.now() / 1000) * 1000 - commits * 1000;
  const instant = (v: number) => t0 + v * 1000;
  const appIds = ['ingest-orders', 'ingest-payments'] as const;
  const model = new Model(instant, appIds);
  const store = new GeneratorStore(dir);
  let commitsMs = 0;
  let refreshMs = 0;
  let checkpointWriteMs = 0;
  let commitBytes = 0;
  let checkpoints = 0;
  let firstCp = -1;
  let lastCp = -1;

  const writeCommit = (v: number, actions: readonly Action[]) => {
    const name = `${versionName(v)}.json`;
    const file = path.join(logDir, name);
    const text = serializeCommit(actions);
    writeFileSync(file, text);
    const seconds = instant(v) / 1000;
    utimesSync(file, seconds, seconds);
    const size = Buffer.byteLength(text);
    commitBytes += size;
    store.record({ key: `${LOG}/${name}`, size, lastModified: instant(v) });
  };

  writeCommit(0, [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      metaData: {
        id: '5f0e7a52-7c1d-4a8e-9a41-0b1f3c9d2e77',
        name: 'transactions',
        format: { provider: 'parquet', options: {} },
        schemaString: JSON.stringify(SCHEMA),
        partitionColumns: ['date'],
        configuration: {
          'delta.checkpointInterval': String(CHECKPOINT_INTERVAL),
          'delta.deletedFileRetentionDuration': RETENTION,
        },
        createdTime: instant(0),
      },
    },
    {
      commitInfo: {
        timestamp: instant(0),
        operation: 'CREATE TABLE',
        operationParameters: { partitionBy: '["date"]' },
        isolationLevel: 'Serializable',
        isBlindAppend: true,
        engineInfo: 'weir-bench',
      },
    },
  ]);
  model.liveAt[0] = 0;
  for (const id of appIds) model.txnAt.get(id)![0] = -1;

  let snapshot = await loadSnapshot(store);
  let lastLog = 0;
  for (let v = 1; v < commits; v++) {
    const tc = startTimer();
    writeCommit(v, model.commit(v));
    commitsMs += tc.elapsedMs();
    if (v % CHECKPOINT_INTERVAL === 0 && checkpointAt(v)) {
      const tr = startTimer();
      snapshot = await snapshot.refresh(store);
      refreshMs += tr.elapsedMs();
      if (snapshot.version !== v || snapshot.numFiles !== model.liveAt[v]) {
        throw new Error(
          `generator: refresh gave version ${snapshot.version} with ${snapshot.numFiles} files, expected ${v} with ${model.liveAt[v]}`,
        );
      }
      const tw = startTimer();
      await writeCheckpoint(store, snapshot, { now: instant(v) });
      const cpFile = path.join(logDir, `${versionName(v)}.checkpoint.parquet`);
      utimesSync(cpFile, instant(v) / 1000, instant(v) / 1000);
      checkpointWriteMs += tw.elapsedMs();
      checkpoints++;
      if (firstCp < 0) firstCp = v;
      lastCp = v;
    }
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const s = total.elapsedMs();
    if (s - lastLog > 10_000) {
      lastLog = s;
      ctx.log(
        `  generated ${v}/${commits} commits, ${checkpoints} checkpoints (commits ${round(commitsMs / 1000, 1)} s, refresh ${round(refreshMs / 1000, 1)} s, checkpoints ${round(checkpointWriteMs / 1000, 1)} s)`,
      );
    }
  }
  return {
    commits,
    checkpoints,
    checkpointVersions: { first: firstCp, last: lastCp },
    instant,
    model,
    appIds,
    generateMs: total.elapsedMs(),
    commitsMs,
    refreshMs,
    checkpointWriteMs,
    commitBytes,
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

function check(gen: Generated, snapshot: Snapshot, version: number, what: string): void {
  const want = gen.model.liveAt[version];
  if (snapshot.version !== version || snapshot.numFiles !== want) {
    throw new Error(
      `${what}: loaded version ${snapshot.version} with ${snapshot.numFiles} live files; the model says version ${version} with ${want}`,
    );
  }
  for (const id of gen.appIds) {
    const want = gen.model.txnAt.get(id)![version]!;
    const got = snapshot.appTransactionVersion(id) ?? -1;
    if (got !== want)
      throw new Error(`${what}: txn ${id} = ${got} at version ${version}, model says ${want}`);
  }
}

type Timed = { samplesMs: number[]; medianMs: number; minMs: number };

function summary(r: { samplesMs: number[]; medianMs: number }): Timed {
  return {
    samplesMs: r.samplesMs.map((x) => round(x)),
    medianMs: round(r.medianMs),
    minMs: round(Math.min(...r.samplesMs)),
  };
}

/** One manual, instrumented pass over the latest load, through the same public steps. */
async function latestBreakdown(dir: string): Promise<Record<string, number>> {
  const store = new LocalStore(dir);
  const table = store.root;
  const phase: Record<string, number> = {};
  let t = startTimer();
  const hint = await readLastCheckpointHint(store);
  phase.hintMs = t.elapsedMs();
  if (!hint) throw new Error('no _last_checkpoint');
  t = startTimer();
  const listing = await listLog(store, { fromVersion: hint.version });
  const segment = planLogSegment(listing, { table });
  phase.listMs = t.elapsedMs();
  const cp = segment.checkpoint;
  if (cp?.files.length !== 1) throw new Error('expected one classic checkpoint');
  const cpFile = cp.files[0]!;
  t = startTimer();
  const bytes = await store.get(cpFile.key);
  phase.checkpointReadMs = t.elapsedMs();
  t = startTimer();
  readParquetTable(bytes, { batchSize: 65_536 });
  phase.checkpointParquetDecodeMs = t.elapsedMs();
  t = startTimer();
  const actions = actionsFromCheckpointParquet(bytes, { table, file: cpFile.key, version: cp.version });
  // actionsFromCheckpointParquet decodes the Parquet again: report the Arrow -> actions part.
  phase.checkpointToActionsMs = Math.max(0, t.elapsedMs() - phase.checkpointParquetDecodeMs);
  t = startTimer();
  const state = emptyState();
  applyActions(state, actions, cp.version);
  phase.checkpointApplyMs = t.elapsedMs();
  t = startTimer();
  const tailBytes = await Promise.all(segment.commits.map((c) => store.get(c.key)));
  phase.tailReadMs = t.elapsedMs();
  t = startTimer();
  const decoder = new TextDecoder();
  const tail = tailBytes.map((b, i) =>
    parseCommitFile(decoder.decode(b), {
      file: segment.commits[i]!.key,
      version: segment.commits[i]!.version,
    }),
  );
  phase.tailParseMs = t.elapsedMs();
  t = startTimer();
  tail.forEach((a, i) => {
    applyActions(state, a, segment.commits[i]!.version);
  });
  phase.tailApplyMs = t.elapsedMs();
  t = startTimer();
  new Snapshot(table, state, segment.commits.at(-1)?.lastModified ?? cpFile.lastModified);
  phase.snapshotMs = t.elapsedMs();
  phase.tailCommits = segment.commits.length;
  phase.checkpointActions = actions.length;
  return phase;
}

/** The raw IO floor of the latest load with node:fs: list, hint, checkpoint bytes, tail bytes. */
async function rawFloor(dir: string): Promise<{ listMs: number; readMs: number; bytes: number }> {
  const logDir = path.join(dir, LOG);
  let t = startTimer();
  const names = await readdir(logDir);
  const listMs = t.elapsedMs();
  t = startTimer();
  const hint = JSON.parse(await readFile(path.join(logDir, '_last_checkpoint'), 'utf8')) as {
    version: number;
  };
  const cpName = `${versionName(hint.version)}.checkpoint.parquet`;
  const tail = names.filter((n) => n.endsWith('.json') && Number(n.slice(0, 20)) > hint.version);
  // mtimes are part of what a listing gives (commit timestamps): stat the tail as LocalStore does.
  const [cp, ...rest] = await Promise.all([
    readFile(path.join(logDir, cpName)),
    ...tail.map((n) => readFile(path.join(logDir, n))),
    ...tail.map((n) => stat(path.join(logDir, n))),
  ]);
  const bytes =
    (cp as Buffer).byteLength + rest.reduce((s, x) => s + (x instanceof Buffer ? x.byteLength : 0), 0);
  return { listMs, readMs: t.elapsedMs(), bytes };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const size = ctx.quick ? QUICK : FULL;
  const dir = await makeTempDir('weir-bench-snapshot-load');
  ctx.defer(() => removeDir(dir));
  const checkpointAt = (v: number) =>
    v >= size.commits - CHECKPOINT_WINDOW_LATEST || Math.abs(v - size.oldVersion) <= CHECKPOINT_WINDOW_OLD;
  ctx.log(
    `generating ${size.commits} commits in ${dir}; a checkpoint every ${CHECKPOINT_INTERVAL} commits in the last ${CHECKPOINT_WINDOW_LATEST} and within ${CHECKPOINT_WINDOW_OLD} of version ${size.oldVersion}`,
  );
  const gen = await generate(ctx, dir, size.commits, checkpointAt);
  const latestVersion = size.commits - 1;
  ctx.log(
    `generated in ${round(gen.generateMs / 1000, 1)} s (commits ${round(gen.commitsMs / 1000, 1)} s, refresh ${round(gen.refreshMs / 1000, 1)} s, ${gen.checkpoints} checkpoints ${round(gen.checkpointWriteMs / 1000, 1)} s)`,
  );
  const logDir = path.join(dir, LOG);
  const latestCpVersion = gen.checkpointVersions.last;
  const latestCpBytes = (await stat(path.join(logDir, `${versionName(latestCpVersion)}.checkpoint.parquet`)))
    .size;
  const logEntries = (await readdir(logDir)).length;

  const opts = (what: string) => ({
    warmup: WARMUP,
    runs: RUNS,
    onRun: (i: number, warm: boolean) => {
      if (warm) ctx.log(`${what}: warm-up`);
      else if (i === RUNS - 1) ctx.log(`${what}: ${RUNS} runs done`);
    },
  });

  // Reference first: the raw IO floor.
  const floor = await repeatMedian(async () => rawFloor(dir), opts('raw IO floor'));

  // Latest. Runs return nothing but the check, so earlier snapshots never weigh on later runs' GC.
  const rssBeforeLatest = process.memoryUsage().rss;
  const rss = new PeakRssSampler().start();
  const latest = await repeatMedian(async () => {
    check(gen, await loadSnapshot(new LocalStore(dir)), latestVersion, 'latest');
    rss.sample();
  }, opts('latest'));
  const latestRss = rss.stop();

  // Breakdown of the latest load (separate instrumented passes).
  const passes: Record<string, number>[] = [];
  await latestBreakdown(dir);
  for (let i = 0; i < RUNS; i++) passes.push(await latestBreakdown(dir));
  const breakdown: Record<string, number> = {};
  for (const k of Object.keys(passes[0]!)) breakdown[k] = round(median(passes.map((p) => p[k]!)));
  breakdown.sumOfMediansMs = round(
    Object.entries(breakdown).reduce((sum, [k, ms]) => (k.endsWith('Ms') ? sum + ms : sum), 0),
  );

  // Old version, early version, timestamp.
  const old = await repeatMedian(
    async () => {
      const s = await loadSnapshot(new LocalStore(dir), { version: size.oldVersion });
      check(gen, s, size.oldVersion, 'old version');
    },
    opts(`version ${size.oldVersion}`),
  );
  const early = await repeatMedian(
    async () => {
      const s = await loadSnapshot(new LocalStore(dir), { version: EARLY_VERSION });
      check(gen, s, EARLY_VERSION, 'early version');
    },
    opts(`version ${EARLY_VERSION}`),
  );
  const tsVersion = size.oldVersion + 5;
  const tsInstant = gen.instant(tsVersion) + 500;
  const byTime = await repeatMedian(async () => {
    const s = await loadSnapshot(new LocalStore(dir), { timestamp: tsInstant });
    check(gen, s, tsVersion, 'timestamp');
  }, opts('timestamp'));

  // Refresh of the latest snapshot after one more commit (an append at version N, 1 s later).
  const base = await loadSnapshot(new LocalStore(dir));
  const tombstones = base.tombstones().length;
  const extraFile = path.join(logDir, `${versionName(size.commits)}.json`);
  writeFileSync(extraFile, serializeCommit(gen.model.commit(size.commits)));
  utimesSync(extraFile, gen.instant(size.commits) / 1000, gen.instant(size.commits) / 1000);
  const refresh = await repeatMedian(async () => {
    check(gen, await base.refresh(new LocalStore(dir)), size.commits, 'refresh');
  }, opts('refresh +1 commit'));

  const floorMs = floor.medianMs;
  ctx.log(
    `latest ${round(latest.medianMs, 1)} ms (target < ${TARGET_LATEST_MS}), raw floor ${round(floorMs, 1)} ms, ratio ${round(latest.medianMs / floorMs, 2)}`,
  );
  ctx.log(`breakdown ${JSON.stringify(breakdown)}`);
  return {
    params: {
      quick: ctx.quick,
      commits: size.commits,
      versions: `0..${latestVersion}`,
      checkpointInterval: CHECKPOINT_INTERVAL,
      checkpointPlan: `every ${CHECKPOINT_INTERVAL} versions in [${size.commits - CHECKPOINT_WINDOW_LATEST}, ${latestVersion}] and [${size.oldVersion - CHECKPOINT_WINDOW_OLD}, ${size.oldVersion + CHECKPOINT_WINDOW_OLD}] only (writing all ${Math.floor(latestVersion / CHECKPOINT_INTERVAL)} takes too long)`,
      checkpoints: gen.checkpoints,
      checkpointVersions: gen.checkpointVersions,
      compactEvery: COMPACT_EVERY,
      commitsPerPartitionDay: COMMITS_PER_DAY,
      columns: SCHEMA.fields.length,
      partitionColumns: ['date'],
      deletedFileRetentionDuration: RETENTION,
      commitSpacingMs: 1000,
      appIds: [...gen.appIds],
      oldVersion: size.oldVersion,
      earlyVersion: EARLY_VERSION,
      timestampVersion: tsVersion,
      runs: RUNS,
      warmup: WARMUP,
      store: 'LocalStore (fresh per load), warm page cache',
    },
    results: {
      liveFiles: base.numFiles,
      tombstonesInLatestSnapshot: tombstones,
      latestCheckpointVersion: latestCpVersion,
      latestCheckpointBytes: latestCpBytes,
      latestCheckpointActions: breakdown.checkpointActions ?? null,
      logEntries,
      commitBytesTotal: gen.commitBytes,
      generation: {
        totalMs: round(gen.generateMs),
        commitsMs: round(gen.commitsMs),
        refreshMs: round(gen.refreshMs),
        checkpointWriteMs: round(gen.checkpointWriteMs),
      },
      latest: {
        ...summary(latest),
        targetMs: TARGET_LATEST_MS,
        underTarget: latest.medianMs < TARGET_LATEST_MS,
      },
      latestBreakdownMs: breakdown,
      oldVersion: { version: size.oldVersion, ...summary(old) },
      earlyVersion: { version: EARLY_VERSION, ...summary(early) },
      timestamp: { instant: new Date(tsInstant).toISOString(), version: tsVersion, ...summary(byTime) },
      refreshOneCommit: summary(refresh),
      peakRssBytes: latestRss.peakRssBytes,
      rssBeforeLatestBytes: rssBeforeLatest,
      peakHeapUsedBytes: latestRss.peakHeapUsedBytes,
      processMaxRssBytes: processMaxRssBytes(),
    },
    reference: {
      rawIoFloor: {
        ...summary(floor),
        listMs: round(floor.median.listMs),
        readMs: round(floor.median.readMs),
        bytesRead: floor.median.bytes,
        what: 'node:fs readdir(_delta_log) + read _last_checkpoint + checkpoint + tail commits (+ stat tail)',
      },
    },
    ratio: { latestVsRawIo: round(latest.medianMs / floorMs, 2) },
  };
}

const bench: Bench = {
  description: 'snapshot load of a 100k-commit table (latest, old version, timestamp, refresh) vs raw fs IO',
  run,
};
export default bench;
