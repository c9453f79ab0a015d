/**
 * Delta appends on S3 under injected faults: a FaultProxy between the S3 SDK and radosgw answers
 * about 10% of requests with 503 SlowDown, resets the connection, delays, or drops the response
 * after radosgw applied the request (the "lost commit answer" case), on every kind of request
 * (snapshot loads, data-file uploads, commit PUTs, read-backs, checkpoints). Four writers in this
 * process make 200 appends (writeTable of one 5-row batch each, one commit each) to one table.
 *
 * Proves: every append succeeds exactly once (no error surfaces); the log holds versions 0..200
 * with no gap and no duplicate; each version was reported to exactly one append, and the commit
 * file at that version carries that append's txnId (so a commit whose answer was lost is
 * recognised as ours and never written twice); every row is in the table exactly once. Each fault
 * kind really happened (the proxy's log), including dropped answers to applied commit PUTs.
 *
 * Every run prints its seed; WEIR_FAULT_SEED=<seed> replays the same fault decisions (with four
 * writers the order of requests, and so which request meets which fault, still varies with timing).
 */
import { createTable, parseSchema, RecordBatchBuilder, writeTable } from '@weir/delta';
import { WeirError } from '@weir/storage';
import type { S3StoreOptions } from '@weir/storage-s3';
import {
  describeS3,
  type FaultProxy,
  type RequestInfo,
  startFaultProxy,
  useRgwBucket,
} from '@weir/storage-s3/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { commitSummary, commitVersions, mapLimit, readAll, readCommit } from '../support/tables.js';

const COMMITS = 200;
const WRITERS = 4;
const ROWS_PER_COMMIT = 5;
const FAULTS = { slowdown: 0.03, reset: 0.03, dropResponse: 0.03, delay: 0.01 };

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

const COMMIT_KEY = /_delta_log\/\d{20}\.json$/;
const isCommitPut = (r: { method: string; key: string; headers: RequestInfo['headers'] }): boolean =>
  r.method === 'PUT' && r.headers['if-none-match'] === '*' && COMMIT_KEY.test(r.key);
const isDataPut = (r: RequestInfo): boolean => r.method === 'PUT' && r.key.endsWith('.parquet');
const isCommitGet = (r: RequestInfo): boolean => r.method === 'GET' && COMMIT_KEY.test(r.key);

function batchFor(i: number, writer: number) {
  const b = new RecordBatchBuilder(schema);
  for (let k = 0; k < ROWS_PER_COMMIT; k++) b.append({ id: i * ROWS_PER_COMMIT + k, writer, batch: i });
  return b.flush();
}

describeS3('Delta appends on S3 under injected faults (radosgw behind a FaultProxy)', () => {
  const rgw = useRgwBucket();
  let proxy: FaultProxy;

  beforeAll(async () => {
    const seed = process.env.WEIR_FAULT_SEED ? Number(process.env.WEIR_FAULT_SEED) : undefined;
    proxy = await startFaultProxy({
      upstream: rgw.connection.endpoint,
      ...(seed === undefined ? {} : { seed }),
    });
    console.info(`fault proxy seed ${proxy.seed} (replay: WEIR_FAULT_SEED=${proxy.seed})`);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it(`${COMMITS} appends from ${WRITERS} writers under ~10% mixed faults: every row once, versions contiguous`, async () => {
    const prefix = 'tables/faults';
    const direct = rgw.store(prefix);
    await createTable(direct, { schema });
    const retryFast: Partial<S3StoreOptions> = {
      endpoint: proxy.endpoint,
      retry: { baseDelayMs: 2, maxDelayMs: 40 },
      maxAttempts: 10,
    };
    const stores = Array.from({ length: WRITERS }, () => rgw.store(prefix, retryFast));

    proxy.resetStats();
    proxy.probabilities = { ...FAULTS };
    // On top of the random faults, some of each kind for certain whatever the seed: above all lost
    // answers to applied commits, and to data-file uploads and commit read-backs.
    proxy.addRule({ match: isCommitPut, fault: 'drop-response', times: 8 });
    proxy.addRule({ match: isCommitPut, fault: 'reset', times: 2 });
    proxy.addRule({ match: isCommitPut, fault: 'slowdown', times: 2 });
    proxy.addRule({ match: isDataPut, fault: 'drop-response', times: 2 });
    proxy.addRule({ match: isCommitGet, fault: 'drop-response', times: 2 });

    const started = Date.now();
    const results: { i: number; version: number; txnId: string | undefined; attempts: number | undefined }[] =
      [];
    const failures: { i: number; error: string }[] = [];
    const checkpointErrors: unknown[] = [];
    let next = 0;
    await Promise.all(
      stores.map(async (store, writer) => {
        for (let i = next++; i < COMMITS; i = next++) {
          try {
            const r = await writeTable(store, batchFor(i, writer), {
              onCheckpointError: (err) => checkpointErrors.push(err),
            });
            results.push({ i, version: r.version, txnId: r.txnId, attempts: r.attempts });
          } catch (err) {
            failures.push({
              i,
              error: err instanceof WeirError ? `${err.code}: ${err.message}` : String(err),
            });
          }
        }
      }),
    );
    proxy.probabilities = {};
    const elapsed = Date.now() - started;

    const droppedCommits = proxy.log.filter(
      (e) => e.fault === 'drop-response' && isCommitPut(e) && e.upstreamStatus === 200,
    ).length;
    const droppedConflicts = proxy.log.filter(
      (e) => e.fault === 'drop-response' && isCommitPut(e) && e.upstreamStatus === 412,
    ).length;
    const summary = {
      seed: proxy.seed,
      ms: elapsed,
      requests: proxy.log.length,
      ...proxy.stats,
      droppedCommits,
      droppedConflicts,
      commitPuts: proxy.log.filter(isCommitPut).length,
      checkpointErrors: checkpointErrors.length,
      failures: failures.length,
    };
    console.info(`Delta fault run: ${JSON.stringify(summary)}`);

    expect(failures, `seed ${proxy.seed}`).toEqual([]);
    expect(proxy.pendingRules, 'every scripted fault fired').toBe(0);

    // No commit reported twice, none missing: the reported versions are exactly 1..200.
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: COMMITS }, (_, k) => k + 1),
    );
    // The log: 0..200, no gap, no duplicate. The commit at each reported version carries that
    // append's txnId and one file whose stats say it holds that append's batch.
    expect(await commitVersions(direct)).toEqual(Array.from({ length: COMMITS + 1 }, (_, k) => k));
    const commits = await mapLimit(results, 8, async (r) =>
      commitSummary(await readCommit(direct, r.version)),
    );
    const txnIds = new Set<string>();
    results.forEach((r, k) => {
      const c = commits[k]!;
      expect(c.txnId, `version ${r.version}`).toBe(r.txnId);
      expect(c.adds, `version ${r.version}`).toHaveLength(1);
      const add = c.adds[0]!;
      const first = r.i * ROWS_PER_COMMIT;
      expect([add.numRecords, Number(add.min?.id), Number(add.max?.id)], `version ${r.version}`).toEqual([
        ROWS_PER_COMMIT,
        first,
        first + ROWS_PER_COMMIT - 1,
      ]);
      txnIds.add(r.txnId!);
    });
    expect(txnIds.size).toBe(COMMITS);

    // Every row exactly once, and in the batch that was committed for it.
    const rows = await readAll(direct);
    expect(rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: COMMITS * ROWS_PER_COMMIT }, (_, k) => k),
    );
    for (const row of rows) expect(Math.floor(Number(row.id) / ROWS_PER_COMMIT)).toBe(Number(row.batch));

    // Each fault kind really happened, lost answers to applied commits above all.
    expect(proxy.stats.slowdown).toBeGreaterThan(0);
    expect(proxy.stats.reset).toBeGreaterThan(0);
    expect(proxy.stats.delay).toBeGreaterThan(0);
    expect(proxy.stats['drop-response']).toBeGreaterThan(0);
    // Lost answers to commits radosgw applied (resolved as ours) and to ones it refused with 412
    // because another writer had won (resolved as AlreadyExists, then rebased).
    expect(droppedCommits).toBeGreaterThan(0);
    expect(droppedConflicts).toBeGreaterThan(0);
    expect(proxy.stats.none / proxy.log.length).toBeGreaterThan(0.8);
  }, 240_000);
});
