import type { ObjectMeta } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import type { Action, AddAction, DeletionVectorDescriptor, RemoveAction } from '../actions/types.js';
import { applyActions, emptyState } from '../snapshot/replay.js';
import { Snapshot } from '../snapshot/snapshot.js';
import { z85EncodeUuid } from '../util/z85.js';
import { isHiddenPath, planVacuum, referencedKeys, resolveVacuumRetention } from './vacuum-plan.js';

const SCHEMA = JSON.stringify({
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: '_2', type: 'string', nullable: true, metadata: {} },
  ],
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = 1_000 * DAY;

function snapshotOf(commits: Action[][], configuration: Record<string, string> = {}): Snapshot {
  const state = emptyState();
  applyActions(
    state,
    [
      { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
      {
        metaData: {
          id: 'm',
          format: { provider: 'parquet', options: {} },
          schemaString: SCHEMA,
          partitionColumns: ['_2'],
          configuration,
        },
      },
    ],
    0,
  );
  commits.forEach((c, i) => {
    applyActions(state, c, i + 1);
  });
  return new Snapshot('file:///tables/t', state, 0);
}

const add = (path: string, extra: Partial<AddAction> = {}): Action => ({
  add: { path, partitionValues: { _2: 'x' }, size: 100, modificationTime: 0, dataChange: true, ...extra },
});
const remove = (
  path: string,
  deletionTimestamp: number | undefined,
  extra: Partial<RemoveAction> = {},
): Action => ({
  remove: {
    path,
    dataChange: true,
    size: 100,
    ...(deletionTimestamp !== undefined ? { deletionTimestamp } : {}),
    ...extra,
  },
});
const meta = (key: string, lastModified = NOW - 30 * DAY, size = 10): ObjectMeta => ({
  key,
  size,
  lastModified,
});

const UUID = '61d16c75-6994-46b7-a15b-8b538852e50e';
const dv = (uuid = UUID): DeletionVectorDescriptor => ({
  storageType: 'u',
  pathOrInlineDv: z85EncodeUuid(uuid),
  offset: 1,
  sizeInBytes: 10,
  cardinality: 1,
});

describe('referencedKeys', () => {
  it('holds live files, tombstones removed inside the window, and their DV files', () => {
    const snap = snapshotOf([
      [
        add('_2=x/live.parquet', { deletionVector: dv() }),
        add('_2=x/recent.parquet'),
        add('_2=x/old.parquet'),
      ],
      [remove('_2=x/recent.parquet', NOW - HOUR), remove('_2=x/old.parquet', NOW - 8 * DAY)],
      [
        add('_2=x/with%20space.parquet'),
        add('file:///tables/t/abs.parquet'),
        add('s3://elsewhere/x.parquet'),
      ],
    ]);
    const keys = referencedKeys(snap, NOW - 7 * DAY);
    expect([...keys].sort()).toEqual(
      [
        '_2=x/live.parquet',
        `deletion_vector_${UUID}.bin`,
        '_2=x/recent.parquet',
        '_2=x/with space.parquet',
        'abs.parquet',
      ].sort(),
    );
  });
});

describe('isHiddenPath', () => {
  it('hides _ and . segments except partition directories', () => {
    const prefixes = ['_2='];
    expect(isHiddenPath('_delta_log/00000000000000000000.json', prefixes)).toBe(true);
    expect(isHiddenPath('_change_data/cdc-1.parquet', prefixes)).toBe(true);
    expect(isHiddenPath('_2=x/.part-1.parquet.crc', prefixes)).toBe(true);
    expect(isHiddenPath('_2=x/_SUCCESS', prefixes)).toBe(true);
    expect(isHiddenPath('_2=bar+%2522/part-0.parquet', prefixes)).toBe(false);
    expect(isHiddenPath('a/.hidden/part-0.parquet', prefixes)).toBe(true);
    expect(isHiddenPath('_3=x/part-0.parquet', prefixes)).toBe(true);
    expect(isHiddenPath('part-0.parquet', prefixes)).toBe(false);
    // A file (not a directory) named like a partition directory stays hidden.
    expect(isHiddenPath('_2=x', prefixes)).toBe(true);
  });
});

describe('planVacuum', () => {
  const snap = snapshotOf([
    [add('_2=x/live.parquet'), add('_2=x/recent.parquet'), add('_2=x/old.parquet'), add('_2=x/nots.parquet')],
    [
      remove('_2=x/recent.parquet', NOW - HOUR),
      remove('_2=x/old.parquet', NOW - 8 * DAY),
      remove('_2=x/nots.parquet', undefined),
    ],
    [remove('gone.parquet', NOW - 9 * DAY, { deletionVector: dv() })],
  ]);
  const listing = [
    meta('_delta_log/00000000000000000000.json'),
    meta('_delta_log/_last_checkpoint'),
    meta('_2=x/live.parquet'),
    meta('_2=x/recent.parquet'),
    meta('_2=x/old.parquet'),
    meta('_2=x/.old.parquet.crc'),
    meta('_2=x/orphan-old.parquet'),
    meta('_2=x/orphan-new.parquet', NOW - HOUR),
    meta('_change_data/x.parquet'),
    meta('notes.txt'),
  ];

  it('lite: deletes only the files of expired tombstones (and their DVs)', () => {
    const plan = planVacuum(snap, undefined, { mode: 'lite', now: NOW, retentionMs: 7 * DAY });
    expect(plan.cutoff).toBe(NOW - 7 * DAY);
    expect(plan.deletions).toEqual([
      { key: '_2=x/nots.parquet', size: 100, reason: 'expired-tombstone' },
      { key: '_2=x/old.parquet', size: 100, reason: 'expired-tombstone' },
      { key: `deletion_vector_${UUID}.bin`, reason: 'expired-tombstone' },
      { key: 'gone.parquet', size: 100, reason: 'expired-tombstone' },
    ]);
    expect(plan.metrics).toMatchObject({ tombstonesRetained: 1, tombstonesExpired: 3, filesListed: 0 });
  });

  it('full: also unreferenced files older than the cutoff; never hidden or recent ones', () => {
    const plan = planVacuum(snap, listing, { mode: 'full', now: NOW, retentionMs: 7 * DAY });
    expect(plan.deletions.map((d) => [d.key, d.reason])).toEqual([
      ['_2=x/old.parquet', 'expired-tombstone'],
      ['_2=x/orphan-old.parquet', 'unreferenced'],
      ['notes.txt', 'unreferenced'],
    ]);
    expect(plan.metrics).toMatchObject({ filesListed: 10, hiddenSkipped: 4, recentSkipped: 1 });
    expect(() => planVacuum(snap, undefined, { mode: 'full', now: NOW, retentionMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('lite: also removes read from old commits (dropped from checkpoints), unless re-added or retained', () => {
    const fromLog = [
      { path: 'from-log.parquet', dataChange: true, deletionTimestamp: NOW - 20 * DAY, size: 7 },
      { path: '_2=x/live.parquet', dataChange: true, deletionTimestamp: NOW - 20 * DAY },
      { path: '_2=x/recent.parquet', dataChange: true, deletionTimestamp: NOW - 20 * DAY },
      { path: 'too-new.parquet', dataChange: true, deletionTimestamp: NOW - HOUR },
    ];
    const plan = planVacuum(snap, undefined, {
      mode: 'lite',
      now: NOW,
      retentionMs: 7 * DAY,
      expiredRemoves: fromLog,
    });
    const keys = plan.deletions.map((d) => d.key);
    expect(keys).toContain('from-log.parquet');
    expect(keys).not.toContain('_2=x/live.parquet');
    expect(keys).not.toContain('_2=x/recent.parquet');
    expect(keys).not.toContain('too-new.parquet');
    // Full mode finds such files by listing instead.
    const full = planVacuum(snap, [], {
      mode: 'full',
      now: NOW,
      retentionMs: 7 * DAY,
      expiredRemoves: fromLog,
    });
    expect(full.deletions).toEqual([]);
  });

  it('keeps the files of windowRemoves (tombstones a checkpoint dropped) in both modes', () => {
    const windowRemoves = [
      { path: '_2=x/orphan-old.parquet', dataChange: true, deletionTimestamp: NOW - 3 * DAY },
      { path: '_2=x/old.parquet', dataChange: true, deletionTimestamp: NOW - 8 * DAY, deletionVector: dv() },
    ];
    const full = planVacuum(snap, listing, { mode: 'full', now: NOW, retentionMs: 7 * DAY, windowRemoves });
    expect(full.deletions.map((d) => d.key)).toEqual(['notes.txt']);
    const lite = planVacuum(snap, undefined, { mode: 'lite', now: NOW, retentionMs: 7 * DAY, windowRemoves });
    expect(lite.deletions.map((d) => d.key)).toEqual(['_2=x/nots.parquet', 'gone.parquet']);
  });

  it('a DV file still referenced by a live file is kept even if an expired tombstone shares it', () => {
    const shared = snapshotOf([
      [add('a.parquet', { deletionVector: dv() })],
      [remove('b.parquet', NOW - 30 * DAY, { deletionVector: dv() })],
    ]);
    const plan = planVacuum(shared, undefined, { mode: 'lite', now: NOW, retentionMs: 7 * DAY });
    expect(plan.deletions.map((d) => d.key)).toEqual(['b.parquet']);
  });

  it('with retention 0, every removed file is eligible', () => {
    const plan = planVacuum(snap, listing, { mode: 'full', now: NOW, retentionMs: 0 });
    expect(plan.deletions.map((d) => d.key)).toContain('_2=x/recent.parquet');
    expect(plan.deletions.map((d) => d.key)).toContain('_2=x/orphan-new.parquet');
    expect(plan.deletions.map((d) => d.key)).not.toContain('_2=x/live.parquet');
  });
});

describe('resolveVacuumRetention', () => {
  it("defaults to the table's delta.deletedFileRetentionDuration (7 days)", () => {
    expect(resolveVacuumRetention(snapshotOf([]))).toBe(7 * DAY);
    expect(
      resolveVacuumRetention(snapshotOf([], { 'delta.deletedFileRetentionDuration': 'interval 2 days' })),
    ).toBe(2 * DAY);
  });

  it('refuses a shorter retention unless forced', () => {
    expect(() => resolveVacuumRetention(snapshotOf([]), { retentionMs: HOUR })).toThrow(
      expect.objectContaining({
        code: 'VACUUM_RETENTION_TOO_SHORT',
        details: { table: 'file:///tables/t', retentionMs: HOUR, tableRetentionMs: 7 * DAY },
      }),
    );
    expect(resolveVacuumRetention(snapshotOf([]), { retentionMs: HOUR, force: true })).toBe(HOUR);
    expect(resolveVacuumRetention(snapshotOf([]), { retentionMs: 8 * DAY })).toBe(8 * DAY);
    expect(() => resolveVacuumRetention(snapshotOf([]), { retentionMs: -1, force: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
