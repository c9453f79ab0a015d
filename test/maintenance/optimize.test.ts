/**
 * OPTIMIZE through the public API on real tables: bin-packing per partition with rows, partition
 * values and stats preserved; the commit's shape (OPTIMIZE, dataChange=false, Spark-style
 * parameters and metrics); partition filters; deletion vectors applied (reference tables written
 * by Spark/Databricks); group commits; a concurrent remove drops the group (before the commit or
 * in the commit race) while a concurrent append does not; a failing bin keeps the finished
 * groups; dry runs; auto-compaction.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type Action,
  AutoCompactionPolicy,
  AutoCompactor,
  autoCompact,
  batchToJsonRows,
  createTable,
  executeOptimize,
  loadSnapshot,
  OptimizeFailedError,
  optimize,
  parseCommitFile,
  parseSchema,
  parseStats,
  planOptimize,
  RecordBatchBuilder,
  readHistory,
  scanSnapshot,
  writeTable,
} from '@weir/delta';
import { queryTables } from '@weir/sql';
import { LocalStore, type ObjectStore, WeirError } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalRows, REPO_ROOT, tableDir } from '../support/reference-tables.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: true, metadata: {} },
      { name: 'day', type: 'date', nullable: true, metadata: {} },
      { name: 'name', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);

const root = mkdtempSync(path.join(os.tmpdir(), 'weir-optimize-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = () => path.join(root, `t${++n}`);

/** A table partitioned by day with `batches` appends of `rows` rows in each of `days`. */
async function smallFilesTable(batches: number, days = ['2024-05-01', '2024-05-02'], rows = 10) {
  const dir = newDir();
  const store = new LocalStore(dir);
  await createTable(store, { schema, partitionColumns: ['day'] });
  let id = 0;
  for (let i = 0; i < batches; i++) {
    const b = new RecordBatchBuilder(schema);
    for (const day of days) for (let k = 0; k < rows; k++) b.append({ id: id++, day, name: `n${id}` });
    await writeTable(store, b.flush());
  }
  return { dir, store };
}

async function rows(store: ObjectStore, version?: number) {
  const snapshot = await loadSnapshot(store, version !== undefined ? { version } : {});
  const out: Record<string, unknown>[] = [];
  for await (const b of scanSnapshot(store, snapshot)) out.push(...batchToJsonRows(b));
  return canonicalRows(out as never);
}

async function commitActions(store: ObjectStore, version: number): Promise<Action[]> {
  const key = `_delta_log/${String(version).padStart(20, '0')}.json`;
  return parseCommitFile(new TextDecoder().decode(await store.get(key)), { file: key, version });
}

/** A store that runs `before` once, just before the first write of a commit file at or after `version`. */
function interceptCommit(inner: ObjectStore, before: () => Promise<void>): ObjectStore {
  let fired = false;
  return {
    root: inner.root,
    get: (k) => inner.get(k),
    getRange: (k, o, l) => inner.getRange(k, o, l),
    head: (k) => inner.head(k),
    put: (k, d, o) => inner.put(k, d, o),
    list: (p, o) => inner.list(p, o),
    delete: (k) => inner.delete(k),
    async putIfAbsent(k, d) {
      if (!fired && /^_delta_log\/\d{20}\.json$/.test(k)) {
        fired = true;
        await before();
      }
      return inner.putIfAbsent(k, d);
    },
  };
}

/** Three days of small files, and a view of the store where one file of the last day cannot be read. */
async function tableWithUnreadableDay() {
  const { store } = await smallFilesTable(3, ['2024-05-01', '2024-05-02', '2024-05-03']);
  const snapshot = await loadSnapshot(store);
  const doomed = snapshot.files().find((f) => f.partitionValues.day === '2024-05-03')!.path;
  const failing: ObjectStore = {
    ...interceptCommit(store, async () => {}),
    async get(k) {
      if (k === doomed) throw new WeirError('IO_ERROR', `disk on fire: ${k}`);
      return store.get(k);
    },
  };
  return { store, failing };
}

/**
 * Runs OPTIMIZE on `dir` in a fresh node process: `hook` (lines of code) wraps `store` so that it
 * aborts `abort`, `options` is the options literal. Returns what the process printed (the
 * error's code); throws when the process does not exit by itself within 30 s.
 */
function abortedOptimizeInFreshProcess(dir: string, hook: readonly string[], options: string): string {
  const script = [
    "import { optimize } from '@weir/delta';",
    "import { LocalStore } from '@weir/storage';",
    `const store = new LocalStore(${JSON.stringify(dir)});`,
    'const abort = new AbortController();',
    ...hook,
    `const err = await optimize(store, ${options}).catch((e) => e);`,
    "process.stdout.write(err?.code ?? 'no error');",
  ].join('\n');
  return execFileSync(
    process.execPath,
    ['--conditions=@weir/source', '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', cwd: REPO_ROOT, timeout: 30_000 },
  );
}

describe('optimize', () => {
  it('compacts the small files of each partition into one, keeping rows, partition values and stats', async () => {
    const { store } = await smallFilesTable(12);
    const before = await loadSnapshot(store);
    expect(before.numFiles).toBe(24);
    const expected = await rows(store);

    const result = await optimize(store);
    expect(result.dryRun).toBe(false);
    expect(result.commits).toHaveLength(1);
    expect(result.droppedBins).toEqual([]);
    expect(result.metrics).toMatchObject({
      numRemovedFiles: 24,
      numAddedFiles: 2,
      rowsRewritten: 240,
      binsCommitted: 2,
      filesBefore: 24,
      filesAfter: 2,
    });

    const after = await loadSnapshot(store);
    expect(after.version).toBe(before.version + 1);
    expect(after.numFiles).toBe(2);
    expect(await rows(store)).toEqual(expected);
    const byDay = new Map(after.files().map((f) => [f.partitionValues.day, f]));
    expect([...byDay.keys()].sort()).toEqual(['2024-05-01', '2024-05-02']);
    const stats = parseStats(byDay.get('2024-05-01')!.stats)!;
    expect(stats.numRecords).toBe(120);
    expect(stats.minValues).toMatchObject({ id: 0 });
    expect(stats.maxValues).toMatchObject({ id: 229 });
    expect(stats.nullCount).toMatchObject({ id: 0, name: 0 });

    // The commit: OPTIMIZE, only dataChange=false actions, Spark's parameters and metrics.
    const actions = await commitActions(store, after.version);
    const info = actions.find((a) => 'commitInfo' in a)!;
    expect('commitInfo' in info && info.commitInfo).toMatchObject({
      operation: 'OPTIMIZE',
      operationParameters: { predicate: '[]', zOrderBy: '[]', auto: false },
      isBlindAppend: false,
      readVersion: before.version,
      operationMetrics: { numRemovedFiles: '24', numAddedFiles: '2', numOutputRows: '240' },
    });
    const changes = actions.filter((a) => 'add' in a || 'remove' in a);
    expect(changes).toHaveLength(26);
    for (const a of changes)
      expect('add' in a ? a.add.dataChange : 'remove' in a && a.remove.dataChange).toBe(false);

    // Nothing left to do.
    const again = await optimize(store);
    expect(again.plan.bins).toEqual([]);
    expect(again.commits).toEqual([]);
    expect((await loadSnapshot(store)).version).toBe(after.version);
  });

  it('compacts only partitions matching --where, and a dry run changes nothing', async () => {
    const { store } = await smallFilesTable(5);
    const dry = await optimize(store, { where: "day = DATE '2024-05-02'", dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.plan.bins.map((b) => [b.partition, b.files.length])).toEqual([['day=2024-05-02', 5]]);
    expect((await loadSnapshot(store)).version).toBe(5);

    const r = await optimize(store, { where: "day = DATE '2024-05-02'" });
    const after = await loadSnapshot(store);
    expect(after.files().filter((f) => f.partitionValues.day === '2024-05-01')).toHaveLength(5);
    expect(after.files().filter((f) => f.partitionValues.day === '2024-05-02')).toHaveLength(1);
    const history = await readHistory(store, { limit: 1 });
    expect(history[0]!.operationParameters).toMatchObject({
      predicate: JSON.stringify(["day = DATE '2024-05-02'"]),
    });
    expect(r.metrics.numRemovedFiles).toBe(5);
  });

  it('commits in groups: binsPerCommit 1 makes one commit per bin', async () => {
    const { store } = await smallFilesTable(4, ['2024-05-01', '2024-05-02', '2024-05-03']);
    const commits: number[] = [];
    const r = await optimize(store, { binsPerCommit: 1, onCommit: (c) => commits.push(c.version) });
    expect(r.commits.map((c) => c.bins)).toEqual([1, 1, 1]);
    expect(commits).toEqual([5, 6, 7]);
    expect((await loadSnapshot(store)).numFiles).toBe(3);
  });

  it('applies deletion vectors of input files (Spark table with DVs, partitioned, with checkpoint)', async () => {
    const dir = newDir();
    cpSync(tableDir('golden-dv-partitioned-with-checkpoint'), dir, { recursive: true });
    const store = new LocalStore(dir);
    const before = await loadSnapshot(store);
    expect(before.files().some((f) => f.deletionVector)).toBe(true);
    const expected = await rows(store);
    const r = await optimize(store);
    expect(r.metrics.binsCommitted).toBeGreaterThan(0);
    const after = await loadSnapshot(store);
    expect(after.files().some((f) => f.deletionVector)).toBe(false);
    expect(await rows(store)).toEqual(expected);
    // The old version still reads the same (time travel is untouched).
    expect(await rows(store, before.version)).toEqual(expected);
  });

  it('decodes on a worker thread when asked: same rows, deletion vectors applied', async () => {
    const dir = newDir();
    cpSync(tableDir('golden-dv-partitioned-with-checkpoint'), dir, { recursive: true });
    const store = new LocalStore(dir);
    const expected = await rows(store);
    const r = await optimize(store, { decodeOnWorker: true, maxConcurrentBins: 3 });
    expect(r.metrics.decodeWorkers).toBe(1);
    expect(r.metrics.binsCommitted).toBeGreaterThan(1);
    expect((await loadSnapshot(store)).files().some((f) => f.deletionVector)).toBe(false);
    expect(await rows(store)).toEqual(expected);
  });

  it('encodes on the encode workers by default, in-thread with encodeWorkers 0: the same rows', async () => {
    const { store: a } = await smallFilesTable(6);
    const { store: b } = await smallFilesTable(6);
    const expected = await rows(a);
    const onWorkers = await optimize(a, {});
    const inThread = await optimize(b, { encodeWorkers: 0 });
    expect(onWorkers.metrics.encodeWorkers).toBeGreaterThan(0);
    expect(inThread.metrics.encodeWorkers).toBe(0);
    expect(onWorkers.metrics.filesAfter).toBe(inThread.metrics.filesAfter);
    expect(await rows(a)).toEqual(expected);
    expect(await rows(b)).toEqual(expected);
    await expect(optimize(b, { encodeWorkers: 1.5, minInputFiles: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('rewrites bins on the background worker: the same rows and file bytes as this thread writes', async () => {
    const copy = () => {
      const dir = newDir();
      cpSync(tableDir('golden-dv-partitioned-with-checkpoint'), dir, { recursive: true });
      return { dir, store: new LocalStore(dir) };
    };
    const a = copy();
    const b = copy();
    const expected = await rows(a.store);
    const onWorker = await optimize(a.store, { background: true, maxConcurrentBins: 2 });
    const inThread = await optimize(b.store, { encodeWorkers: 0 });
    expect(onWorker.metrics).toMatchObject({ background: true, decodeWorkers: 1, encodeWorkers: 1 });
    expect(inThread.metrics.background).toBe(false);
    expect(onWorker.metrics.numAddedFiles).toBe(inThread.metrics.numAddedFiles);
    expect(await rows(a.store)).toEqual(expected);
    // Per partition: same stats, and byte-for-byte the same Parquet (only the names differ).
    const added = async (store: ObjectStore, dir: string) => {
      const out = new Map<string, { stats: string | undefined; bytes: Buffer }>();
      for (const f of (await loadSnapshot(store)).files()) {
        if (f.dataChange !== false) continue; // not written by this OPTIMIZE
        out.set(JSON.stringify(f.partitionValues), {
          stats: f.stats,
          bytes: readFileSync(path.join(dir, decodeURIComponent(f.path))),
        });
      }
      return out;
    };
    const fromWorker = await added(a.store, a.dir);
    const fromThread = await added(b.store, b.dir);
    expect(fromWorker.size).toBeGreaterThan(0);
    expect([...fromWorker.keys()].sort()).toEqual([...fromThread.keys()].sort());
    for (const [k, v] of fromWorker) {
      expect(v.stats).toBe(fromThread.get(k)!.stats);
      expect(v.bytes.equals(fromThread.get(k)!.bytes)).toBe(true);
    }
  });

  it('on the background worker, a read or upload failure fails only its bin: finished groups stay, nothing dangles', async () => {
    const { store, failing: failingRead } = await tableWithUnreadableDay();
    // One bin at a time, committed one by one: the last day's bin fails after two commits.
    const lastBinFails = async (store: ObjectStore) => {
      const err = await optimize(store, { background: true, binsPerCommit: 1, maxConcurrentBins: 1 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OptimizeFailedError);
      expect((err as OptimizeFailedError).result.metrics.binsCommitted).toBe(2);
      return err as OptimizeFailedError;
    };
    expect((await lastBinFails(failingRead)).cause).toMatchObject({ code: 'IO_ERROR' });
    const lastDay = (await loadSnapshot(store)).files().filter((f) => f.partitionValues.day === '2024-05-03');
    expect(lastDay).toHaveLength(3); // its bin failed: the inputs are untouched

    // The upload of the last partition's file fails half way: its bin fails, nothing references it.
    const { store: second } = await smallFilesTable(3, ['2024-05-01', '2024-05-02', '2024-05-03']);
    const uploaded: string[] = [];
    const failingPut: ObjectStore = {
      ...interceptCommit(second, async () => {}),
      async put(k, data, options) {
        if (!k.startsWith('day=2024-05-03/')) return second.put(k, data, options);
        uploaded.push(k);
        const chunks = data instanceof Uint8Array ? [data] : data;
        for await (const _ of chunks)
          throw new WeirError('IO_ERROR', `bucket on fire: ${k}`, { retryable: true });
      },
    };
    await lastBinFails(failingPut);
    expect(uploaded).toHaveLength(1);
    const after = await loadSnapshot(second);
    expect(after.files().some((f) => f.path === uploaded[0])).toBe(false);
    for (const f of after.files())
      await expect(second.head(decodeURIComponent(f.path))).resolves.toBeDefined();
    expect(await rows(second)).toHaveLength(90);
  });

  it('the background worker does not keep a process alive after an aborted rewrite', async () => {
    // A fresh process: abort a background compaction, return, and the process must exit by itself
    // (a cancelled job is still answered for a while, but must not hold the event loop open).
    const { dir } = await smallFilesTable(4);
    const out = abortedOptimizeInFreshProcess(
      dir,
      [
        'const get = store.get.bind(store);',
        "store.get = async (k) => { abort.abort(new Error('stop')); return get(k); };",
      ],
      '{ background: true, signal: abort.signal }',
    );
    expect(out).toBe('OPTIMIZE_FAILED');
  });

  it('an abort while a bin is tried for stitching starts no background rewrite, and the process exits', async () => {
    // The stitch attempt reads footers (getRange) and is refused (row groups too small); an
    // abort during it once let the rewrite be posted to the worker with no way to cancel it, and
    // a sink's process hung after close().
    const { dir } = await smallFilesTable(4);
    const out = abortedOptimizeInFreshProcess(
      dir,
      [
        'const getRange = store.getRange.bind(store);',
        "store.getRange = async (k, o, l) => { const b = await getRange(k, o, l); abort.abort(new Error('stop')); return b; };",
      ],
      '{ background: true, stitchMinRowGroupBytes: 2 ** 30, signal: abort.signal }',
    );
    expect(out).toBe('OPTIMIZE_FAILED');
  });

  it('on the background worker, an abort stops the rewrite and commits nothing of it', async () => {
    const { store } = await smallFilesTable(4);
    const before = await loadSnapshot(store);
    const abort = new AbortController();
    const slow: ObjectStore = {
      ...interceptCommit(store, async () => {}),
      async get(k) {
        abort.abort(new WeirError('ABORTED', 'stop now'));
        return store.get(k);
      },
    };
    const err = await optimize(slow, { background: true, signal: abort.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptimizeFailedError);
    expect((await loadSnapshot(store)).version).toBe(before.version);
  });

  it('rewrites a single file with a deletion vector (krs-table-with-dv-small)', async () => {
    const dir = newDir();
    cpSync(tableDir('krs-table-with-dv-small'), dir, { recursive: true });
    const store = new LocalStore(dir);
    const r = await optimize(store);
    expect(r.metrics).toMatchObject({ numRemovedFiles: 1, numAddedFiles: 1, rowsRewritten: 8 });
    const after = await loadSnapshot(store);
    expect(after.files()[0]!.deletionVector).toBeUndefined();
    const values: unknown[] = [];
    for await (const b of scanSnapshot(store, after)) values.push(...batchToJsonRows(b).map((x) => x.value));
    expect(values).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('drops (and reports) a bin whose input a concurrent writer removed before the commit', async () => {
    const { store } = await smallFilesTable(4);
    const snapshot = await loadSnapshot(store);
    const plan = planOptimize(snapshot);
    // Someone replaces partition 2024-05-02 after the plan was made.
    const b = new RecordBatchBuilder(schema);
    b.append({ id: 999, day: '2024-05-02', name: 'new' });
    await writeTable(store, b.flush(), { mode: 'overwrite', replaceWhere: "day = DATE '2024-05-02'" });
    const r = await executeOptimize(store, snapshot, plan);
    expect(r.droppedBins).toEqual([
      expect.objectContaining({ partition: 'day=2024-05-02', files: 4, reason: 'CONCURRENT_DELETE_READ' }),
    ]);
    expect(r.metrics).toMatchObject({ binsCommitted: 1, binsDropped: 1, numRemovedFiles: 4 });
    const after = await loadSnapshot(store);
    const ids = [] as number[];
    for await (const batch of scanSnapshot(store, after, { where: "day = DATE '2024-05-02'" }))
      ids.push(...batchToJsonRows(batch).map((x) => x.id as number));
    expect(ids).toEqual([999]);
  });

  it('a concurrent remove that wins the commit race drops the group; a concurrent append does not', async () => {
    const { store } = await smallFilesTable(3);
    // The race: just before OPTIMIZE writes its commit file, another writer deletes everything.
    const racingDelete = interceptCommit(store, async () => {
      await writeTable(store, new RecordBatchBuilder(schema).flush(), { mode: 'overwrite' });
    });
    const lost = await optimize(racingDelete);
    expect(lost.commits).toEqual([]);
    expect(lost.droppedBins).toHaveLength(2);
    expect(lost.droppedBins[0]).toMatchObject({ winningVersion: 4 });
    expect(['CONCURRENT_DELETE_READ', 'CONCURRENT_DELETE_DELETE']).toContain(lost.droppedBins[0]!.reason);
    expect((await loadSnapshot(store)).numFiles).toBe(0);

    const { store: store2 } = await smallFilesTable(3);
    const expected = await rows(store2);
    const racingAppend = interceptCommit(store2, async () => {
      const b = new RecordBatchBuilder(schema);
      b.append({ id: 1000, day: '2024-05-01', name: 'late' });
      await writeTable(store2, b.flush());
    });
    const won = await optimize(racingAppend);
    expect(won.droppedBins).toEqual([]);
    expect(won.commits).toHaveLength(1);
    expect(won.commits[0]!.version).toBe(5); // rebased over the append at version 4
    const after = await rows(store2);
    expect(after).toHaveLength(expected.length + 1);
  });

  it('a failing bin stops the run, finished groups stay committed, and the error carries the result', async () => {
    const { store, failing } = await tableWithUnreadableDay();
    const err = await optimize(failing, { binsPerCommit: 1, maxConcurrentBins: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptimizeFailedError);
    const result = (err as OptimizeFailedError).result;
    expect((err as OptimizeFailedError).code).toBe('OPTIMIZE_FAILED');
    expect(result.metrics.binsCommitted).toBe(2);
    const after = await loadSnapshot(store);
    expect(after.files().filter((f) => f.partitionValues.day === '2024-05-03')).toHaveLength(3);
    expect(after.numFiles).toBe(5);
  });

  it('auto-compaction runs only when a partition is due, and marks its commit auto', async () => {
    const { store } = await smallFilesTable(6);
    const policy = new AutoCompactionPolicy({ minSmallFiles: 8 });
    expect(await autoCompact(store, await loadSnapshot(store), policy)).toBeUndefined();
    const eager = new AutoCompactionPolicy({ minSmallFiles: 6 });
    const r = await autoCompact(store, await loadSnapshot(store), eager);
    expect(r?.metrics.numRemovedFiles).toBe(12);
    const history = await readHistory(store, { limit: 1 });
    expect(history[0]!.operationParameters).toMatchObject({ auto: true });
  });

  it('AutoCompactor runs one compaction at a time from a sink-style afterCommit hook', async () => {
    const { store } = await smallFilesTable(6);
    const results: number[] = [];
    const compactor = new AutoCompactor(store, new AutoCompactionPolicy({ minSmallFiles: 4 }), {
      onResult: (r) => results.push(r.metrics.numRemovedFiles),
    });
    const snapshot = await loadSnapshot(store);
    const first = compactor.afterCommit(snapshot);
    expect(first).toBeDefined();
    expect(compactor.running).toBe(true);
    expect(compactor.afterCommit(snapshot)).toBeUndefined(); // one at a time
    await compactor.idle();
    expect(results).toEqual([12]);
    expect(compactor.afterCommit(await loadSnapshot(store))).toBeUndefined(); // nothing due now
  });

  for (const name of [
    'golden-table-with-columnmapping-mode-name',
    'golden-data-reader-timestamp_ntz',
    'golden-kernel-timestamp-int96',
    'golden-data-reader-map',
    'golden-data-reader-escaped-chars',
  ]) {
    it(`rewrites every file of ${name} (written by another engine): same rows through Weir and DuckDB`, async () => {
      const dir = newDir();
      cpSync(tableDir(name), dir, { recursive: true });
      const store = new LocalStore(dir);
      const before = await loadSnapshot(store);
      const expected = await rows(store);
      // minInputFiles 1: even a partition's only file is rewritten, so every value crosses the
      // compaction path (INT96 timestamps come back as INT64 micros, physical names stay).
      const r = await optimize(store, { minInputFiles: 1 });
      expect(r.metrics.numRemovedFiles).toBe(before.numFiles);
      const after = await loadSnapshot(store);
      expect(after.numFiles).toBeLessThanOrEqual(before.numFiles);
      expect(after.files().every((f) => f.dataChange === false)).toBe(true);
      expect(await rows(store)).toEqual(expected);
      // DuckDB reads the new files directly (the `weir sql` view over them).
      const sql = await queryTables('select * from t', { t: store });
      expect(sql.tables[0]!.mode).toBe('duckdb');
      expect(canonicalRows(sql.rows())).toEqual(expected);
    });
  }

  it('is allowed on append-only tables (it changes no data)', async () => {
    const dir = newDir();
    const store = new LocalStore(dir);
    await createTable(store, { schema, properties: { 'delta.appendOnly': 'true' } });
    for (let i = 0; i < 3; i++) {
      const b = new RecordBatchBuilder(schema);
      b.append({ id: i, day: '2024-01-01', name: null });
      await writeTable(store, b.flush());
    }
    const r = await optimize(store);
    expect(r.metrics.numRemovedFiles).toBe(3);
  });
});
