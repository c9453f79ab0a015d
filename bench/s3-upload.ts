/**
 * `s3-upload` — upload throughput of a large data file: `S3Store.put` of a 512 MiB stream
 * (quick: 64 MiB), cut into parts and uploaded in parallel with bounded memory, versus a raw SDK
 * multipart upload of the same bytes (CreateMultipartUpload, UploadPart on a worker pool of the
 * same concurrency and part size, CompleteMultipartUpload), in the same run against the same
 * radosgw over loopback. ratio = Weir MB/s / raw MB/s (target >= 0.8).
 *
 * Fairness: both sides use a client from `createS3Client` with the same settings, the same part
 * size (8 MiB) and concurrency (4). The bytes are a deterministic function of the offset (1 MiB
 * pseudo-random blocks stamped with their index), so neither side holds the whole file: Weir gets
 * them as a stream of 1 MiB chunks, as a Parquet writer would hand them over, and copies them into
 * parts; the raw side builds each 8 MiB part buffer directly (no stream, no extra copy), which is
 * the floor. Runs alternate raw/Weir (1 warm-up pair, 3 timed pairs), the median run per side is
 * reported, and objects are deleted (and radosgw's garbage collected) after each run, outside the
 * timing, so the RAM-backed OSD stays small.
 * `peakArrayBuffersBytes` during Weir's runs shows the bounded memory (about (concurrency + 1)
 * parts plus the SDK's own buffers), far below the object size.
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createS3Client, DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, S3Store } from '@weir/storage-s3';
import {
  acquireS3Server,
  createBucket,
  deleteBucket,
  freshBucketName,
  s3OptionsFor,
} from '@weir/storage-s3/testing';
import { type Bench, type BenchContext, type BenchResult, round } from './lib/result.js';
import { PeakRssSampler, type RssReport, startTimer } from './lib/timing.js';

const MiB = 1024 * 1024;
const FULL_BYTES = 512 * MiB;
const QUICK_BYTES = 64 * MiB;
const BLOCK = MiB;
const RUNS = 3;
const WARMUP = 1;
const TARGET_RATIO = 0.8;

/** Block `index` of the file: a fixed random block with the index stamped in its first 8 bytes. */
function makeBlocks(): (index: number, into?: Uint8Array) => Uint8Array {
  const base = new Uint8Array(randomBytes(BLOCK));
  return (index, into = new Uint8Array(BLOCK)) => {
    into.set(base);
    new DataView(into.buffer, into.byteOffset, 8).setFloat64(0, index);
    return into;
  };
}

async function* fileStream(
  totalBytes: number,
  block: ReturnType<typeof makeBlocks>,
): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < totalBytes / BLOCK; i++) yield block(i);
}

interface RunResult {
  ms: number;
  /** CPU time of this process (user + system) during the upload: less noisy than wall time here. */
  cpuMs: number;
  memory: RssReport;
}

function median(results: RunResult[]): RunResult {
  const sorted = [...results].sort((a, b) => a.ms - b.ms);
  return sorted[Math.ceil(sorted.length / 2) - 1]!;
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const totalBytes = ctx.quick ? QUICK_BYTES : FULL_BYTES;
  const partSize = DEFAULT_PART_SIZE;
  const concurrency = DEFAULT_CONCURRENCY;
  ctx.log('acquiring an S3 server (radosgw)');
  const server = await acquireS3Server();
  ctx.defer(() => server.release());
  const bucket = freshBucketName('weir-bench');
  const options = s3OptionsFor(server.connection, bucket);
  const raw = createS3Client(options);
  ctx.defer(() => raw.destroy());
  await createBucket(raw, bucket);
  ctx.defer(() => deleteBucket(raw, bucket));
  const store = new S3Store({ ...options, prefix: 'weir', partSize, concurrency });
  ctx.defer(() => store.destroy());
  const block = makeBlocks();

  const weirUpload = async (key: string): Promise<void> => {
    await store.put(key, fileStream(totalBytes, block), { contentLength: totalBytes });
  };

  const rawUpload = async (key: string): Promise<void> => {
    const created = await raw.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const uploadId = created.UploadId!;
    const partCount = Math.ceil(totalBytes / partSize);
    const etags: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let p = next++; p < partCount; p = next++) {
          const body = new Uint8Array(Math.min(partSize, totalBytes - p * partSize));
          for (let b = 0; b < body.byteLength / BLOCK; b++) {
            block((p * partSize) / BLOCK + b, body.subarray(b * BLOCK, (b + 1) * BLOCK));
          }
          const res = await raw.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: p + 1,
              Body: body,
            }),
          );
          etags[p] = res.ETag ?? '';
        }
      }),
    );
    await raw.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
  };

  const measure = async (upload: (key: string) => Promise<void>, key: string): Promise<RunResult> => {
    const sampler = new PeakRssSampler(10).start();
    const cpu = process.cpuUsage();
    const t = startTimer();
    await upload(key);
    const ms = t.elapsedMs();
    const used = process.cpuUsage(cpu);
    const memory = sampler.stop();
    await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    // radosgw frees deleted data lazily; its OSD is RAM-backed and must not fill up.
    await server.collectGarbage();
    return { ms, cpuMs: (used.user + used.system) / 1000, memory };
  };

  const weirRuns: RunResult[] = [];
  const rawRuns: RunResult[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const warm = i < WARMUP;
    const rawRun = await measure(rawUpload, `raw/file-${i}.bin`);
    const weirRun = await measure(weirUpload, `file-${i}.bin`);
    ctx.log(
      `${warm ? 'warm-up' : `run ${i - WARMUP + 1}/${RUNS}`}: raw ${round(rawRun.ms, 0)} ms ` +
        `(cpu ${round(rawRun.cpuMs, 0)} ms), weir ${round(weirRun.ms, 0)} ms (cpu ${round(weirRun.cpuMs, 0)} ms)`,
    );
    if (warm) continue;
    rawRuns.push(rawRun);
    weirRuns.push(weirRun);
  }
  // Check the bytes once (outside the timing): what Weir stored is what the raw side stored.
  await weirUpload('check.bin');
  const head = await store.head('check.bin');
  if (head.size !== totalBytes) throw new Error(`uploaded ${head.size} bytes, expected ${totalBytes}`);
  const sample = await store.getRange('check.bin', totalBytes - BLOCK, BLOCK);
  if (Buffer.compare(Buffer.from(sample), Buffer.from(block(totalBytes / BLOCK - 1))) !== 0) {
    throw new Error('uploaded bytes differ from the source');
  }
  await store.delete('check.bin');

  const weir = median(weirRuns);
  const floor = median(rawRuns);
  const mbps = (ms: number): number => round(totalBytes / 1e6 / (ms / 1000), 1);
  const ratio = round(mbps(weir.ms) / mbps(floor.ms));
  ctx.log(
    `weir ${mbps(weir.ms)} MB/s vs raw ${mbps(floor.ms)} MB/s: ratio ${ratio} (target >= ${TARGET_RATIO})`,
  );

  return {
    params: {
      quick: ctx.quick,
      objectBytes: totalBytes,
      partSize,
      concurrency,
      chunkBytes: BLOCK,
      runs: RUNS,
      warmupRuns: WARMUP,
      server:
        server.source === 'env'
          ? 'S3 server from the environment'
          : 'radosgw (scripts/s3-local.sh), loopback',
      targetRatio: TARGET_RATIO,
    },
    results: {
      medianMs: round(weir.ms),
      samplesMs: weirRuns.map((r) => round(r.ms)),
      mbPerSec: mbps(weir.ms),
      cpuMs: round(weir.cpuMs),
      peakRssBytes: weir.memory.peakRssBytes,
      peakArrayBuffersBytes: weir.memory.peakArrayBuffersBytes,
    },
    reference: {
      medianMs: round(floor.ms),
      samplesMs: rawRuns.map((r) => round(r.ms)),
      mbPerSec: mbps(floor.ms),
      cpuMs: round(floor.cpuMs),
      peakRssBytes: floor.memory.peakRssBytes,
      peakArrayBuffersBytes: floor.memory.peakArrayBuffersBytes,
    },
    ratio,
  };
}

const bench: Bench = {
  description:
    'S3 upload throughput: S3Store.put of a streamed data file vs a raw SDK multipart upload (radosgw)',
  run,
};
export default bench;
