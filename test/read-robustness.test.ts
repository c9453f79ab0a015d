/**
 * Robustness of the read path on damaged copies of real tables, through the public API only:
 * every failure is a typed WeirError whose `code` says what is wrong and whose `details` name
 * the file or version; damage that the protocol tolerates (`_last_checkpoint` missing, stale or
 * garbage) still loads the right snapshot. Also: time travel by commit-file time, and
 * `Snapshot.refresh` after a commit appended by hand.
 */
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  batchToJsonRows,
  type JsonValue,
  loadSnapshot,
  readHistory,
  type Snapshot,
  scanSnapshot,
} from '@weir/delta';
import {
  type ListOptions,
  LocalStore,
  type ObjectMeta,
  type ObjectStore,
  type PutOptions,
  WeirError,
} from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';

const REFS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/reference-tables');
const LOG = '_delta_log';
const logName = (v: number) => `${String(v).padStart(20, '0')}.json`;
const logKey = (v: number) => `${LOG}/${logName(v)}`;
const checkpointKey = (v: number) => `${LOG}/${String(v).padStart(20, '0')}.checkpoint.parquet`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A writable copy of a reference table (the shared copies are read-only). */
function copyTable(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `weir-robust-${name}-`));
  dirs.push(dir);
  cpSync(path.join(REFS, name, 'delta'), dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, entry);
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
  }
  return dir;
}

function emptyDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-robust-empty-'));
  dirs.push(dir);
  return dir;
}

async function rowsOf(store: ObjectStore, snapshot: Snapshot): Promise<string[]> {
  const rows: Record<string, JsonValue>[] = [];
  for await (const batch of scanSnapshot(store, snapshot)) rows.push(...batchToJsonRows(batch));
  return rows.map((r) => JSON.stringify(r)).sort();
}

async function errorOf(p: Promise<unknown>): Promise<WeirError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeirError);
  return err as WeirError;
}

async function scanError(store: ObjectStore, snapshot: Snapshot): Promise<WeirError> {
  return errorOf(rowsOf(store, snapshot));
}

/** Rewrites one commit file's lines. */
function editCommit(dir: string, version: number, edit: (lines: string[]) => string[]): void {
  const file = path.join(dir, LOG, logName(version));
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  writeFileSync(file, `${edit(lines).join('\n')}\n`);
}

/** A LocalStore that records the keys it reads. */
class CountingStore implements ObjectStore {
  readonly inner: LocalStore;
  readonly root: string;
  readonly reads: string[] = [];
  constructor(dir: string) {
    this.inner = new LocalStore(dir);
    this.root = this.inner.root;
  }
  get(key: string): Promise<Uint8Array> {
    this.reads.push(key);
    return this.inner.get(key);
  }
  getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    this.reads.push(key);
    return this.inner.getRange(key, offset, length);
  }
  head(key: string): Promise<ObjectMeta> {
    return this.inner.head(key);
  }
  put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<void> {
    return this.inner.put(key, data, options);
  }
  putIfAbsent(key: string, data: Uint8Array): Promise<void> {
    return this.inner.putIfAbsent(key, data);
  }
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectMeta> {
    return this.inner.list(prefix, options);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

describe('a corrupt JSON commit', () => {
  it('is CORRUPT_LOG naming the file, version and line', async () => {
    const dir = copyTable('dat-basic_append');
    editCommit(dir, 1, (lines) => [
      lines[0]!,
      '{"add": {"path": "part-x.parquet", "partitionV',
      ...lines.slice(1),
    ]);
    const store = new LocalStore(dir);
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.details).toMatchObject({ file: logKey(1), version: 1, line: 2 });
    // Older versions do not need the broken commit.
    expect((await loadSnapshot(store, { version: 0 })).version).toBe(0);
    // History reads every commit, so it names the broken one too.
    expect(await errorOf(readHistory(store))).toMatchObject({
      code: 'CORRUPT_LOG',
      details: { file: logKey(1) },
    });
  });

  it('is CORRUPT_LOG naming the field of an action with a wrong type', async () => {
    const dir = copyTable('dat-basic_append');
    editCommit(dir, 1, (lines) => lines.map((l) => l.replace(/"size":\d+/, '"size":"big"')));
    const err = await errorOf(loadSnapshot(new LocalStore(dir)));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.details).toMatchObject({ file: logKey(1), version: 1, field: 'add.size' });
  });

  it('is CORRUPT_LOG for a commit cut off in the middle of a line', async () => {
    const dir = copyTable('dat-basic_append');
    const file = path.join(dir, LOG, logName(1));
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const err = await errorOf(loadSnapshot(new LocalStore(dir)));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.details).toMatchObject({ file: logKey(1), version: 1 });
  });
});

describe('checkpoint damage', () => {
  const TABLE = 'dat-with_checkpoint'; // checkpoint at v2, _last_checkpoint, then v3
  let expectedRows: string[] | undefined;
  async function pristineRows(): Promise<string[]> {
    if (!expectedRows) {
      const store = new LocalStore(path.join(REFS, TABLE, 'delta'));
      expectedRows = await rowsOf(store, await loadSnapshot(store));
    }
    return expectedRows;
  }

  async function expectLoadsLatest(dir: string): Promise<CountingStore> {
    const store = new CountingStore(dir);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.version).toBe(3);
    expect(await rowsOf(store, snapshot)).toEqual(await pristineRows());
    return store;
  }

  it('a truncated checkpoint is CORRUPT_CHECKPOINT naming the file', async () => {
    const dir = copyTable(TABLE);
    const file = path.join(dir, checkpointKey(2));
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const store = new LocalStore(dir);
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('CORRUPT_CHECKPOINT');
    expect(err.details).toMatchObject({ file: checkpointKey(2), version: 2 });
    // A version before the checkpoint is built from JSON alone.
    expect((await loadSnapshot(store, { version: 1 })).version).toBe(1);
  });

  it('a checkpoint overwritten with garbage is CORRUPT_CHECKPOINT naming the file', async () => {
    const dir = copyTable(TABLE);
    writeFileSync(path.join(dir, checkpointKey(2)), 'PAR1 this is not parquet PAR1');
    const err = await errorOf(loadSnapshot(new LocalStore(dir)));
    expect(err.code).toBe('CORRUPT_CHECKPOINT');
    expect(err.details).toMatchObject({ file: checkpointKey(2), version: 2 });
  });

  it('loads from the checkpoint the hint names, without reading older commits', async () => {
    const store = await expectLoadsLatest(copyTable(TABLE));
    expect(store.reads).toContain(checkpointKey(2));
    expect(store.reads).not.toContain(logKey(0));
    expect(store.reads).not.toContain(logKey(2));
  });

  it.each([
    ['garbage', '\u0000\u00ff not json {{{'],
    ['empty', ''],
    ['JSON without a version', '{"size": 4}'],
  ])('a %s _last_checkpoint falls back to listing and loads correctly', async (_label, text) => {
    const dir = copyTable(TABLE);
    writeFileSync(path.join(dir, LOG, '_last_checkpoint'), text);
    const store = await expectLoadsLatest(dir);
    expect(store.reads).toContain(checkpointKey(2));
  });

  it('a _last_checkpoint pointing to a checkpoint that does not exist still loads', async () => {
    const dir = copyTable(TABLE);
    writeFileSync(path.join(dir, LOG, '_last_checkpoint'), '{"version":3,"size":4}');
    await expectLoadsLatest(dir);
    writeFileSync(path.join(dir, LOG, '_last_checkpoint'), '{"version":1,"size":4}');
    await expectLoadsLatest(dir);
    writeFileSync(path.join(dir, LOG, '_last_checkpoint'), '{"version":1000,"size":4}');
    await expectLoadsLatest(dir);
  });

  it('a deleted checkpoint named by _last_checkpoint still loads, from the JSON log', async () => {
    const dir = copyTable(TABLE);
    unlinkSync(path.join(dir, checkpointKey(2)));
    const store = await expectLoadsLatest(dir);
    expect(store.reads).toContain(logKey(0));
  });

  it('a deleted _last_checkpoint still loads', async () => {
    const dir = copyTable(TABLE);
    unlinkSync(path.join(dir, LOG, '_last_checkpoint'));
    await expectLoadsLatest(dir);
  });

  it('an incomplete multi-part checkpoint is ignored', async () => {
    const dir = copyTable('golden-multi-part-checkpoint');
    const store = new LocalStore(dir);
    const expected = await rowsOf(store, await loadSnapshot(store));
    unlinkSync(path.join(dir, LOG, '00000000000000000001.checkpoint.0000000002.0000000002.parquet'));
    const counting = new CountingStore(dir);
    const snapshot = await loadSnapshot(counting);
    expect(snapshot.version).toBe(1);
    expect(counting.reads).toContain(logKey(0));
    expect(await rowsOf(counting, snapshot)).toEqual(expected);
  });
});

describe('protocol', () => {
  const protocolLine = (protocol: Record<string, unknown>) => JSON.stringify({ protocol });

  it('an unknown reader feature is UNSUPPORTED_FEATURE naming it', async () => {
    const dir = copyTable('dat-basic_append');
    editCommit(dir, 0, (lines) =>
      lines.map((l) =>
        l.startsWith('{"protocol"')
          ? protocolLine({
              minReaderVersion: 3,
              minWriterVersion: 7,
              readerFeatures: ['deletionVectors', 'futureReaderFeature'],
              writerFeatures: ['deletionVectors', 'futureReaderFeature'],
            })
          : l,
      ),
    );
    const store = new LocalStore(dir);
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('UNSUPPORTED_FEATURE');
    expect(err.details).toMatchObject({ table: store.root, version: 1, features: ['futureReaderFeature'] });
    expect(await errorOf(loadSnapshot(store, { version: 0 }))).toMatchObject({
      code: 'UNSUPPORTED_FEATURE',
      details: { version: 0 },
    });
  });

  it('minReaderVersion 4 is UNSUPPORTED_PROTOCOL', async () => {
    const dir = copyTable('dat-basic_append');
    editCommit(dir, 0, (lines) =>
      lines.map((l) =>
        l.startsWith('{"protocol"') ? protocolLine({ minReaderVersion: 4, minWriterVersion: 7 }) : l,
      ),
    );
    const err = await errorOf(loadSnapshot(new LocalStore(dir)));
    expect(err.code).toBe('UNSUPPORTED_PROTOCOL');
    expect(err.details).toMatchObject({ version: 1, minReaderVersion: 4 });
  });

  it('a later protocol upgrade blocks only the versions from it on', async () => {
    const dir = copyTable('dat-basic_append');
    writeFileSync(
      path.join(dir, LOG, logName(2)),
      `${protocolLine({ minReaderVersion: 4, minWriterVersion: 7 })}\n`,
    );
    const store = new LocalStore(dir);
    expect(await errorOf(loadSnapshot(store))).toMatchObject({
      code: 'UNSUPPORTED_PROTOCOL',
      details: { version: 2 },
    });
    expect((await loadSnapshot(store, { version: 1 })).version).toBe(1);
  });
});

describe('not a Delta table', () => {
  it('an empty folder is NOT_A_DELTA_TABLE', async () => {
    const store = new LocalStore(emptyDir());
    const err = await errorOf(loadSnapshot(store));
    expect(err.code).toBe('NOT_A_DELTA_TABLE');
    expect(err.details).toMatchObject({ table: store.root });
    expect((await errorOf(readHistory(store))).code).toBe('NOT_A_DELTA_TABLE');
  });

  it('a folder of Parquet files without a log is NOT_A_DELTA_TABLE', async () => {
    const dir = copyTable('dat-basic_append');
    rmSync(path.join(dir, LOG), { recursive: true });
    expect((await errorOf(loadSnapshot(new LocalStore(dir)))).code).toBe('NOT_A_DELTA_TABLE');
  });

  it('a log folder with no commits is NOT_A_DELTA_TABLE', async () => {
    const dir = emptyDir();
    mkdirSync(path.join(dir, LOG));
    writeFileSync(path.join(dir, LOG, '_last_checkpoint'), '{"version":3}');
    writeFileSync(path.join(dir, LOG, '.00000000000000000000.json.crc'), 'x');
    expect((await errorOf(loadSnapshot(new LocalStore(dir)))).code).toBe('NOT_A_DELTA_TABLE');
  });

  it('a folder that does not exist is NOT_A_DELTA_TABLE', async () => {
    const store = new LocalStore(path.join(emptyDir(), 'nope'));
    expect((await errorOf(loadSnapshot(store))).code).toBe('NOT_A_DELTA_TABLE');
  });
});

describe('data files', () => {
  const V0_FILE = 'part-00000-ef42f28f-e8e8-4d54-b51f-c3af96c72a44-c000.snappy.parquet'; // numbers 1..3
  const V1_FILE = 'part-00000-c156ac8b-f738-4479-803d-750072dd4c51-c000.snappy.parquet'; // numbers 4..5

  it('a deleted data file is MISSING_DATA_FILE naming it, when the scan needs it', async () => {
    const dir = copyTable('dat-basic_append');
    unlinkSync(path.join(dir, V0_FILE));
    const store = new LocalStore(dir);
    const snapshot = await loadSnapshot(store);
    const err = await scanError(store, snapshot);
    expect(err.code).toBe('MISSING_DATA_FILE');
    expect(err.details).toMatchObject({ table: store.root, version: 1, file: V0_FILE });
    // A scan whose stats rule the file out does not need it.
    const rows: Record<string, JsonValue>[] = [];
    for await (const b of scanSnapshot(store, snapshot, { where: 'number > 3' }))
      rows.push(...batchToJsonRows(b));
    expect(rows.map((r) => r.number).sort()).toEqual([4, 5]);
  });

  it('a data file overwritten with garbage is CORRUPT_DATA_FILE naming it', async () => {
    const dir = copyTable('dat-basic_append');
    writeFileSync(path.join(dir, V1_FILE), Buffer.alloc(984, 7));
    const store = new LocalStore(dir);
    const err = await scanError(store, await loadSnapshot(store));
    expect(err.code).toBe('CORRUPT_DATA_FILE');
    expect(err.details).toMatchObject({ version: 1, file: V1_FILE });
  });

  it('a truncated data file is CORRUPT_DATA_FILE naming it', async () => {
    const dir = copyTable('dat-basic_append');
    truncateSync(path.join(dir, V1_FILE), 500);
    const store = new LocalStore(dir);
    const err = await scanError(store, await loadSnapshot(store));
    expect(err.code).toBe('CORRUPT_DATA_FILE');
    expect(err.details).toMatchObject({ file: V1_FILE });
  });

  it('names a missing file by its path decoded exactly once', async () => {
    const dir = copyTable('golden-data-reader-escaped-chars');
    // On disk the folder is `_2=bar+%2521`; the log says `_2=bar+%252521`.
    const file = '_2=bar+%2521/part-00000-af08f887-922f-4c31-82a7-8e142c4280a6.c000.snappy.parquet';
    const store = new LocalStore(dir);
    const snapshot = await loadSnapshot(store);
    expect((await rowsOf(store, snapshot)).length).toBeGreaterThan(0);
    unlinkSync(path.join(dir, file));
    const err = await scanError(store, snapshot);
    expect(err.code).toBe('MISSING_DATA_FILE');
    expect(err.details).toMatchObject({ file });
  });
});

describe('absolute add.path URIs', () => {
  /**
   * golden-data-reader-escaped-chars (partition folders with escaped characters) copied under a
   * folder whose name needs URI encoding, with every add/remove path rewritten to an absolute
   * form of the same file: each must decode exactly once to the same key.
   */
  function absoluteCopy(form: (absoluteEncoded: string) => string): { dir: string; rows: Promise<string[]> } {
    const source = path.join(REFS, 'golden-data-reader-escaped-chars', 'delta');
    const dir = mkdtempSync(path.join(tmpdir(), 'weir abs %41+ '));
    dirs.push(dir);
    cpSync(source, dir, { recursive: true });
    for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
      const p = path.join(dir, entry);
      chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    }
    // The folder's path, URI-encoded segment by segment.
    const encodedDir = dir
      .split('/')
      .map((seg) => encodeURIComponent(seg))
      .join('/');
    for (const name of readdirSync(path.join(dir, LOG)).filter((n) => /^\d{20}\.json$/.test(n))) {
      editCommit(dir, Number(name.slice(0, 20)), (lines) =>
        lines.map((line) => {
          const action = JSON.parse(line) as Record<string, { path?: string }>;
          for (const kind of ['add', 'remove']) {
            const a = action[kind];
            if (a?.path !== undefined) a.path = form(`${encodedDir}/${a.path}`);
          }
          return JSON.stringify(action);
        }),
      );
    }
    const pristine = new LocalStore(source);
    return { dir, rows: loadSnapshot(pristine).then((s) => rowsOf(pristine, s)) };
  }

  it.each([
    ['file:/ (as Spark writes them)', (p: string) => `file:${p}`],
    ['file:///', (p: string) => `file://${p}`],
    ['a bare absolute path', (p: string) => p],
  ])('%s: the same files and rows as relative paths', async (_label, form) => {
    const { dir, rows } = absoluteCopy(form);
    const store = new LocalStore(dir);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.files().every((f) => f.path.includes('%20'))).toBe(true);
    expect(await rowsOf(store, snapshot)).toEqual(await rows);
  });

  it('a path outside the table is UNSUPPORTED_PATH naming it', async () => {
    const { dir } = absoluteCopy((p) => `file:${p.replace(/\/[^/]*$/, '')}/../elsewhere/x.parquet`);
    const store = new LocalStore(dir);
    const err = await scanError(store, await loadSnapshot(store));
    expect(err.code).toBe('UNSUPPORTED_PATH');
    expect(String(err.details.path)).toContain('elsewhere');
  });
});

describe('time travel by timestamp', () => {
  const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
  const MINUTE = 60_000;

  /** drs-simple_table (versions 0..4) with commit i at T0 + i minutes (or the given times). */
  function timedTable(times: number[] = [0, 1, 2, 3, 4].map((i) => T0 + i * MINUTE)): LocalStore {
    const dir = copyTable('drs-simple_table');
    times.forEach((t, v) => {
      utimesSync(path.join(dir, LOG, logName(v)), new Date(t), new Date(t));
    });
    return new LocalStore(dir);
  }

  const versionAt = async (store: LocalStore, timestamp: number | string | Date) =>
    (await loadSnapshot(store, { timestamp })).version;

  it('resolves each commit instant exactly', async () => {
    const store = timedTable();
    for (let v = 0; v <= 4; v++) {
      const s = await loadSnapshot(store, { timestamp: T0 + v * MINUTE });
      expect(s.version).toBe(v);
      expect(s.timestamp).toBe(T0 + v * MINUTE);
    }
  });

  it('resolves an instant between commits to the earlier one, after the last to the latest', async () => {
    const store = timedTable();
    expect(await versionAt(store, T0 + 2 * MINUTE - 1)).toBe(1);
    expect(await versionAt(store, T0 + 2 * MINUTE + 30_000)).toBe(2);
    expect(await versionAt(store, new Date(T0 + 3 * MINUTE + 1))).toBe(3);
    expect(await versionAt(store, '2024-01-15T12:04:00Z')).toBe(4);
    expect(await versionAt(store, '2030-01-01T00:00:00Z')).toBe(4);
  });

  it('refuses an instant before the first commit (TIMESTAMP_BEFORE_FIRST_COMMIT)', async () => {
    const store = timedTable();
    const err = await errorOf(loadSnapshot(store, { timestamp: T0 - 1 }));
    expect(err.code).toBe('TIMESTAMP_BEFORE_FIRST_COMMIT');
    expect(err.details).toMatchObject({ table: store.root, earliestVersion: 0, earliestTimestamp: T0 });
  });

  it('refuses text that is not a timestamp (INVALID_TIMESTAMP)', async () => {
    expect((await errorOf(loadSnapshot(timedTable(), { timestamp: 'last tuesday' }))).code).toBe(
      'INVALID_TIMESTAMP',
    );
  });

  it('handles commit times that go back (clock skew): each counts as predecessor + 1 ms', async () => {
    // Version 2 was written by a writer whose clock was 10 minutes behind.
    const store = timedTable([T0, T0 + MINUTE, T0 - 10 * MINUTE, T0 + 3 * MINUTE, T0 + 4 * MINUTE]);
    expect(await versionAt(store, T0 + MINUTE)).toBe(1);
    expect(await versionAt(store, T0 + MINUTE + 1)).toBe(2);
    expect(await versionAt(store, T0 + 2 * MINUTE)).toBe(2);
    expect(await versionAt(store, T0 + 3 * MINUTE)).toBe(3);
    // Version 2's own (skewed) file time is before the first commit: it never resolves to 2.
    expect(await versionAt(store, T0 + 30_000)).toBe(0);
    expect((await errorOf(loadSnapshot(store, { timestamp: T0 - 10 * MINUTE }))).code).toBe(
      'TIMESTAMP_BEFORE_FIRST_COMMIT',
    );
    const history = await readHistory(store);
    expect(history.map((h) => [h.version, h.timestamp])).toEqual([
      [4, T0 + 4 * MINUTE],
      [3, T0 + 3 * MINUTE],
      [2, T0 + MINUTE + 1],
      [1, T0 + MINUTE],
      [0, T0],
    ]);
  });

  it('resolves instants in a log that starts at a checkpoint, and refuses cleaned-up versions', async () => {
    const dir = copyTable('drs-checkpoints_vacuumed'); // commits 5..12, checkpoints at 5 and 10
    for (let v = 5; v <= 12; v++) {
      const t = new Date(T0 + v * MINUTE);
      utimesSync(path.join(dir, LOG, logName(v)), t, t);
    }
    const store = new LocalStore(dir);
    expect(await versionAt(store, T0 + 5 * MINUTE)).toBe(5);
    expect(await versionAt(store, T0 + 7 * MINUTE + 1)).toBe(7);
    expect(await versionAt(store, T0 + 11 * MINUTE)).toBe(11);
    const before = await errorOf(loadSnapshot(store, { timestamp: T0 + 5 * MINUTE - 1 }));
    expect(before.code).toBe('TIMESTAMP_BEFORE_FIRST_COMMIT');
    expect(before.details).toMatchObject({ earliestVersion: 5 });
    const cleaned = await errorOf(loadSnapshot(store, { version: 3 }));
    expect(cleaned.code).toBe('VERSION_NOT_AVAILABLE');
    expect(cleaned.details).toMatchObject({ version: 3, earliest: 5 });
    expect(await errorOf(loadSnapshot(store, { version: 13 }))).toMatchObject({
      code: 'VERSION_NOT_FOUND',
      details: { version: 13, latest: 12 },
    });
  });
});

describe('Snapshot.refresh', () => {
  /** Appends version `version` to dat-basic_append's copy: one new data file shaped like v1's add. */
  function appendCommit(dir: string, version: number, template: number): string {
    const lines = readFileSync(path.join(dir, LOG, logName(template)), 'utf8')
      .split('\n')
      .filter(Boolean);
    const addLine = lines.find((l) => l.startsWith('{"add"'))!;
    const add = JSON.parse(addLine) as { add: { path: string; modificationTime: number } };
    const newPath = `part-00000-00000000-0000-4000-8000-${String(version).padStart(12, '0')}-c000.snappy.parquet`;
    cpSync(path.join(dir, decodeURIComponent(add.add.path)), path.join(dir, newPath));
    add.add.path = newPath;
    add.add.modificationTime += 1000;
    const commitInfo = {
      commitInfo: { timestamp: Date.now(), operation: 'WRITE', operationParameters: { mode: 'Append' } },
    };
    writeFileSync(
      path.join(dir, LOG, logName(version)),
      `${JSON.stringify(add)}\n${JSON.stringify(commitInfo)}\n`,
    );
    return newPath;
  }

  function expectSame(a: Snapshot, b: Snapshot): void {
    expect(a.version).toBe(b.version);
    expect(a.files()).toEqual(b.files());
    expect(a.metadata).toEqual(b.metadata);
    expect(a.protocol).toEqual(b.protocol);
    expect(a.timestamp).toBe(b.timestamp);
    expect([...a.appTransactions()]).toEqual([...b.appTransactions()]);
  }

  it('sees a hand-appended commit by reading only that commit, and equals a fresh load', async () => {
    const dir = copyTable('dat-basic_append');
    const store = new CountingStore(dir);
    const before = await loadSnapshot(store);
    const rowsBefore = await rowsOf(store, before);
    expect(rowsBefore).toHaveLength(5);
    const newPath = appendCommit(dir, 2, 1);
    store.reads.length = 0;
    const after = await before.refresh(store);
    expect(store.reads).toEqual([logKey(2)]);
    expect(after.version).toBe(2);
    expect(after.files().map((f) => f.path)).toContain(newPath);
    expect(after.numFiles).toBe(3);
    expectSame(after, await loadSnapshot(new LocalStore(dir)));
    expect(await rowsOf(store, after)).toHaveLength(7);
    // The old snapshot still shows its own version.
    expect(before.version).toBe(1);
    expect(before.numFiles).toBe(2);
    expect(await rowsOf(store, before)).toEqual(rowsBefore);
  });

  it('returns the same snapshot when nothing new was committed', async () => {
    const store = new LocalStore(copyTable('dat-basic_append'));
    const s = await loadSnapshot(store);
    expect(await s.refresh(store)).toBe(s);
  });

  it('refreshes a snapshot built from a checkpoint over several new commits', async () => {
    const dir = copyTable('dat-with_checkpoint');
    const store = new CountingStore(dir);
    const s3 = await loadSnapshot(store);
    appendCommit(dir, 4, 3);
    appendCommit(dir, 5, 4);
    store.reads.length = 0;
    const s5 = await s3.refresh(store);
    expect(store.reads).toEqual([logKey(4), logKey(5)]);
    expect(s5.numFiles).toBe(s3.numFiles + 2);
    expectSame(s5, await loadSnapshot(new LocalStore(dir)));
    const s4 = await s3.refresh(store, { version: 4 });
    expectSame(s4, await loadSnapshot(new LocalStore(dir), { version: 4 }));
  });

  it('names a corrupt new commit (CORRUPT_LOG)', async () => {
    const dir = copyTable('dat-basic_append');
    const store = new LocalStore(dir);
    const s = await loadSnapshot(store);
    writeFileSync(path.join(dir, LOG, logName(2)), '{"add":\n');
    const err = await errorOf(s.refresh(store));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.details).toMatchObject({ file: logKey(2), version: 2 });
  });
});
