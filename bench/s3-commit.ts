/**
 * `s3-commit` — commit latency on S3: `S3Store.putIfAbsent` of ~1 KiB Delta-commit-like files
 * versus the floor, one raw SDK `PutObject` with `If-None-Match: *` of the same size, in the same
 * run against the same radosgw over loopback. Weir's commit primitive is exactly one conditional
 * PutObject, so the ratio shows what the store adds (key mapping, retry wrapper, error mapping).
 *
 * ratio = { p50: weir p50 / raw p50, p99: weir p99 / raw p99 }: 1.0 means "at the floor"; lower
 * is better (a latency ratio, unlike the throughput ratios of other benches).
 *
 * Method: one radosgw (scripts/s3-local.sh, or the server in WEIR_TEST_S3_ENDPOINT / WEIR_S3_DIR),
 * a fresh bucket, both clients built by `createS3Client` with the same settings (keep-alive, SDK
 * retries off, default checksums). Commits are sequential (latency, not throughput), the two
 * sides interleaved one-for-one (which goes first alternates) so drift on this shared machine
 * hits both equally; each commit is a new key (`_delta_log/<version:020>.json`), as in a table.
 * The conflict path (412 -> AlreadyExists, the loser of a race) is measured the same way.
 * A latency-over-time chart goes to `bench/results/s3-commit.svg`.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { AlreadyExistsError } from '@weir/storage';
import { createS3Client, S3Store } from '@weir/storage-s3';
import {
  acquireS3Server,
  createBucket,
  deleteBucket,
  freshBucketName,
  s3OptionsFor,
} from '@weir/storage-s3/testing';
import { type Bench, type BenchContext, type BenchResult, round } from './lib/result.js';
import { writeLineChart } from './lib/svg-chart.js';
import { type Percentiles, percentiles, startTimer } from './lib/timing.js';

const FULL = { commits: 2000, conflicts: 200, warmup: 50 };
const QUICK = { commits: 300, conflicts: 50, warmup: 20 };
const BODY_BYTES = 1024;

function commitBody(version: number): Uint8Array {
  const json = JSON.stringify({
    commitInfo: { timestamp: Date.now(), operation: 'WRITE', txnId: randomUUID(), version },
  });
  return new TextEncoder().encode(json.padEnd(BODY_BYTES, ' '));
}

const versionKey = (v: number): string => `_delta_log/${String(v).padStart(20, '0')}.json`;

function summary(p: Percentiles): Record<string, number> {
  return {
    count: p.count,
    min: round(p.min),
    mean: round(p.mean),
    p50: round(p.p50),
    p90: round(p.p90),
    p99: round(p.p99),
    max: round(p.max),
  };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const size = ctx.quick ? QUICK : FULL;
  ctx.log('acquiring an S3 server (radosgw)');
  const server = await acquireS3Server();
  ctx.defer(() => server.release());
  const { connection } = server;
  const bucket = freshBucketName('weir-bench');
  const options = s3OptionsFor(connection, bucket);
  const raw = createS3Client(options);
  ctx.defer(() => raw.destroy());
  await createBucket(raw, bucket);
  ctx.defer(() => deleteBucket(raw, bucket));
  const store = new S3Store({ ...options, prefix: 'weir-table' });
  ctx.defer(() => store.destroy());

  const weirCommit = (v: number): Promise<void> => store.putIfAbsent(versionKey(v), commitBody(v));
  const rawCommit = async (v: number): Promise<void> => {
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `raw-table/${versionKey(v)}`,
        Body: commitBody(v),
        ContentLength: BODY_BYTES,
        IfNoneMatch: '*',
      }),
    );
  };

  ctx.log(`warm-up: ${size.warmup} commits each`);
  for (let v = 0; v < size.warmup; v++) {
    await weirCommit(v);
    await rawCommit(v);
  }

  ctx.log(`measuring ${size.commits} commits each, interleaved`);
  const weirMs: number[] = [];
  const rawMs: number[] = [];
  const weirSeries: [number, number][] = [];
  const rawSeries: [number, number][] = [];
  const clock = startTimer();
  for (let i = 0; i < size.commits; i++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const v = size.warmup + i;
    const sides: [() => Promise<void>, number[], [number, number][]][] = [
      [() => weirCommit(v), weirMs, weirSeries],
      [() => rawCommit(v), rawMs, rawSeries],
    ];
    if (i % 2 === 1) sides.reverse();
    for (const [commit, samples, series] of sides) {
      const t = startTimer();
      await commit();
      const ms = t.elapsedMs();
      samples.push(ms);
      series.push([clock.elapsedMs() / 1000, ms]);
    }
    if ((i + 1) % 500 === 0) ctx.log(`${i + 1}/${size.commits}`);
  }

  ctx.log(`measuring ${size.conflicts} losing commits each (412 -> AlreadyExists)`);
  const weirConflictMs: number[] = [];
  const rawConflictMs: number[] = [];
  for (let i = 0; i < size.conflicts; i++) {
    const v = size.warmup + (i % size.commits);
    let t = startTimer();
    const err = await weirCommit(v).catch((e: unknown) => e);
    weirConflictMs.push(t.elapsedMs());
    if (!(err instanceof AlreadyExistsError)) throw new Error(`expected AlreadyExists, got ${String(err)}`);
    t = startTimer();
    const rawErr = await rawCommit(v).catch((e: unknown) => e);
    rawConflictMs.push(t.elapsedMs());
    if ((rawErr as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode !== 412) {
      throw new Error(`expected 412, got ${String(rawErr)}`);
    }
  }

  const weir = percentiles(weirMs);
  const floor = percentiles(rawMs);
  const weirConflict = percentiles(weirConflictMs);
  const floorConflict = percentiles(rawConflictMs);
  await writeLineChart(ctx.artifactPath('svg'), {
    title: `S3 commit latency on radosgw (loopback): S3Store.putIfAbsent vs raw PutObject If-None-Match`,
    series: [
      { name: 'S3Store.putIfAbsent', points: weirSeries },
      { name: 'raw PutObject (If-None-Match: *)', points: rawSeries },
    ],
    xLabel: 'seconds since start',
    yLabel: 'commit latency (ms)',
  });
  ctx.log(
    `p50 ${round(weir.p50)} ms vs floor ${round(floor.p50)} ms; p99 ${round(weir.p99)} vs ${round(floor.p99)}`,
  );

  return {
    params: {
      quick: ctx.quick,
      commits: size.commits,
      conflicts: size.conflicts,
      warmupCommits: size.warmup,
      bodyBytes: BODY_BYTES,
      server:
        server.source === 'env'
          ? 'S3 server from the environment'
          : 'radosgw (scripts/s3-local.sh), loopback',
      order: 'interleaved one-for-one, alternating which side goes first',
    },
    results: {
      commitMs: summary(weir),
      conflictMs: summary(weirConflict),
      commitsPerSec: round(1000 / weir.mean, 1),
    },
    reference: {
      rawPutIfNoneMatchMs: summary(floor),
      rawConflictMs: summary(floorConflict),
      commitsPerSec: round(1000 / floor.mean, 1),
    },
    ratio: {
      p50: round(weir.p50 / floor.p50),
      p99: round(weir.p99 / floor.p99),
      conflictP50: round(weirConflict.p50 / floorConflict.p50),
    },
  };
}

const bench: Bench = {
  description: 'S3 commit latency: S3Store.putIfAbsent vs one raw PutObject If-None-Match (radosgw)',
  run,
};
export default bench;
