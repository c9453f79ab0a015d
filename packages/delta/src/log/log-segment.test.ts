import { MemoryStore, type ObjectMeta, type ObjectStore, WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import {
  type LogListing,
  listLog,
  organizeListing,
  planLogSegment,
  readLastCheckpointHint,
} from './log-segment.js';

const UUID_A = '3a0d65cd-4056-49b8-937b-95f9e3ee90e5';
const UUID_B = 'f1e2d3c4-0000-4000-8000-123456789abc';
const TABLE = 'memory://t';
const v = (n: number) => String(n).padStart(20, '0');
const commit = (n: number) => `_delta_log/${v(n)}.json`;
const classic = (n: number) => `_delta_log/${v(n)}.checkpoint.parquet`;
const part = (n: number, p: number, of: number) =>
  `_delta_log/${v(n)}.checkpoint.${String(p).padStart(10, '0')}.${String(of).padStart(10, '0')}.parquet`;
const v2 = (n: number, uuid = UUID_A, format = 'parquet') =>
  `_delta_log/${v(n)}.checkpoint.${uuid}.${format}`;

/** A listing from key names; lastModified = 1000 * (index + 1), size = 10. */
function listing(...keys: string[]): LogListing {
  return organizeListing(keys.map((key, i) => ({ key, size: 10, lastModified: 1000 * (i + 1) })));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const commits = (from: number, to: number) => range(from, to).map(commit);

function planError(l: LogListing, version?: number): WeirError {
  try {
    planLogSegment(l, { table: TABLE, ...(version !== undefined ? { version } : {}) });
  } catch (err) {
    expect(err).toBeInstanceOf(WeirError);
    return err as WeirError;
  }
  throw new Error('expected planLogSegment to throw');
}

describe('organizeListing', () => {
  it('sorts commits by version whatever the listing order', () => {
    const l = listing(commit(2), commit(0), commit(10), commit(1));
    expect(l.commits.map((c) => c.version)).toEqual([0, 1, 2, 10]);
    expect(l.commits[0]).toEqual({ key: commit(0), version: 0, size: 10, lastModified: 2000 });
  });

  it('ignores files that are not commits or checkpoints', () => {
    const l = listing(
      commit(0),
      '_delta_log/_last_checkpoint',
      `_delta_log/.${v(0)}.json.crc`,
      `_delta_log/${v(0)}.crc`,
      `_delta_log/_sidecars/${UUID_A}.parquet`,
      `_delta_log/${v(0)}.${v(1)}.compacted.json`,
    );
    expect(l.commits.map((c) => c.key)).toEqual([commit(0)]);
    expect(l.checkpoints).toEqual([]);
  });

  it('keeps a multi-part checkpoint only when every part is listed, parts in order', () => {
    const complete = listing(part(5, 3, 3), part(5, 1, 3), part(5, 2, 3));
    expect(complete.checkpoints).toHaveLength(1);
    expect(complete.checkpoints[0]!.kind).toBe('multipart');
    expect(complete.checkpoints[0]!.files.map((f) => f.part)).toEqual([1, 2, 3]);

    expect(listing(part(5, 1, 3), part(5, 3, 3)).checkpoints).toEqual([]);
    expect(listing(part(5, 1, 2)).checkpoints).toEqual([]);
  });

  it('does not mix parts of two splits of the same version', () => {
    // A writer retried with another split: parts 1/2 and 2/3 together are not a checkpoint.
    expect(listing(part(5, 1, 2), part(5, 2, 3), part(5, 3, 3)).checkpoints).toEqual([]);
    const l = listing(part(5, 1, 2), part(5, 1, 3), part(5, 2, 3), part(5, 3, 3));
    expect(l.checkpoints).toHaveLength(1);
    expect(l.checkpoints[0]!.files.map((f) => f.key)).toEqual([part(5, 1, 3), part(5, 2, 3), part(5, 3, 3)]);
  });

  it('rejects a multi-part set whose part numbers are out of range', () => {
    expect(listing(part(5, 1, 2), part(5, 3, 2)).checkpoints).toEqual([]);
    expect(listing(part(5, 0, 2), part(5, 1, 2)).checkpoints).toEqual([]);
  });

  it('orders checkpoints by version, and within a version puts the preferred kind last', () => {
    const l = listing(v2(3), classic(3), part(3, 1, 1), classic(1), v2(7, UUID_B, 'json'));
    expect(l.checkpoints.map((c) => `${c.version}:${c.kind}`)).toEqual([
      '1:classic',
      '3:multipart',
      '3:classic',
      '3:v2',
      '7:v2',
    ]);
    expect(l.checkpoints.at(-1)!.files[0]!.format).toBe('json');
  });
});

describe('planLogSegment', () => {
  it('plans the whole log when there is no checkpoint', () => {
    const seg = planLogSegment(listing(...commits(0, 3)), { table: TABLE });
    expect(seg.version).toBe(3);
    expect(seg.checkpoint).toBeUndefined();
    expect(seg.commits.map((c) => c.version)).toEqual([0, 1, 2, 3]);
    expect(seg.table).toBe(TABLE);
  });

  it('starts from the newest checkpoint at or below the target version', () => {
    const l = listing(...commits(0, 12), classic(4), classic(8), classic(12));
    const latest = planLogSegment(l, { table: TABLE });
    expect(latest.version).toBe(12);
    expect(latest.checkpoint?.version).toBe(12);
    expect(latest.commits).toEqual([]);

    const v10 = planLogSegment(l, { table: TABLE, version: 10 });
    expect(v10.checkpoint?.version).toBe(8);
    expect(v10.commits.map((c) => c.version)).toEqual([9, 10]);

    const v8 = planLogSegment(l, { table: TABLE, version: 8 });
    expect(v8.checkpoint?.version).toBe(8);
    expect(v8.commits).toEqual([]);

    const v3 = planLogSegment(l, { table: TABLE, version: 3 });
    expect(v3.checkpoint).toBeUndefined();
    expect(v3.commits.map((c) => c.version)).toEqual([0, 1, 2, 3]);
  });

  it('ignores an incomplete multi-part checkpoint and uses an older one', () => {
    const l = listing(...commits(0, 6), classic(2), part(5, 1, 2));
    const seg = planLogSegment(l, { table: TABLE });
    expect(seg.checkpoint?.version).toBe(2);
    expect(seg.commits.map((c) => c.version)).toEqual([3, 4, 5, 6]);
  });

  it('uses a complete multi-part checkpoint with all its parts', () => {
    const l = listing(...commits(0, 6), part(5, 2, 2), part(5, 1, 2));
    const seg = planLogSegment(l, { table: TABLE });
    expect(seg.checkpoint?.kind).toBe('multipart');
    expect(seg.checkpoint?.files.map((f) => f.key)).toEqual([part(5, 1, 2), part(5, 2, 2)]);
    expect(seg.commits.map((c) => c.version)).toEqual([6]);
  });

  it('prefers a V2 checkpoint over classic and multi-part ones of the same version', () => {
    const l = listing(...commits(0, 6), part(5, 1, 1), classic(5), v2(5));
    expect(planLogSegment(l, { table: TABLE }).checkpoint?.kind).toBe('v2');
    const noV2 = listing(...commits(0, 6), part(5, 1, 1), classic(5));
    expect(planLogSegment(noV2, { table: TABLE }).checkpoint?.kind).toBe('classic');
  });

  it('reads a table whose early log was cleaned up, from its checkpoint', () => {
    // Like drs-checkpoints_vacuumed: the log starts at a checkpoint.
    const l = listing(...commits(5, 12), classic(5), classic(10));
    const seg = planLogSegment(l, { table: TABLE, version: 7 });
    expect(seg.checkpoint?.version).toBe(5);
    expect(seg.commits.map((c) => c.version)).toEqual([6, 7]);
  });

  it('names the missing version when the log has a gap (VERSIONS_NOT_CONTIGUOUS)', () => {
    const err = planError(listing(commit(0), commit(2)));
    expect(err.code).toBe('VERSIONS_NOT_CONTIGUOUS');
    expect(err.details).toMatchObject({ table: TABLE, missingVersion: 1 });

    const wide = planError(listing(...commits(0, 3), ...commits(7, 9)), 9);
    expect(wide.code).toBe('VERSIONS_NOT_CONTIGUOUS');
    expect(wide.details).toMatchObject({ missingVersion: 4 });
  });

  it('names a gap after the checkpoint', () => {
    const err = planError(listing(...commits(0, 4), classic(4), commit(6)));
    expect(err.code).toBe('VERSIONS_NOT_CONTIGUOUS');
    expect(err.details).toMatchObject({ missingVersion: 5 });
  });

  it('does not care about a gap that the checkpoint covers', () => {
    const l = listing(commit(0), ...commits(2, 6), classic(4));
    expect(planLogSegment(l, { table: TABLE }).commits.map((c) => c.version)).toEqual([5, 6]);
    // ... but a version below the checkpoint needs the gap.
    expect(planError(l, 3)).toMatchObject({
      code: 'VERSIONS_NOT_CONTIGUOUS',
      details: { missingVersion: 1 },
    });
  });

  it('names a missing version just below a checkpoint-only latest version', () => {
    // Commits stop at 8, a checkpoint exists at 10: version 9 cannot be built.
    const l = listing(...commits(0, 8), classic(10));
    expect(planLogSegment(l, { table: TABLE }).version).toBe(10);
    const err = planError(l, 9);
    expect(err.code).toBe('VERSIONS_NOT_CONTIGUOUS');
    expect(err.details).toMatchObject({ missingVersion: 9, version: 9 });
  });

  it('refuses a version past the latest (VERSION_NOT_FOUND)', () => {
    const err = planError(listing(...commits(0, 3)), 4);
    expect(err.code).toBe('VERSION_NOT_FOUND');
    expect(err.details).toMatchObject({ table: TABLE, version: 4, latest: 3 });
  });

  it.each([-1, 1.5, Number.NaN])('refuses an invalid version %s (INVALID_VERSION)', (version) => {
    expect(planError(listing(...commits(0, 3)), version).code).toBe('INVALID_VERSION');
  });

  it('refuses versions whose log was cleaned up (VERSION_NOT_AVAILABLE)', () => {
    const l = listing(...commits(5, 12), classic(5), classic(10));
    for (const version of [0, 3, 4]) {
      const err = planError(l, version);
      expect(err.code).toBe('VERSION_NOT_AVAILABLE');
      expect(err.details).toMatchObject({ table: TABLE, version, earliest: 5 });
    }
  });

  it('refuses a version whose commit is kept but whose history before it is gone', () => {
    // Commits 3..4 survive, but 0..2 are gone and the first checkpoint is at 5: 3 and 4 cannot be built.
    const l = listing(...commits(3, 8), classic(5));
    for (const version of [3, 4]) {
      const err = planError(l, version);
      expect(err.code).toBe('VERSION_NOT_AVAILABLE');
      expect(err.details).toMatchObject({ version, earliest: 5 });
    }
    expect(planLogSegment(l, { table: TABLE, version: 6 }).checkpoint?.version).toBe(5);
  });

  it('refuses a version below a checkpoint when only the checkpoint is left', () => {
    const l = listing(classic(10));
    expect(planLogSegment(l, { table: TABLE }).checkpoint?.version).toBe(10);
    expect(planError(l, 3)).toMatchObject({ code: 'VERSION_NOT_AVAILABLE', details: { version: 3 } });
  });

  it('reports a log without version 0 and without any checkpoint as missing version 0', () => {
    const err = planError(listing(...commits(2, 4)));
    expect(err.code).toBe('VERSIONS_NOT_CONTIGUOUS');
    expect(err.details).toMatchObject({ missingVersion: 0 });
  });

  it('says NOT_A_DELTA_TABLE for an empty log', () => {
    const err = planError(listing());
    expect(err.code).toBe('NOT_A_DELTA_TABLE');
    expect(err.details).toEqual({ table: TABLE });
    expect(planError(listing('_delta_log/_last_checkpoint', part(3, 1, 2))).code).toBe('NOT_A_DELTA_TABLE');
  });
});

const enc = (s: string) => new TextEncoder().encode(s);

describe('listLog', () => {
  it('lists and organizes the whole log, ignoring data files', async () => {
    const store = new MemoryStore('t');
    for (const k of [...commits(0, 3), classic(2), 'part-0.parquet', '_delta_log/_last_checkpoint']) {
      await store.put(k, enc('x'));
    }
    const l = await listLog(store);
    expect(l.commits.map((c) => c.version)).toEqual([0, 1, 2, 3]);
    expect(l.checkpoints.map((c) => c.version)).toEqual([2]);
    expect(l.commits[0]!.size).toBe(1);
  });

  it('lists only from a version on, checkpoints of that version included', async () => {
    const store = new MemoryStore('t');
    for (const k of [...commits(0, 12), classic(9), part(10, 1, 1), v2(11), `_delta_log/${v(9)}.crc`]) {
      await store.put(k, enc('x'));
    }
    const l = await listLog(store, { fromVersion: 10 });
    expect(l.commits.map((c) => c.version)).toEqual([10, 11, 12]);
    expect(l.checkpoints.map((c) => `${c.version}:${c.kind}`)).toEqual(['10:multipart', '11:v2']);
    expect((await listLog(store, { fromVersion: 0 })).commits).toHaveLength(13);
  });

  it('passes a startAfter that sorts after every file of the previous version', async () => {
    const seen: (string | undefined)[] = [];
    const inner = new MemoryStore('t');
    const spy: ObjectStore = Object.assign(Object.create(inner) as ObjectStore, {
      list(prefix: string, options?: { startAfter?: string }): AsyncIterable<ObjectMeta> {
        seen.push(options?.startAfter);
        return inner.list(prefix, options);
      },
    });
    await listLog(spy, { fromVersion: 100 });
    expect(seen[0]! > `_delta_log/${v(99)}.json`).toBe(true);
    expect(seen[0]! > `_delta_log/${v(99)}.checkpoint.${UUID_B}.parquet`).toBe(true);
    expect(seen[0]! < `_delta_log/${v(100)}.json`).toBe(true);
  });
});

describe('readLastCheckpointHint', () => {
  it('returns the parsed hint', async () => {
    const store = new MemoryStore('t');
    await store.put(
      '_delta_log/_last_checkpoint',
      enc('{"version":10,"size":4,"parts":2,"sizeInBytes":99}\n'),
    );
    expect(await readLastCheckpointHint(store)).toEqual({ version: 10, size: 4, parts: 2, sizeInBytes: 99 });
  });

  it('returns undefined when the file is missing', async () => {
    expect(await readLastCheckpointHint(new MemoryStore('t'))).toBeUndefined();
  });

  it.each([
    ['garbage', '\u0000\u0001garbage'],
    ['truncated JSON', '{"version":10,"si'],
    ['empty', ''],
    ['null', 'null'],
    ['an array', '[1,2]'],
    ['a string version', '{"version":"10"}'],
    ['a negative version', '{"version":-1}'],
    ['a fractional version', '{"version":1.5}'],
    ['no version', '{"size":3}'],
  ])('returns undefined for %s', async (_label, text) => {
    const store = new MemoryStore('t');
    await store.put('_delta_log/_last_checkpoint', enc(text));
    expect(await readLastCheckpointHint(store)).toBeUndefined();
  });

  it('passes other storage errors through (they are not "missing")', async () => {
    const failing = Object.assign(Object.create(new MemoryStore('t')) as ObjectStore, {
      async get(): Promise<Uint8Array> {
        throw new WeirError('STORE_UNAVAILABLE', 'down', { retryable: true });
      },
    });
    await expect(readLastCheckpointHint(failing)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
