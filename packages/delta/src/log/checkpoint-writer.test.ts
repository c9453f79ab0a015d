import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStore, WeirError } from '@weir/storage';
import type { DataType as ArrowType, Field, Schema } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStats } from '../actions/codec.js';
import type { AddAction, FileStats, MetadataAction, RemoveAction } from '../actions/types.js';
import { readParquetTable } from '../parquet/wasm.js';
import { applyActions, cloneState, emptyState, type TableState } from '../snapshot/replay.js';
import { loadSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import { actionsFromCheckpointParquet } from './checkpoint-reader.js';
import { checkpointSchema, parseColumnList, statsColumns } from './checkpoint-schema.js';
import {
  buildCheckpoint,
  canonicalizeLastCheckpoint,
  checkpointToParquet,
  lastCheckpointChecksum,
  parseIntervalMs,
  tombstoneRetentionMs,
  writeCheckpoint,
} from './checkpoint-writer.js';

const REFS = path.resolve(import.meta.dirname, '../../../../../shared/reference-tables');
const LOG = '_delta_log';
const WEEK = 7 * 86_400_000;
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function copyTable(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `weir-cp-${name}-`));
  dirs.push(dir);
  cpSync(path.join(REFS, name, 'delta'), dir, { recursive: true });
  return dir;
}

const cpName = (v: number) => `${String(v).padStart(20, '0')}.checkpoint.parquet`;

/** Deletes every log file at or below `version` except our classic checkpoint. */
function dropLogUpTo(dir: string, version: number): void {
  for (const name of readdirSync(path.join(dir, LOG))) {
    const m = /^(\d{20})\./.exec(name);
    if (m && Number(m[1]) <= version && name !== cpName(version)) unlinkSync(path.join(dir, LOG, name));
  }
  rmSync(path.join(dir, LOG, '_sidecars'), { recursive: true, force: true });
}

function withoutStatsParsed(a: AddAction): AddAction {
  const { statsParsed: _, ...rest } = a;
  return rest;
}

function withoutStats(r: RemoveAction): RemoveAction {
  const { stats: _, ...rest } = r;
  return rest;
}

function newestDeletion(s: Snapshot): number {
  return Math.max(0, ...s.tombstones().map((t) => t.deletionTimestamp ?? 0));
}

/** 'name:type?' for every field, nested, for schema comparisons. */
function fieldList(fields: readonly Field[], prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fields) {
    const p = `${prefix}${f.name}`;
    const children = (f.type as ArrowType & { children?: Field[] }).children;
    const leaf = children && children.length > 0 ? f.type.toString().split('<')[0] : f.type.toString();
    out.set(p, `${leaf}${f.nullable ? '?' : '!'}`);
    if (children && children.length > 0) for (const [k, v] of fieldList(children, `${p}.`)) out.set(k, v);
  }
  return out;
}

function render(schema: Schema): string {
  return [...fieldList(schema.fields)].map(([k, v]) => `${k}: ${v}`).join('\n');
}

function refCheckpointSchema(table: string, version: number): Schema {
  return readParquetTable(readFileSync(path.join(REFS, table, 'delta', LOG, cpName(version)))).schema;
}

// ---------------------------------------------------------------------------------------------

describe('writeCheckpoint round trip on reference tables', () => {
  const tables = [
    'dat-with_checkpoint',
    'dat-basic_partitioned',
    'golden-checkpoint',
    'golden-basic-with-inserts-deletes-checkpoint',
    'golden-dv-partitioned-with-checkpoint',
    'golden-table-with-columnmapping-mode-name',
    'krs-app-txn-checkpoint',
    'drs-table_with_deletion_logs',
  ];
  for (const name of tables) {
    it(`${name}: the snapshot rebuilt from our checkpoint alone equals the original`, async () => {
      const dir = copyTable(name);
      const store = new LocalStore(dir);
      const before = await loadSnapshot(store);
      const now = newestDeletion(before) + 1;
      const written = await writeCheckpoint(store, before, { now });
      expect(written.version).toBe(before.version);
      expect(written.numOfAddFiles).toBe(before.numFiles);

      // Leave nothing else to read: the log now holds our checkpoint only.
      dropLogUpTo(dir, before.version);
      const after = await loadSnapshot(store);
      expect(after.version).toBe(before.version);
      expect(after.protocol).toEqual(before.protocol);
      expect(after.metadata).toEqual(before.metadata);
      expect(after.tableState.files.size).toBe(before.tableState.files.size);
      for (const [id, add] of before.tableState.files) {
        expect(after.tableState.files.get(id), id).toEqual(withoutStatsParsed(add));
      }
      expect(new Map(after.appTransactions())).toEqual(new Map(before.appTransactions()));
      expect(new Map(after.domains())).toEqual(new Map(before.domains()));
      const kept = [...before.tableState.tombstones].filter(
        ([, r]) => (r.deletionTimestamp ?? 0) > now - WEEK,
      );
      expect(after.tableState.tombstones.size).toBe(kept.length);
      for (const [id, rm] of kept) expect(after.tableState.tombstones.get(id), id).toEqual(withoutStats(rm));
    });
  }

  it('krs-app-txn-checkpoint keeps both app transactions', async () => {
    const dir = copyTable('krs-app-txn-checkpoint');
    const store = new LocalStore(dir);
    await writeCheckpoint(store, await loadSnapshot(store));
    dropLogUpTo(dir, 1);
    const s = await loadSnapshot(store);
    expect(s.appTransactionVersion('my-app')).toBe(3);
    expect(s.appTransactionVersion('my-app2')).toBe(2);
  });

  it('golden-dv-partitioned-with-checkpoint keeps deletion vectors and domain metadata', async () => {
    const dir = copyTable('golden-dv-partitioned-with-checkpoint');
    const store = new LocalStore(dir);
    const before = await loadSnapshot(store);
    expect(before.files().some((f) => f.deletionVector)).toBe(true);
    await writeCheckpoint(store, before);
    dropLogUpTo(dir, before.version);
    const after = await loadSnapshot(store);
    expect(after.files().map(withoutStatsParsed)).toEqual(before.files().map(withoutStatsParsed));
  });
});

// ---------------------------------------------------------------------------------------------

describe('checkpoint schema', () => {
  it('matches the Spark-written reference checkpoints field for field (names, types, order)', async () => {
    const dir = copyTable('golden-dv-partitioned-with-checkpoint');
    const store = new LocalStore(dir);
    const s = await loadSnapshot(store);
    await writeCheckpoint(store, s);
    const ours = readParquetTable(readFileSync(path.join(dir, LOG, cpName(s.version)))).schema;
    const mine = fieldList(ours.fields);
    const refs: [string, number][] = [
      ['golden-checkpoint', 10],
      ['golden-dv-partitioned-with-checkpoint', 10],
      ['golden-basic-with-inserts-deletes-checkpoint', 10],
      ['dat-with_checkpoint', 2],
    ];
    for (const [table, version] of refs) {
      const theirs = fieldList(refCheckpointSchema(table, version).fields);
      const common = [...theirs.keys()].filter((k) => mine.has(k));
      // Every reference field exists in ours, with the same type, except the optional parsed
      // partition values (written only with delta.checkpoint.writeStatsAsStruct).
      for (const [k, v] of theirs) {
        if (k.startsWith('add.partitionValues_parsed')) continue;
        expect(mine.get(k), `${table}: ${k}`).toBe(v);
      }
      // Same relative order of the common fields.
      const ourOrder = [...mine.keys()].filter((k) => theirs.has(k));
      expect(ourOrder, table).toEqual(common);
    }
  });

  it('is pinned: renaming or retyping a field fails here', () => {
    expect(render(checkpointSchema())).toBe(
      `txn: Struct?
txn.appId: Utf8?
txn.version: Int64?
txn.lastUpdated: Int64?
add: Struct?
add.path: Utf8?
add.partitionValues: Map?
add.partitionValues.entries: Struct!
add.partitionValues.entries.key: Utf8!
add.partitionValues.entries.value: Utf8?
add.size: Int64?
add.modificationTime: Int64?
add.dataChange: Bool?
add.tags: Map?
add.tags.entries: Struct!
add.tags.entries.key: Utf8!
add.tags.entries.value: Utf8?
add.deletionVector: Struct?
add.deletionVector.storageType: Utf8?
add.deletionVector.pathOrInlineDv: Utf8?
add.deletionVector.offset: Int32?
add.deletionVector.sizeInBytes: Int32?
add.deletionVector.cardinality: Int64?
add.deletionVector.maxRowIndex: Int64?
add.baseRowId: Int64?
add.defaultRowCommitVersion: Int64?
add.clusteringProvider: Utf8?
add.stats: Utf8?
remove: Struct?
remove.path: Utf8?
remove.deletionTimestamp: Int64?
remove.dataChange: Bool?
remove.extendedFileMetadata: Bool?
remove.partitionValues: Map?
remove.partitionValues.entries: Struct!
remove.partitionValues.entries.key: Utf8!
remove.partitionValues.entries.value: Utf8?
remove.size: Int64?
remove.tags: Map?
remove.tags.entries: Struct!
remove.tags.entries.key: Utf8!
remove.tags.entries.value: Utf8?
remove.deletionVector: Struct?
remove.deletionVector.storageType: Utf8?
remove.deletionVector.pathOrInlineDv: Utf8?
remove.deletionVector.offset: Int32?
remove.deletionVector.sizeInBytes: Int32?
remove.deletionVector.cardinality: Int64?
remove.deletionVector.maxRowIndex: Int64?
remove.baseRowId: Int64?
remove.defaultRowCommitVersion: Int64?
metaData: Struct?
metaData.id: Utf8?
metaData.name: Utf8?
metaData.description: Utf8?
metaData.format: Struct?
metaData.format.provider: Utf8?
metaData.format.options: Map?
metaData.format.options.entries: Struct!
metaData.format.options.entries.key: Utf8!
metaData.format.options.entries.value: Utf8?
metaData.schemaString: Utf8?
metaData.partitionColumns: List?
metaData.partitionColumns.element: Utf8?
metaData.configuration: Map?
metaData.configuration.entries: Struct!
metaData.configuration.entries.key: Utf8!
metaData.configuration.entries.value: Utf8?
metaData.createdTime: Int64?
protocol: Struct?
protocol.minReaderVersion: Int32?
protocol.minWriterVersion: Int32?
protocol.readerFeatures: List?
protocol.readerFeatures.element: Utf8?
protocol.writerFeatures: List?
protocol.writerFeatures.element: Utf8?
domainMetadata: Struct?
domainMetadata.domain: Utf8?
domainMetadata.configuration: Utf8?
domainMetadata.removed: Bool?`,
    );
  });

  it('stats_parsed has the shape Databricks writes (drs-table_with_deletion_logs)', async () => {
    const s = await loadSnapshot(new LocalStore(copyTable('drs-table_with_deletion_logs')));
    const state = withConfiguration(s.tableState, { 'delta.checkpoint.writeStatsAsStruct': 'true' });
    const ours = fieldList(buildCheckpoint(state, { now: 0 }).table.schema.fields);
    const theirs = fieldList(refCheckpointSchema('drs-table_with_deletion_logs', 20).fields);
    const pick = (m: Map<string, string>) => [...m].filter(([k]) => k.startsWith('add.stats_parsed'));
    expect(pick(ours).length).toBeGreaterThan(20);
    expect(pick(ours)).toEqual(pick(theirs));
  });

  it('partitionValues_parsed has the shape Spark writes (golden-dv-partitioned-with-checkpoint)', async () => {
    const s = await loadSnapshot(new LocalStore(copyTable('golden-dv-partitioned-with-checkpoint')));
    const state = withConfiguration(s.tableState, { 'delta.checkpoint.writeStatsAsStruct': 'true' });
    const ours = fieldList(buildCheckpoint(state, { now: 0 }).table.schema.fields);
    const theirs = fieldList(refCheckpointSchema('golden-dv-partitioned-with-checkpoint', 10).fields);
    const pick = (m: Map<string, string>) =>
      [...m].filter(([k]) => k.startsWith('add.partitionValues_parsed'));
    expect(pick(ours)).toEqual([
      ['add.partitionValues_parsed', 'Struct?'],
      ['add.partitionValues_parsed.part', 'Int32?'],
    ]);
    expect(pick(ours)).toEqual(pick(theirs));
  });

  it('selects stats columns as Spark does', () => {
    const schema = {
      type: 'struct' as const,
      fields: ['a', 'b', 'p', 'c'].map((name) => ({
        name,
        type: { type: 'long' as const },
        nullable: true,
        metadata: {},
      })),
    };
    const names = (s: { fields: readonly { name: string }[] }) => s.fields.map((f) => f.name);
    expect(names(statsColumns(schema, ['p'], {}))).toEqual(['a', 'b', 'c']);
    expect(names(statsColumns(schema, ['p'], { 'delta.dataSkippingNumIndexedCols': '2' }))).toEqual([
      'a',
      'b',
    ]);
    expect(names(statsColumns(schema, [], { 'delta.dataSkippingNumIndexedCols': '-1' }))).toEqual([
      'a',
      'b',
      'p',
      'c',
    ]);
    expect(names(statsColumns(schema, ['p'], { 'delta.dataSkippingStatsColumns': 'c, A' }))).toEqual([
      'a',
      'c',
    ]);
    expect(parseColumnList('a, b.c, `d.e`.f')).toEqual([['a'], ['b', 'c'], ['d.e', 'f']]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('_last_checkpoint', () => {
  it('checksum follows the protocol example and every Spark-written _last_checkpoint', () => {
    const example = JSON.parse(
      '{"k0":"\'v 0\'", "checksum": "adsaskfljadfkjadfkj", "k1":{"k2": 2, "k3": ["v3", [1, 2], {"k4": "v4", "k5": ["v5", "v6", "v7"]}]}}',
    ) as Record<string, unknown>;
    expect(canonicalizeLastCheckpoint(example)).toBe(
      '"k0"="%27v%200%27","k1"+"k2"=2,"k1"+"k3"+0="v3","k1"+"k3"+1+0=1,"k1"+"k3"+1+1=2,"k1"+"k3"+2+"k4"="v4","k1"+"k3"+2+"k5"+0="v5","k1"+"k3"+2+"k5"+1="v6","k1"+"k3"+2+"k5"+2="v7"',
    );
    expect(lastCheckpointChecksum(example)).toBe('6a92d155a59bf2eecbd4b4ec7fd1f875');
    let checked = 0;
    for (const table of readdirSync(REFS)) {
      let text: string;
      try {
        text = readFileSync(path.join(REFS, table, 'delta', LOG, '_last_checkpoint'), 'utf8');
      } catch {
        continue;
      }
      const obj = JSON.parse(text) as Record<string, unknown>;
      if (typeof obj.checksum !== 'string') continue;
      expect(lastCheckpointChecksum(obj), table).toBe(obj.checksum);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it('describes the checkpoint written', async () => {
    const dir = copyTable('golden-basic-with-inserts-deletes-checkpoint');
    const store = new LocalStore(dir);
    const s = await loadSnapshot(store);
    const now = newestDeletion(s) + 1;
    const res = await writeCheckpoint(store, s, { now });
    const bytes = readFileSync(path.join(dir, LOG, cpName(s.version)));
    const last = JSON.parse(readFileSync(path.join(dir, LOG, '_last_checkpoint'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(last)).toEqual(['version', 'size', 'sizeInBytes', 'numOfAddFiles', 'checksum']);
    expect(last.version).toBe(s.version);
    expect(last.sizeInBytes).toBe(bytes.length);
    expect(last.sizeInBytes).toBe(statSync(path.join(dir, LOG, cpName(s.version))).size);
    expect(last.numOfAddFiles).toBe(s.numFiles);
    expect(last.size).toBe(readParquetTable(bytes).numRows);
    expect(last.size).toBe(res.size);
    expect(last.checksum).toBe(lastCheckpointChecksum(last));
    expect(res.lastCheckpointUpdated).toBe(true);
    // protocol + metaData + files + kept tombstones
    const kept = s.tombstones().filter((t) => (t.deletionTimestamp ?? 0) > now - WEEK).length;
    expect(res.size).toBe(2 + s.numFiles + kept);
  });

  it('only moves forward, and replaces a corrupt one', async () => {
    const dir = copyTable('dat-with_checkpoint');
    const store = new LocalStore(dir);
    const s = await loadSnapshot(store);
    const lastPath = path.join(dir, LOG, '_last_checkpoint');

    writeFileSync(lastPath, JSON.stringify({ version: s.version + 5, size: 1 }));
    const res = await writeCheckpoint(store, s);
    expect(res.lastCheckpointUpdated).toBe(false);
    expect(JSON.parse(readFileSync(lastPath, 'utf8')).version).toBe(s.version + 5);
    expect(statSync(path.join(dir, LOG, cpName(s.version))).size).toBe(res.sizeInBytes);

    writeFileSync(lastPath, '{"vers');
    expect((await writeCheckpoint(store, s)).lastCheckpointUpdated).toBe(true);
    expect(JSON.parse(readFileSync(lastPath, 'utf8')).version).toBe(s.version);

    writeFileSync(lastPath, JSON.stringify({ version: 0, size: 1 }));
    expect((await writeCheckpoint(store, s)).lastCheckpointUpdated).toBe(true);
    expect(JSON.parse(readFileSync(lastPath, 'utf8')).version).toBe(s.version);
  });

  it('rewriting a checkpoint is idempotent (same bytes)', async () => {
    const dir = copyTable('golden-checkpoint');
    const store = new LocalStore(dir);
    const s = await loadSnapshot(store);
    await writeCheckpoint(store, s, { now: 1_700_000_000_000 });
    const first = readFileSync(path.join(dir, LOG, cpName(s.version)));
    await writeCheckpoint(store, await loadSnapshot(store), { now: 1_700_000_000_000 });
    expect(readFileSync(path.join(dir, LOG, cpName(s.version)))).toEqual(first);
  });
});

// ---------------------------------------------------------------------------------------------

describe('tombstone retention', () => {
  it('parses interval strings', () => {
    expect(parseIntervalMs('interval 1 week')).toBe(WEEK);
    expect(parseIntervalMs('INTERVAL 7 DAYS')).toBe(WEEK);
    expect(parseIntervalMs('interval 1 day 12 hours')).toBe(36 * 3_600_000);
    expect(parseIntervalMs('30 minutes')).toBe(1_800_000);
    expect(parseIntervalMs('interval 0 seconds')).toBe(0);
    expect(parseIntervalMs('interval 1 month')).toBeUndefined();
    expect(parseIntervalMs('interval -1 days')).toBeUndefined();
    expect(parseIntervalMs('1 week 2')).toBeUndefined();
    expect(parseIntervalMs('')).toBeUndefined();
  });

  it('a bad retention property is a typed error naming table and version', () => {
    try {
      tombstoneRetentionMs(
        { 'delta.deletedFileRetentionDuration': 'a while' },
        { table: 's3://b/t', version: 7 },
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WeirError);
      expect((err as WeirError).code).toBe('INVALID_TABLE_PROPERTY');
      expect((err as WeirError).message).toContain('s3://b/t');
      expect((err as WeirError).message).toContain('version 7');
    }
  });

  it('drops tombstones older than delta.deletedFileRetentionDuration', async () => {
    const s = await loadSnapshot(new LocalStore(copyTable('golden-basic-with-inserts-deletes-checkpoint')));
    const stamps = s
      .tombstones()
      .map((t) => t.deletionTimestamp ?? 0)
      .sort((a, b) => a - b);
    expect(stamps.length).toBeGreaterThan(3);
    const removedPaths = (state: TableState, now: number) => {
      const t = buildCheckpoint(state, { now }).table;
      const col = t.getChild('remove')!;
      const out: string[] = [];
      for (let i = 0; i < t.numRows; i++) if (col.isValid(i)) out.push(col.get(i)!.path as string);
      return out.sort();
    };
    // Everything inside the default week.
    expect(removedPaths(s.tableState, stamps.at(-1)! + 1)).toHaveLength(stamps.length);
    // Nothing a week after the newest.
    expect(removedPaths(s.tableState, stamps.at(-1)! + WEEK + 1)).toEqual([]);
    // A custom retention, cut in the middle: exactly the newer ones stay.
    const mid = stamps[Math.floor(stamps.length / 2)]!;
    const custom = withConfiguration(s.tableState, {
      'delta.deletedFileRetentionDuration': 'interval 1 hour',
    });
    const expected = s
      .tombstones()
      .filter((t) => (t.deletionTimestamp ?? 0) > mid)
      .map((t) => t.path)
      .sort();
    expect(removedPaths(custom, mid + 3_600_000)).toEqual(expected);
    // A remove without a deletion timestamp counts as expired (Spark treats it as 0).
    const noStamp = cloneState(s.tableState);
    noStamp.tombstones.set('x', { path: 'x.parquet', dataChange: true });
    expect(removedPaths(noStamp, stamps.at(-1)! + 1)).not.toContain('x.parquet');
  });

  it('never writes commitInfo or removed domains, and sorts rows deterministically', () => {
    const state = syntheticState({});
    state.domains.set('gone', { domain: 'gone', configuration: '{}', removed: true });
    state.domains.set('b', { domain: 'b', configuration: '{"x":1}', removed: false });
    state.domains.set('a', { domain: 'a', configuration: '{}', removed: false });
    state.txns.set('z', { appId: 'z', version: 9 });
    state.txns.set('y', { appId: 'y', version: 3, lastUpdated: 5 });
    const t = buildCheckpoint(state, { now: 0 }).table;
    expect(t.schema.fields.map((f) => f.name)).toEqual([
      'txn',
      'add',
      'remove',
      'metaData',
      'protocol',
      'domainMetadata',
    ]);
    const rows = [...t].map((r) => {
      const j = r.toJSON() as Record<string, { toJSON(): Record<string, unknown> } | null>;
      const [k, v] = Object.entries(j).find(([, x]) => x !== null)!;
      return [k, v!.toJSON().appId ?? v!.toJSON().domain ?? v!.toJSON().path ?? ''];
    });
    expect(rows).toEqual([
      ['protocol', ''],
      ['metaData', ''],
      ['txn', 'y'],
      ['txn', 'z'],
      ['domainMetadata', 'a'],
      ['domainMetadata', 'b'],
      ['add', 'f1.parquet'],
      ['add', 'f2.parquet'],
    ]);
  });

  it('keeps every field of every action kind (synthetic state through Parquet and the reader)', () => {
    const state = emptyState();
    state.version = 12;
    state.protocol = {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ['deletionVectors', 'v2Checkpoint'],
      writerFeatures: ['deletionVectors', 'domainMetadata', 'rowTracking', 'clustering'],
    };
    state.metadata = {
      id: 'id-7',
      name: 'events',
      description: 'a table',
      format: { provider: 'parquet', options: { k: 'v' } },
      schemaString: '{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]}',
      partitionColumns: [],
      configuration: {
        'delta.enableDeletionVectors': 'true',
        'delta.logRetentionDuration': 'interval 30 days',
      },
      createdTime: 1_700_000_000_000,
    };
    const add: AddAction = {
      path: 'dir%20x/f%3A1.parquet',
      partitionValues: {},
      size: 2 ** 40,
      modificationTime: 1_700_000_000_001,
      dataChange: false,
      stats: '{"numRecords":3}',
      tags: { INSERTION_TIME: '1', other: 'x' },
      deletionVector: {
        storageType: 'u',
        pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^',
        offset: 4,
        sizeInBytes: 40,
        cardinality: 6,
      },
      baseRowId: 100,
      defaultRowCommitVersion: 11,
      clusteringProvider: 'liquid',
    };
    const inline: AddAction = {
      path: 'g.parquet',
      partitionValues: {},
      size: 1,
      modificationTime: 2,
      dataChange: true,
      deletionVector: {
        storageType: 'i',
        pathOrInlineDv: 'wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L',
        sizeInBytes: 40,
        cardinality: 2,
      },
    };
    const rm: RemoveAction = {
      path: 'old.parquet',
      deletionTimestamp: 1_700_000_000_500,
      dataChange: true,
      extendedFileMetadata: true,
      partitionValues: {},
      size: 77,
      tags: { t: '1' },
      deletionVector: {
        storageType: 'p',
        pathOrInlineDv: 's3://b/dv.bin',
        offset: 1,
        sizeInBytes: 9,
        cardinality: 1,
      },
      baseRowId: 5,
      defaultRowCommitVersion: 3,
    };
    state.files.set('a', add);
    state.files.set('b', inline);
    state.tombstones.set('c', rm);
    state.txns.set('app', { appId: 'app', version: 2 ** 53 - 1, lastUpdated: 9 });
    state.domains.set('delta.rowTracking', {
      domain: 'delta.rowTracking',
      configuration: '{"rowIdHighWaterMark":105}',
      removed: false,
    });

    const built = buildCheckpoint(state, { now: 1_700_000_001_000 });
    expect(built.numActions).toBe(7);
    expect(built.numOfAddFiles).toBe(2);
    const actions = actionsFromCheckpointParquet(checkpointToParquet(built.table), {
      table: 't',
      file: 'cp',
      version: 12,
    });
    const back = emptyState();
    applyActions(back, actions, 12);
    expect(back.protocol).toEqual(state.protocol);
    expect(back.metadata).toEqual(state.metadata);
    expect([...back.files.values()]).toEqual([add, inline]);
    expect([...back.tombstones.values()]).toEqual([rm]);
    expect(back.txns).toEqual(state.txns);
    expect(back.domains).toEqual(state.domains);
  });

  it('refuses a state without metaData', () => {
    const state = emptyState();
    state.version = 3;
    state.protocol = { minReaderVersion: 1, minWriterVersion: 2 };
    expect(() => buildCheckpoint(state, { now: 0, table: 'mem://t' })).toThrow(
      /mem:\/\/t: version 3 has no metaData/,
    );
  });
});

// ---------------------------------------------------------------------------------------------

function withConfiguration(state: TableState, extra: Record<string, string>): TableState {
  const copy = cloneState(state);
  const metadata: MetadataAction = {
    ...state.metadata!,
    configuration: { ...state.metadata!.configuration, ...extra },
  };
  copy.metadata = metadata;
  return copy;
}

const TYPES_SCHEMA = JSON.stringify({
  type: 'struct',
  fields: [
    ['b', 'byte'],
    ['s', 'short'],
    ['i', 'integer'],
    ['l', 'long'],
    ['f', 'float'],
    ['d', 'double'],
    ['dec', 'decimal(20,3)'],
    ['str', 'string'],
    ['bool', 'boolean'],
    ['bin', 'binary'],
    ['dt', 'date'],
    ['ts', 'timestamp'],
    ['ntz', 'timestamp_ntz'],
    ['arr', { type: 'array', elementType: 'integer', containsNull: true }],
    [
      'st',
      {
        type: 'struct',
        fields: [
          {
            name: 'x',
            type: 'long',
            nullable: true,
            metadata: { 'delta.columnMapping.physicalName': 'col-x' },
          },
        ],
      },
    ],
    ['pdate', 'date'],
    ['pint', 'integer'],
  ].map(([name, type]) => ({
    name,
    type,
    nullable: true,
    metadata: { 'delta.columnMapping.id': 1, 'delta.columnMapping.physicalName': `col-${name as string}` },
  })),
});

const STATS = {
  numRecords: 10,
  minValues: {
    'col-b': -3,
    'col-s': -300,
    'col-i': -70000,
    'col-l': 9007199254740993n,
    'col-f': 1.5,
    'col-d': -2.25,
    'col-dec': '12345678901234567.891',
    'col-str': 'aa',
    'col-dt': '2021-01-02',
    'col-ts': '2021-11-18T02:30:00.123Z',
    'col-ntz': '2021-11-18T02:30:00.123',
    'col-st': { 'col-x': 4 },
  },
  maxValues: {
    'col-b': 3,
    'col-i': 70000,
    'col-str': 'zz',
    'col-dt': '2021-12-31',
    'col-ts': '2021-11-18T03:30:00.000+01:00',
  },
  nullCount: {
    'col-b': 0,
    'col-bool': 1,
    'col-bin': 2,
    'col-arr': 3,
    'col-st': { 'col-x': 4 },
    'col-pdate': 0,
  },
  tightBounds: true,
};

/** JSON with exact bigints and the decimal as a number literal, like Spark's stats. */
const STATS_JSON = JSON.stringify(STATS, (_k, v) => (typeof v === 'bigint' ? `@@${v}` : v))
  .replace(/"@@(\d+)"/g, '$1')
  .replace('"12345678901234567.891"', '12345678901234567.891');

function syntheticState(configuration: Record<string, string>): TableState {
  const state = emptyState();
  state.version = 4;
  state.protocol = { minReaderVersion: 2, minWriterVersion: 5 };
  state.metadata = {
    id: 'id-1',
    format: { provider: 'parquet', options: {} },
    schemaString: TYPES_SCHEMA,
    partitionColumns: ['pdate', 'pint'],
    configuration: { 'delta.columnMapping.mode': 'name', ...configuration },
    createdTime: 1,
  };
  const add = (p: string, extra: Partial<AddAction>): AddAction => ({
    path: p,
    partitionValues: { 'col-pdate': '2021-03-04', 'col-pint': null },
    size: 100,
    modificationTime: 2,
    dataChange: true,
    ...extra,
  });
  state.files.set('f2.parquet', add('f2.parquet', {}));
  state.files.set('f1.parquet', add('f1.parquet', { stats: STATS_JSON }));
  return state;
}

describe('stats_parsed and partitionValues_parsed', () => {
  it('writes typed stats and partition values under physical names, readable back into statsParsed', () => {
    const state = syntheticState({ 'delta.checkpoint.writeStatsAsStruct': 'true' });
    const { table } = buildCheckpoint(state, { now: 0 });
    const fields = fieldList(table.schema.fields);
    // arrow-js renders decimal(20,3) as 'Decimal[20e+3]' (precision 20, scale 3).
    expect(fields.get('add.stats_parsed.minValues.col-dec')).toBe('Decimal[20e+3]?');
    expect(fields.get('add.stats_parsed.minValues.col-ts')).toBe('Timestamp<MICROSECOND, UTC>?');
    expect(fields.get('add.stats_parsed.minValues.col-ntz')).toBe('Timestamp<MICROSECOND>?');
    expect(fields.get('add.stats_parsed.minValues.col-dt')).toBe('Date32<DAY>?');
    expect(fields.get('add.stats_parsed.minValues.col-st.col-x')).toBe('Int64?');
    // No min/max for boolean, binary, arrays; nullCount for all; partition columns excluded.
    expect(fields.has('add.stats_parsed.minValues.col-bool')).toBe(false);
    expect(fields.has('add.stats_parsed.minValues.col-arr')).toBe(false);
    expect(fields.get('add.stats_parsed.nullCount.col-arr')).toBe('Int64?');
    expect(fields.get('add.stats_parsed.nullCount.col-bin')).toBe('Int64?');
    expect(fields.has('add.stats_parsed.nullCount.col-pdate')).toBe(false);
    expect(fields.get('add.partitionValues_parsed.col-pdate')).toBe('Date32<DAY>?');
    expect(fields.get('add.partitionValues_parsed.col-pint')).toBe('Int32?');

    const bytes = checkpointToParquet(table);
    const actions = actionsFromCheckpointParquet(bytes, { table: 't', file: 'cp', version: 4 });
    const adds = actions.flatMap((a) => ('add' in a ? [a.add] : []));
    expect(adds.map((a) => a.path)).toEqual(['f1.parquet', 'f2.parquet']);
    const parsed = adds[0]!.statsParsed!;
    expect(adds[0]!.stats).toBe(STATS_JSON);
    expect(parsed.numRecords).toBe(10);
    expect(parsed.tightBounds).toBe(true);
    expect(parsed.minValues).toEqual({
      'col-b': -3,
      'col-s': -300,
      'col-i': -70000,
      'col-l': 9007199254740992, // read back as a JS number (the reader's Int64 rule)
      'col-f': 1.5,
      'col-d': -2.25,
      'col-dec': '12345678901234567.891',
      'col-str': 'aa',
      'col-dt': '2021-01-02',
      'col-ts': '2021-11-18T02:30:00.123000Z',
      'col-ntz': '2021-11-18T02:30:00.123000',
      'col-st': { 'col-x': 4 },
    });
    expect(parsed.maxValues).toEqual({
      'col-b': 3,
      'col-i': 70000,
      'col-str': 'zz',
      'col-dt': '2021-12-31',
      'col-ts': '2021-11-18T02:30:00.000000Z',
    });
    expect(parsed.nullCount).toEqual({
      'col-b': 0,
      'col-bool': 1,
      'col-bin': 2,
      'col-arr': 3,
      'col-st': { 'col-x': 4 },
    });
    expect(adds[1]!.statsParsed).toBeUndefined();

    const pv = readParquetTable(bytes).getChild('add')!.getChild('partitionValues_parsed')!;
    const rows = [...Array(pv.length).keys()].filter((i) => pv.isValid(i)).map((i) => pv.get(i)!.toJSON());
    expect(rows).toEqual([
      { 'col-pdate': Date.UTC(2021, 2, 4), 'col-pint': null },
      { 'col-pdate': Date.UTC(2021, 2, 4), 'col-pint': null },
    ]);
  });

  it('writes stats_parsed only, without the JSON column, when writeStatsAsJson is false (dat-stats_as_struct)', async () => {
    const dir = copyTable('dat-stats_as_struct');
    const store = new LocalStore(dir);
    const before = await loadSnapshot(store);
    const json = before.files()[0]!.stats!;
    expect(json).toBeDefined();
    await writeCheckpoint(store, before);
    const schema = readParquetTable(readFileSync(path.join(dir, LOG, cpName(before.version)))).schema;
    const fields = fieldList(schema.fields);
    expect(fields.has('add.stats')).toBe(false);
    expect(fields.get('add.stats_parsed.minValues.date')).toBe('Date32<DAY>?');
    expect(fields.get('add.stats_parsed.minValues.int')).toBe('Int64?');

    dropLogUpTo(dir, before.version);
    const after = await loadSnapshot(store);
    const add = after.files()[0]!;
    expect(add.stats).toBeUndefined();
    const expected = parseStats(json)!;
    expect(add.statsParsed).toEqual(expected);
    expect(add.statsParsed?.minValues).toEqual({ letter: 'a', int: 93, date: '1975-06-01' });

    // Next checkpoint, from statsParsed alone: the stats survive.
    await writeCheckpoint(store, after);
    const again = await loadSnapshot(store);
    expect(again.files()[0]!.statsParsed).toEqual(add.statsParsed);
  });

  it('rebuilds the stats JSON from statsParsed when the JSON is missing', () => {
    const state = syntheticState({});
    const f2 = state.files.get('f2.parquet')!;
    const statsParsed: FileStats = {
      numRecords: 3,
      minValues: { 'col-dec': '-0.500', 'col-str': 'a"b', 'col-ts': '2021-11-18T02:30:00.123000Z' },
      nullCount: { 'col-dec': 0 },
    };
    state.files.set('f2.parquet', { ...f2, statsParsed });
    const bytes = checkpointToParquet(buildCheckpoint(state, { now: 0 }).table);
    const add = actionsFromCheckpointParquet(bytes, { table: 't', file: 'cp', version: 4 }).flatMap((a) =>
      'add' in a && a.add.path === 'f2.parquet' ? [a.add] : [],
    )[0]!;
    expect(add.stats).toBe(
      '{"numRecords":3,"minValues":{"col-dec":-0.500,"col-str":"a\\"b","col-ts":"2021-11-18T02:30:00.123000Z"},"nullCount":{"col-dec":0}}',
    );
    expect(parseStats(add.stats)?.minValues?.['col-dec']).toBe(-0.5);
  });

  it('column mapping: stats_parsed uses physical names (golden-table-with-columnmapping-mode-name)', async () => {
    const s = await loadSnapshot(new LocalStore(copyTable('golden-table-with-columnmapping-mode-name')));
    const state = withConfiguration(s.tableState, { 'delta.checkpoint.writeStatsAsStruct': 'true' });
    const bytes = checkpointToParquet(buildCheckpoint(state, { now: 0 }).table);
    const names = [...fieldList(readParquetTable(bytes).schema.fields).keys()].filter((k) =>
      k.startsWith('add.stats_parsed.minValues.'),
    );
    expect(names.length).toBeGreaterThan(3);
    for (const n of names) expect(n).toMatch(/^add\.stats_parsed\.minValues\.col-/);
    const adds = actionsFromCheckpointParquet(bytes, { table: 't', file: 'cp', version: s.version }).flatMap(
      (a) => ('add' in a ? [a.add] : []),
    );
    const withStats = adds.filter((a) => a.stats);
    expect(withStats.length).toBeGreaterThan(0);
    for (const a of withStats) expect(a.statsParsed?.numRecords).toBe(parseStats(a.stats)?.numRecords);
  });
});
