import { describe, expect, it } from 'vitest';
import type { Action, AddAction } from '../actions/types.js';
import { applyActions, emptyState } from '../snapshot/replay.js';
import { Snapshot } from '../snapshot/snapshot.js';
import { AutoCompactionPolicy } from './auto-compaction.js';
import { planOptimize } from './optimize-plan.js';

const SCHEMA = JSON.stringify({
  type: 'struct',
  fields: [
    { name: 'id', type: 'long', nullable: true, metadata: {} },
    { name: 'day', type: 'date', nullable: true, metadata: {} },
    { name: 'region', type: 'string', nullable: true, metadata: {} },
  ],
});

function snapshotOf(
  adds: AddAction[],
  options: { partitionColumns?: string[]; configuration?: Record<string, string> } = {},
): Snapshot {
  const state = emptyState();
  const actions: Action[] = [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      metaData: {
        id: 'm',
        format: { provider: 'parquet', options: {} },
        schemaString: SCHEMA,
        partitionColumns: options.partitionColumns ?? ['day'],
        configuration: options.configuration ?? {},
      },
    },
    ...adds.map((add): Action => ({ add })),
  ];
  applyActions(state, actions, 3);
  return new Snapshot('memory://t', state, 0);
}

let clock = 0;
function file(name: string, size: number, extra: Partial<AddAction> = {}): AddAction {
  return {
    path: name,
    partitionValues: { day: '2024-05-01' },
    size,
    modificationTime: ++clock,
    dataChange: true,
    stats: '{"numRecords":10}',
    ...extra,
  };
}
const day = (d: string) => ({ partitionValues: { day: d } });
const MiB = 1024 * 1024;

describe('planOptimize', () => {
  it('packs small files of each partition next-fit in stream order, bins within the target', () => {
    const files = [
      file('a1', 40 * MiB),
      file('a2', 50 * MiB),
      file('a3', 30 * MiB), // 120 MiB so far
      file('a4', 20 * MiB), // would make 140: starts a new bin
      file('a5', 10 * MiB),
      file('b1', 5 * MiB, day('2024-05-02')),
      file('b2', 5 * MiB, day('2024-05-02')),
      file('big', 200 * MiB), // not a candidate
    ];
    const plan = planOptimize(snapshotOf(files));
    expect(plan.targetSize).toBe(128 * MiB);
    expect(plan.bins.map((b) => b.files.map((f) => f.path))).toEqual([
      ['a1', 'a2', 'a3'],
      ['a4', 'a5'],
      ['b1', 'b2'],
    ]);
    expect(plan.bins.map((b) => b.partition)).toEqual(['day=2024-05-01', 'day=2024-05-01', 'day=2024-05-02']);
    expect(plan.bins[0]!.inputBytes).toBe(120 * MiB);
    expect(plan.bins[0]!.inputRows).toBe(30);
    expect(plan.bins[2]!.partitionValues).toEqual({ day: '2024-05-02' });
    expect(plan.metrics).toMatchObject({
      totalFiles: 8,
      filesConsidered: 8,
      candidateFiles: 7,
      partitionsConsidered: 2,
      filesInBins: 7,
      binsDeferred: 0,
    });
    expect(plan.bins.map((b) => b.id)).toEqual([0, 1, 2]);
  });

  it('follows modificationTime, not path order', () => {
    const plan = planOptimize(
      snapshotOf([
        file('z', 1, { modificationTime: 1 }),
        file('a', 1, { modificationTime: 3 }),
        file('m', 1, { modificationTime: 2 }),
      ]),
    );
    expect(plan.bins[0]!.files.map((f) => f.path)).toEqual(['z', 'm', 'a']);
  });

  it('honours delta.targetFileSize and an explicit targetSize', () => {
    const files = Array.from({ length: 6 }, (_, i) => file(`f${i}`, 400));
    const byTable = planOptimize(snapshotOf(files, { configuration: { 'delta.targetFileSize': '1000' } }));
    expect(byTable.targetSize).toBe(1000);
    expect(byTable.bins.map((b) => b.files.length)).toEqual([2, 2, 2]);
    const explicit = planOptimize(snapshotOf(files), { targetSize: 1200 });
    expect(explicit.bins.map((b) => b.files.length)).toEqual([3, 3]);
  });

  it('drops bins below minInputFiles, except a single file with a deletion vector', () => {
    const dv = {
      storageType: 'u' as const,
      pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^',
      sizeInBytes: 10,
      cardinality: 4,
    };
    const plan = planOptimize(
      snapshotOf([
        file('lonely', 10),
        file('dv', 500 * MiB, { ...day('2024-05-02'), deletionVector: dv }),
        file('x', 10, day('2024-05-03')),
        file('y', 10, day('2024-05-03')),
      ]),
    );
    expect(plan.bins.map((b) => b.files.map((f) => f.path))).toEqual([['dv'], ['x', 'y']]);
    expect(plan.bins[0]!.deletionVectors).toBe(1);
    expect(plan.bins[0]!.inputRows).toBe(6);
    const three = planOptimize(snapshotOf([file('a', 1), file('b', 1)]), { minInputFiles: 3 });
    expect(three.bins).toEqual([]);
  });

  it('leaves files at or above minFileSize alone', () => {
    const plan = planOptimize(snapshotOf([file('a', 100), file('b', 100), file('c', 10), file('d', 10)]), {
      minFileSize: 50,
    });
    expect(plan.bins.map((b) => b.files.map((f) => f.path))).toEqual([['c', 'd']]);
    expect(plan.metrics.candidateFiles).toBe(2);
  });

  it('restricts to partitions matching a partition predicate', () => {
    const files = [
      file('a', 1),
      file('b', 1),
      file('c', 1, day('2024-06-01')),
      file('d', 1, day('2024-06-01')),
      file('n1', 1, { partitionValues: { day: null } }),
      file('n2', 1, { partitionValues: { day: null } }),
    ];
    const plan = planOptimize(snapshotOf(files), { where: "day >= DATE '2024-06-01'" });
    expect(plan.predicate).toBe("day >= DATE '2024-06-01'");
    expect(plan.bins.map((b) => b.files.map((f) => f.path))).toEqual([['c', 'd']]);
    expect(plan.metrics.filesConsidered).toBe(2);
    const nulls = planOptimize(snapshotOf(files), { where: 'day IS NULL' });
    expect(nulls.bins.map((b) => b.partition)).toEqual(['day=null']);
  });

  it('refuses predicates on data columns, naming them', () => {
    expect(() => planOptimize(snapshotOf([file('a', 1)]), { where: 'id > 3' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIMIZE_PREDICATE',
        details: { table: 'memory://t', columns: ['id'] },
      }),
    );
  });

  it('maxBytesPerRun takes the bins with the most files first and defers the rest', () => {
    const files = [
      file('a1', 60),
      file('a2', 60),
      file('b1', 10, day('2024-05-02')),
      file('b2', 10, day('2024-05-02')),
      file('b3', 10, day('2024-05-02')),
      file('c1', 50, day('2024-05-03')),
      file('c2', 50, day('2024-05-03')),
    ];
    const plan = planOptimize(snapshotOf(files), { maxBytesPerRun: 150 });
    expect(plan.bins.map((b) => b.partition)).toEqual(['day=2024-05-01', 'day=2024-05-02']);
    expect(plan.bins.map((b) => b.id)).toEqual([0, 1]);
    expect(plan.metrics).toMatchObject({ binsDeferred: 1, bytesDeferred: 100, bytesInBins: 150 });
    // The first bin is always taken, even above the budget: every run makes progress.
    expect(planOptimize(snapshotOf(files), { maxBytesPerRun: 1 }).bins).toHaveLength(1);
  });

  it('works on unpartitioned tables and rejects bad options', () => {
    const snap = snapshotOf([file('a', 1, { partitionValues: {} }), file('b', 1, { partitionValues: {} })], {
      partitionColumns: [],
    });
    const plan = planOptimize(snap);
    expect(plan.bins).toHaveLength(1);
    expect(plan.bins[0]!.partition).toBe('');
    for (const bad of [{ targetSize: 0 }, { minInputFiles: 1.5 }, { maxBytesPerRun: -1 }]) {
      expect(() => planOptimize(snap, bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('leaves inputRows unknown when a file has no numRecords', () => {
    const plan = planOptimize(snapshotOf([file('a', 1), file('b', 1, { stats: '{}' })]));
    expect(plan.bins[0]!.inputRows).toBeUndefined();
  });
});

describe('AutoCompactionPolicy', () => {
  const many = (n: number, d = '2024-05-01', size = 1000) =>
    Array.from({ length: n }, (_, i) => file(`${d}-${i}`, size, day(d)));

  it('is due once a partition holds minSmallFiles small files', () => {
    const policy = new AutoCompactionPolicy({ minSmallFiles: 5 });
    expect(policy.shouldCompact(snapshotOf([...many(4), ...many(4, '2024-05-02')]))).toBe(false);
    expect(policy.planFor(snapshotOf(many(4)))).toBeUndefined();
    const snap = snapshotOf([...many(5), ...many(4, '2024-05-02')]);
    expect(policy.shouldCompact(snap)).toBe(true);
    const plan = policy.planFor(snap)!;
    // Only the due partition is compacted.
    expect(plan.bins.map((b) => b.partition)).toEqual(['day=2024-05-01']);
    expect(plan.bins[0]!.files).toHaveLength(5);
  });

  it('counts files below half the target as small by default, and bounds a run', () => {
    const policy = new AutoCompactionPolicy({ minSmallFiles: 3, targetSize: 1000, maxBytesPerRun: 1000 });
    expect(policy.resolve(snapshotOf([])).smallFileSize).toBe(500);
    expect(policy.shouldCompact(snapshotOf(many(3, '2024-05-01', 600)))).toBe(false);
    const plan = policy.planFor(snapshotOf([...many(8, '2024-05-01', 100), ...many(6, '2024-05-02', 100)]))!;
    expect(plan.metrics.bytesInBins).toBeLessThanOrEqual(1000);
    expect(plan.metrics.binsDeferred).toBeGreaterThan(0);
  });

  it('refuses bad thresholds', () => {
    expect(() => new AutoCompactionPolicy({ minSmallFiles: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => new AutoCompactionPolicy({ tierRatio: 0.5 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  /**
   * A partition streaming for a long time: every round adds 20 one-KB files, and whatever the
   * policy plans is applied (a bin becomes one file of its input bytes). Returns the bytes
   * rewritten per byte written and the most live files seen.
   */
  function stream(policy: AutoCompactionPolicy, rounds: number) {
    let live: AddAction[] = [];
    let n = 0;
    let written = 0;
    let rewritten = 0;
    let maxLive = 0;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < 20; i++) live.push(file(`new-${n++}`, 1000));
      written += 20 * 1000;
      for (let plan = policy.planFor(snapshotOf(live)); plan; plan = policy.planFor(snapshotOf(live))) {
        for (const bin of plan.bins) {
          const inputs = new Set(bin.files.map((f) => f.path));
          live = live.filter((f) => !inputs.has(f.path));
          live.push(file(`merged-${n++}`, bin.inputBytes));
          rewritten += bin.inputBytes;
        }
      }
      maxLive = Math.max(maxLive, live.length);
    }
    return { amplification: rewritten / written, maxLive };
  }

  it('tiers its bins, so a long-streaming partition is not rewritten whole with every run', () => {
    const tiered = stream(new AutoCompactionPolicy({ minSmallFiles: 50, targetSize: 1e9 }), 500);
    const flat = stream(
      new AutoCompactionPolicy({ minSmallFiles: 50, targetSize: 1e9, tierRatio: Infinity }),
      500,
    );
    // 10 MB streamed in 1 KB files: rewriting the grown file every run costs ~80x what was
    // written; tiers keep it logarithmic.
    expect(flat.amplification).toBeGreaterThan(50);
    expect(tiered.amplification).toBeLessThan(12);
    // And the live file count stays near the trigger either way.
    expect(tiered.maxLive).toBeLessThan(50 + 20);
    expect(flat.maxLive).toBeLessThan(50 + 20);
  });
});

describe('planOptimize with tierRatio', () => {
  it('takes files smallest first, leaves a file bigger than ratio x the bin, and keeps stream order', () => {
    const grown = file('grown', 100_000);
    const small = [file('s1', 1000), file('s2', 1200), file('s3', 900)];
    const plan = planOptimize(snapshotOf([grown, ...small]), { tierRatio: 2 });
    expect(plan.bins.map((b) => b.files.map((f) => f.path))).toEqual([['s1', 's2', 's3']]);
    // Once enough new bytes have gathered, the grown file joins them.
    const more = Array.from({ length: 50 }, (_, i) => file(`m${i}`, 1000));
    const joined = planOptimize(snapshotOf([grown, ...more]), { tierRatio: 2 });
    expect(joined.bins).toHaveLength(1);
    expect(joined.bins[0]!.files[0]!.path).toBe('grown'); // stream order, not size order
    expect(joined.bins[0]!.files).toHaveLength(51);
    expect(() => planOptimize(snapshotOf(small), { tierRatio: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });
});
