/**
 * Concurrent writers as real OS processes on one S3 table (radosgw): 8 processes each make 50
 * appends at the same time through `s3://bucket/prefix` (test/fixtures/writer-child.ts, endpoint
 * and credentials from the standard AWS environment). Every one of the 400 commits lands exactly
 * once: the log holds versions 0..400 with no gap, each version reported to exactly one writer,
 * each commit file holds the batch of the writer told that version (its txnId unique), every row
 * is in the table exactly once, and the writers' commits really interleave. The only arbiter is
 * S3's conditional create (`If-None-Match: *`).
 */
import { loadSnapshot } from '@weir/delta';
import { listAll } from '@weir/storage';
import { describeS3, useRgwBucket } from '@weir/storage-s3/testing';
import { expect, it } from 'vitest';
import { runFixture } from '../support/processes.js';
import { s3ChildEnv } from '../support/s3-env.js';
import { commitSummary, commitVersions, mapLimit, readAll, readCommit } from '../support/tables.js';

const WRITERS = 8;
const APPENDS = 50;
const COMMITS = WRITERS * APPENDS;

describeS3('concurrent writers on S3 (OS processes, radosgw)', () => {
  const rgw = useRgwBucket();

  it(`${WRITERS} processes x ${APPENDS} appends: ${COMMITS} commits, contiguous, every row exactly once`, async () => {
    const prefix = 'tables/race';
    const table = `s3://${rgw.bucket}/${prefix}`;
    const env = s3ChildEnv(rgw.connection);
    // Version 0 (the schema) from one process first, so the race is about appends only.
    const create = await runFixture('writer-child.ts', [table, 'append', '99', '1'], { env });
    expect(create.stderr).toBe('');
    expect(create.lines).toEqual([{ i: 0, version: 0 }]);

    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, w) =>
        runFixture('writer-child.ts', [table, 'append', String(w), String(APPENDS)], { env }),
      ),
    );
    console.info(`${COMMITS} concurrent S3 commits from ${WRITERS} processes in ${Date.now() - started} ms`);
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.lines.map((l) => l.i)).toEqual(Array.from({ length: APPENDS }, (_, i) => i));
    }

    // Every version reported to exactly one writer; each writer's versions increase.
    const reported = results.flatMap((r) => r.lines.map((l) => l.version as number)).sort((a, b) => a - b);
    expect(reported).toEqual(Array.from({ length: COMMITS }, (_, i) => i + 1));
    for (const r of results) {
      const mine = r.lines.map((l) => l.version as number);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }

    // The writers really raced: their commits interleave rather than follow one another.
    const writerOf = new Map<number, { writer: number; i: number }>();
    results.forEach((r, w) => {
      for (const l of r.lines) writerOf.set(l.version as number, { writer: w, i: l.i as number });
    });
    let switches = 0;
    for (let v = 2; v <= COMMITS; v++)
      if (writerOf.get(v)!.writer !== writerOf.get(v - 1)!.writer) switches++;
    console.info(`writer changes between consecutive versions: ${switches} of ${COMMITS - 1}`);
    expect(switches).toBeGreaterThan(WRITERS * 2);

    // The log: versions 0..400, no gap, no duplicate. Each commit holds one file whose stats say it
    // is the batch of the writer that was told this version; every txnId is distinct.
    const store = rgw.store(prefix);
    expect(await commitVersions(store)).toEqual(Array.from({ length: COMMITS + 1 }, (_, i) => i));
    const versions = Array.from({ length: COMMITS }, (_, k) => k + 1);
    const commits = await mapLimit(versions, 8, async (v) => commitSummary(await readCommit(store, v)));
    const txnIds = new Set<string>();
    commits.forEach((c, k) => {
      const v = k + 1;
      const { writer, i } = writerOf.get(v)!;
      const first = writer * 1_000_000 + i * 5;
      expect(c.adds, `version ${v}`).toHaveLength(1);
      const add = c.adds[0]!;
      expect([add.numRecords, Number(add.min?.id), Number(add.max?.id)], `version ${v}`).toEqual([
        5,
        first,
        first + 4,
      ]);
      expect(typeof c.txnId, `version ${v}`).toBe('string');
      txnIds.add(c.txnId!);
    });
    expect(txnIds.size).toBe(COMMITS);

    // The table: 400 + 1 files and every row exactly once.
    const snapshot = await loadSnapshot(store);
    expect(snapshot.version).toBe(COMMITS);
    expect(snapshot.files()).toHaveLength(COMMITS + 1);
    const rows = await readAll(store, COMMITS);
    const expected = [
      ...Array.from({ length: WRITERS }, (_, w) =>
        Array.from({ length: APPENDS * 5 }, (_, k) => w * 1_000_000 + k),
      ).flat(),
      ...Array.from({ length: 5 }, (_, k) => 99_000_000 + k),
    ].sort((a, b) => a - b);
    expect(rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(expected);
    // Checkpoints were written along the way (every 10 commits).
    const log = await listAll(store, '_delta_log/');
    expect(log.some((m) => m.key.endsWith('.checkpoint.parquet'))).toBe(true);
  }, 240_000);
});
