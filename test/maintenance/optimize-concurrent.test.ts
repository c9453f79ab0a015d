/**
 * Compaction beside a live writer, as real OS processes: one process appends 5 rows every 50 ms
 * for 30 s while another runs OPTIMIZE over and over on the same local table. Both must
 * succeed with no failed commit and no dropped compaction group (blind appends never conflict
 * with OPTIMIZE), the versions stay contiguous, every appended row is in the final table exactly
 * once, every live file exists, and the number of files ends far below the number of appends.
 * The OPTIMIZE runs alternate between rewriting bins and stitching them (row groups copied).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  batchToJsonRows,
  createTable,
  loadSnapshot,
  parseSchema,
  readHistory,
  scanSnapshot,
} from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { startFixture } from '../support/processes.js';

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: true, metadata: {} },
      { name: 'writer', type: 'integer', nullable: true, metadata: {} },
      { name: 'batch', type: 'integer', nullable: true, metadata: {} },
    ],
  }),
);

const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-optimize-conc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OPTIMIZE beside a live appender (OS processes)', () => {
  it('30 s of appends every 50 ms while compacting: no failed commit, every row exactly once, fewer files', async () => {
    const store = new LocalStore(dir);
    await createTable(store, { schema });
    const appender = startFixture('appender-child.ts', [dir, '4', '30', '50']);
    // Small targets and groups: many OPTIMIZE commits interleave with the appends.
    const optimizer = startFixture('optimize-child.ts', [
      dir,
      'loop',
      '30',
      JSON.stringify({ targetSize: 64 * 1024, minInputFiles: 4, binsPerCommit: 1, alternate: true }),
    ]);
    const [a, o] = await Promise.all([appender.done, optimizer.done]);

    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.lines.some((l) => 'conflict' in l)).toBe(false);
    const appends = a.lines.filter((l) => typeof l.i === 'number');
    expect(a.lines.at(-1)).toEqual({ done: true, batches: appends.length });
    expect(appends.length).toBeGreaterThan(100);

    expect(o.stderr).toBe('');
    expect(o.code).toBe(0);
    expect(o.lines.filter((l) => typeof l.dropped === 'object' || 'error' in l)).toEqual([]);
    expect(o.lines.filter((l) => typeof l.run === 'number' && l.dropped !== 0)).toEqual([]);
    const runs = o.lines.filter((l) => typeof l.run === 'number');
    const optimizeCommits = o.lines.filter((l) => typeof l.commit === 'number');
    expect(runs.length).toBeGreaterThan(1);
    expect(optimizeCommits.length).toBeGreaterThan(0);
    // Both ways of compacting committed something.
    expect(runs.some((l) => (l.stitched as number) > 0)).toBe(true);
    expect(runs.some((l) => l.stitched === 0 && (l.removedFiles as number) > 0)).toBe(true);

    // Contiguous versions: one per append, one per OPTIMIZE group, plus the create.
    const versions = readdirSync(path.join(dir, '_delta_log'))
      .filter((f) => /^\d{20}\.json$/.test(f))
      .map((f) => Number(f.slice(0, 20)))
      .sort((x, y) => x - y);
    expect(versions).toEqual(
      Array.from({ length: appends.length + optimizeCommits.length + 1 }, (_, i) => i),
    );
    const reported = [
      ...appends.map((l) => l.version as number),
      ...optimizeCommits.map((l) => l.commit as number),
    ];
    expect(reported.sort((x, y) => x - y)).toEqual(versions.slice(1));

    const snapshot = await loadSnapshot(store);
    const ids: number[] = [];
    for await (const b of scanSnapshot(store, snapshot))
      for (const r of batchToJsonRows(b)) ids.push(r.id as number);
    ids.sort((x, y) => x - y);
    const expected = appends.flatMap((l) =>
      Array.from({ length: 5 }, (_, k) => 4_000_000 + (l.i as number) * 5 + k),
    );
    expect(ids).toEqual(expected.sort((x, y) => x - y));

    for (const f of snapshot.files()) await expect(store.head(f.path)).resolves.toBeDefined();
    expect(snapshot.numFiles).toBeLessThan(appends.length / 3);
    console.log(
      `concurrent optimize: ${appends.length} appends, ${runs.length} OPTIMIZE runs, ${optimizeCommits.length} OPTIMIZE commits, ${snapshot.numFiles} live files at version ${snapshot.version}`,
    );

    // OPTIMIZE commits change no data: only dataChange=false actions.
    const history = await readHistory(store, { limit: 10_000 });
    const optimizes = history.filter((h) => h.operation === 'OPTIMIZE');
    expect(optimizes.length).toBe(optimizeCommits.length);
  }, 120_000);
});
