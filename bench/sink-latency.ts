/**
 * `sink-latency` — record -> visible-in-table latency of the streaming sinks (`@weir/stream`
 * `openSink`): continuous at 250 ms epochs versus microbatch at 1 s and 10 s triggers, same data
 * and same run, on the local store and (full run) on radosgw; then the highest rate continuous
 * mode sustains on local disk, and a CPU profile of the continuous sink saying where time goes.
 *
 * Source: a rate-controlled in-process loop. Every TICK_MS it emits the records whose scheduled
 * time has passed, in chunks of `rate * TICK_MS` rows, each stamped with its creation time
 * (`event_time`, `Date.now()` ms), built into an Arrow batch and handed to `sink.write(batch,
 * {'src-0': nextOffset})`, awaiting its backpressure. A source that falls behind catches up (it
 * never drops records), so the achieved rate (rows / run time) shows when it cannot keep up.
 * Records are card-transaction-like (id, user_id, amount decimal(12,2), currency, country,
 * merchant, category, event_time timestamp, a free-text `note`): ~200 bytes as JSON. Source
 * mode 'builder' (default) builds every chunk with `RecordBatchBuilder` from plain objects, as a
 * JSON source would; 'template' (`WEIR_SINK_LATENCY_SOURCE=template`, and the second max-rate
 * probe) reuses pre-built batches and only writes fresh `id` / `event_time` columns, so the
 * sink's own capacity shows without the builder's cost.
 *
 * Latency is computed from the table itself, after the run: every commit file
 * (`_delta_log/<v>.json`) gives `commitInfo.timestamp` and its `add`s; every added data file's
 * `id` and `event_time` columns are read back (`readParquetTable`), and each row's latency is
 * commitInfo.timestamp - event_time (integer ms: both are wall-clock ms of this host). The same
 * pass checks that every emitted id is in the table exactly once and that the stored source
 * position equals the rows emitted. commitInfo.timestamp is taken just before the commit's
 * putIfAbsent, so it understates visibility by the put's duration: `commitAckLagMs` (wall time
 * at onEpochCommitted - commitInfo.timestamp) gives that gap and `latencyAtAckMs` the per-row
 * latency to it. Stamping at creation hides the time a stalled source did not create records
 * (coordinated omission): `latencyFromDueMs` measures from when each row was due on the
 * source's schedule instead, and `sourceLagMs` shows how far behind the source ran.
 *
 * Isolation: every measured run (scenario round, probe step, profile) is a fresh child process
 * of this module (same execArgv: tsx, source conditions), so peak RSS, CPU time
 * (process.cpuUsage, all threads) and parquet-wasm's never-shrinking memory belong to that run
 * alone. Each child warms up (`warmupMs` into a throw-away table) first. The scenarios are
 * interleaved in rounds (full: 3 x 20 s per scenario and store, the order rotating), so load
 * drifting on this shared machine hits all three; a scenario's rounds are merged (latency
 * percentiles over all its rows, sums, worst peaks). Peak RSS and the sink's `bufferedBytes`
 * gauge (its backlog) are polled every 50 ms; event-loop delay comes from
 * `monitorEventLoopDelay`; `cpuShare` (CPU time / wall time of a 250 ms busy loop before and
 * after each run) says how much of a core this process could get at all.
 *
 * Microbatch runs raise `maxEpochRows` / `maxEpochBytes` (defaults 1M rows / 64 MiB) so the
 * trigger, not a size cap, cuts batches: at 100K rows/s a 10 s batch is 1M rows and ~160 MB of
 * Arrow, which the default caps would cut after ~4 s. Buffering limits stay at the defaults.
 *
 * Max-rate probe: continuous on local disk at increasing rates (`probeRates`) until the achieved
 * rate is < 95% of the target or p99 > 1 s (a failing first rate is halved until one passes);
 * one bisection step between the last pass and the first failure; `maxSustainableRowsPerSec` is
 * the highest passing rate. Full runs probe with both sources.
 *
 * Profile (full runs; quick with WEIR_SINK_LATENCY_PROFILE=1): one more continuous local run at
 * the scenario rate under the V8 sampling profiler
 * (node:inspector, 1 ms interval, the measured window only); samples are attributed to the first
 * matching category up the stack (parquet encode incl. calibration and checkpoints, record
 * builder, stats, write path, commit, storage IO, metrics, GC, idle ...). Set
 * WEIR_SINK_LATENCY_CPUPROF=<dir> to keep the raw .cpuprofile (open it in Chrome DevTools).
 *
 * Report: `results` = continuous per store, the probe and the profile; `reference` = microbatch
 * 1 s and 10 s per store; `ratio` = latencies vs microbatch-1s and vs the issue's targets
 * (continuous at 100K rows/s: p50 <= 300 ms, p99 <= 600 ms local, p99 <= 1 s radosgw; max rate
 * >= 200K rows/s; peak RSS <= 512 MiB): <= 1 meets a latency/RSS target, >= 1 the rate target.
 * Charts: `sink-latency.svg` (local, max latency per time bucket of the three scenarios),
 * `sink-latency.radosgw.svg`, and one per scenario `sink-latency.<store>.<scenario>.svg` (min,
 * mean, max per bucket) — x = event time in seconds since the run started.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  type AddAction,
  type CommitInfoAction,
  commitKey,
  createTable,
  listLog,
  parseCommitFile,
  parseSchema,
  RecordBatchBuilder,
  readParquetTable,
  type StructType,
} from '@weir/delta';
import { LocalStore, type ObjectStore } from '@weir/storage';
import type { S3StoreOptions } from '@weir/storage-s3';
import { openSink, type SinkOptions } from '@weir/stream';
import { type Data, makeData, RecordBatch, type Struct } from 'apache-arrow';
import { makeTempDir, removeDir } from './lib/fixtures.js';
import { int64Values, MsHistogram } from './lib/ms-histogram.js';
import {
  type Bench,
  type BenchContext,
  type BenchResult,
  type JsonLike,
  type JsonObject,
  round,
} from './lib/result.js';
import { acquireBenchBucket, type BenchBucket } from './lib/s3-bench-bucket.js';
import { writeLineChart } from './lib/svg-chart.js';
import { PeakRssSampler, type Percentiles, percentiles } from './lib/timing.js';

// ---------------------------------------------------------------------------------------------
// Sizes, scenarios, targets
// ---------------------------------------------------------------------------------------------

const MiB = 1024 * 1024;
const TICK_MS = 10;
/** Catch-up chunks written back to back before the source yields to timers (the sink's seal timer). */
const MAX_CATCHUP_CHUNKS = 8;
const CHILD_ENV = 'WEIR_SINK_LATENCY_CHILD';
/** The builder source reads the clock every this many records (a chunk takes ~1 ms to build). */
const CLOCK_EVERY = 100;

interface SizeConfig {
  /** Run time per scenario and store, split into `rounds` interleaved runs. */
  durationMs: number;
  rounds: number;
  rate: number;
  warmupMs: number;
  stores: StoreKind[];
  probeRates: number[];
  probeMs: number;
  /** Probe also with the template source (sink capacity without the builder). */
  probeTemplate: boolean;
  profileMs: number;
}

const FULL: SizeConfig = {
  durationMs: 60_000,
  rounds: 3,
  rate: 100_000,
  warmupMs: 3_000,
  stores: ['local', 'radosgw'],
  probeRates: [100_000, 150_000, 200_000, 250_000, 300_000, 400_000, 500_000],
  probeMs: 20_000,
  probeTemplate: true,
  profileMs: 20_000,
};
const QUICK: SizeConfig = {
  durationMs: 15_000,
  rounds: 1,
  rate: 50_000,
  warmupMs: 1_000,
  stores: ['local'],
  probeRates: [],
  probeMs: 4_000,
  probeTemplate: false,
  profileMs: 0,
};

/** The probe halves its first rate down to this when even that fails. */
const PROBE_FLOOR = 12_500;
/** No bisection step when the last pass and the first failure are this close. */
const PROBE_RESOLUTION = 25_000;

const TARGETS = {
  rowsPerSec: 100_000,
  localP50Ms: 300,
  localP99Ms: 600,
  s3P99Ms: 1000,
  maxRateRowsPerSec: 200_000,
  peakRssBytes: 512 * MiB,
  probeMinAchieved: 0.95,
  probeMaxP99Ms: 1000,
};

type StoreKind = 'local' | 'radosgw';
type SourceMode = 'builder' | 'template';

interface Scenario {
  name: string;
  mode: 'continuous' | 'microbatch';
  intervalMs: number;
  /** Extra sink options (size caps). */
  sink: Partial<SinkOptions>;
}

const MICROBATCH_CAPS = { maxEpochRows: 50_000_000, maxEpochBytes: 2048 * MiB };

const SCENARIOS: readonly Scenario[] = [
  { name: 'continuous250ms', mode: 'continuous', intervalMs: 250, sink: {} },
  { name: 'microbatch1s', mode: 'microbatch', intervalMs: 1000, sink: MICROBATCH_CAPS },
  { name: 'microbatch10s', mode: 'microbatch', intervalMs: 10_000, sink: MICROBATCH_CAPS },
];
const CONTINUOUS = SCENARIOS[0]!;

function sinkOptions(s: Scenario): SinkOptions {
  return {
    ...s.sink,
    mode: s.mode,
    ...(s.mode === 'continuous' ? { epochMs: s.intervalMs } : { triggerMs: s.intervalMs }),
    queryId: `sink-latency-${s.name}`,
    eventTimeColumn: 'event_time',
    // WEIR_SINK_LATENCY_AUTOCOMPACTION=off measures the sink without its background compaction.
    ...(process.env.WEIR_SINK_LATENCY_AUTOCOMPACTION === 'off' ? { autoCompaction: false as const } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

const SCHEMA: StructType = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      ['id', 'long', false],
      ['user_id', 'long', false],
      ['amount', 'decimal(12,2)', false],
      ['currency', 'string', false],
      ['country', 'string', false],
      ['merchant', 'string', false],
      ['category', 'string', false],
      ['event_time', 'timestamp', false],
      ['note', 'string', true],
    ].map(([name, type, nullable]) => ({ name, type, nullable, metadata: {} })),
  }),
);

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'BRL', 'INR', 'CNY'];
const COUNTRIES =
  'US GB DE FR ES IT NL SE PL BR MX CA AU JP KR IN CN SG ZA NG AE TR AR CL CO ID TH VN PH EG'.split(' ');
const CATEGORIES = (
  'grocery fuel travel electronics restaurants apparel health gaming utilities ' +
  'entertainment jewelry gift_cards crypto education home'
).split(' ');

/** A 32-bit hash of (i, seed) (murmur3's finalizer): deterministic, well mixed. */
function hash(i: number, seed: number): number {
  let h = Math.imul(i ^ Math.imul(seed, 0x9e3779b1), 0x85ebca6b) ^ (i / 4294967296);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const WORDS = (
  'card payment online store refund pending approved declined contactless recurring invoice ' +
  'transfer wallet subscription terminal merchant settlement chargeback authorization ' +
  'international domestic fee loyalty points cashback purchase order delivery express'
).split(' ');

/** 4096 free-text notes of 60-80 characters (a pool, like real descriptions: repetitive, not constant). */
const NOTES: readonly string[] = Array.from({ length: 4096 }, (_, i) => {
  let s = `#${i}`;
  for (let k = 0; s.length < 60 + (hash(i, 99) % 20); k++) s += ` ${WORDS[hash(i, 100 + k) % WORDS.length]}`;
  return s.slice(0, 80);
});

interface TxnRecord {
  id: number;
  user_id: number;
  amount: number;
  currency: string;
  country: string;
  merchant: string;
  category: string;
  event_time: number;
  note: string | null;
}

function makeRecord(id: number, eventTimeMs: number): TxnRecord {
  const h = hash(id, 1);
  return {
    id,
    user_id: h % 1_000_000,
    amount: (hash(id, 2) % 2_000_000) / 100,
    currency: CURRENCIES[h % CURRENCIES.length]!,
    country: COUNTRIES[(h >>> 4) % COUNTRIES.length]!,
    merchant: `merchant_${hash(id, 5) % 50_000}`,
    category: CATEGORIES[(h >>> 9) % CATEGORIES.length]!,
    event_time: eventTimeMs,
    note: h % 50 === 0 ? null : NOTES[hash(id, 6) % NOTES.length]!,
  };
}

/** Builds chunks of `chunkRows` rows: ids [firstId, firstId + n), event_time = creation time. */
interface ChunkSource {
  next(firstId: number): RecordBatch;
}

class BuilderSource implements ChunkSource {
  private readonly builder = new RecordBatchBuilder(SCHEMA, { table: 'sink-latency source' });
  constructor(private readonly chunkRows: number) {}
  next(firstId: number): RecordBatch {
    let now = Date.now();
    for (let i = 0; i < this.chunkRows; i++) {
      if (i % CLOCK_EVERY === CLOCK_EVERY - 1) now = Date.now();
      this.builder.append(makeRecord(firstId + i, now));
    }
    return this.builder.flush();
  }
}

/**
 * Pre-built batches (TEMPLATES of them, rotating) whose `id` and `event_time` columns are
 * replaced by fresh ones per chunk; the other columns are shared (immutable) between chunks.
 */
class TemplateSource implements ChunkSource {
  private static readonly TEMPLATES = 16;
  private readonly templates: RecordBatch[] = [];
  private readonly idIndex: number;
  private readonly timeIndex: number;
  private count = 0;
  constructor(private readonly chunkRows: number) {
    const builder = new RecordBatchBuilder(SCHEMA, { table: 'sink-latency template' });
    for (let t = 0; t < TemplateSource.TEMPLATES; t++) {
      for (let i = 0; i < chunkRows; i++) builder.append(makeRecord(t * chunkRows + i, 0));
      this.templates.push(builder.flush());
    }
    const names = this.templates[0]!.schema.fields.map((f) => f.name);
    this.idIndex = names.indexOf('id');
    this.timeIndex = names.indexOf('event_time');
  }
  next(firstId: number): RecordBatch {
    const template = this.templates[this.count++ % this.templates.length]!;
    const n = this.chunkRows;
    const ids = new BigInt64Array(n);
    const halves = new Uint32Array(ids.buffer);
    for (let i = 0; i < n; i++) halves[2 * i] = firstId + i; // ids < 2^32: low word only
    const times = new BigInt64Array(n).fill(BigInt(Date.now()) * 1000n);
    const children = [...(template.data.children as Data[])];
    const fields = template.schema.fields;
    children[this.idIndex] = makeData({ type: fields[this.idIndex]!.type, length: n, data: ids } as never);
    children[this.timeIndex] = makeData({
      type: fields[this.timeIndex]!.type,
      length: n,
      data: times,
    } as never);
    const data = makeData({ type: template.data.type as Struct, length: n, nullCount: 0, children });
    return new RecordBatch(template.schema, data);
  }
}

function chunkSource(mode: SourceMode, chunkRows: number): ChunkSource {
  return mode === 'template' ? new TemplateSource(chunkRows) : new BuilderSource(chunkRows);
}

// ---------------------------------------------------------------------------------------------
// Child: one measured run
// ---------------------------------------------------------------------------------------------

interface RunSpec {
  label: string;
  scenario: Scenario;
  store: StoreKind;
  /** Local: a directory to create tables in. radosgw: options, tables under prefixes. */
  localDir?: string;
  s3?: S3StoreOptions;
  s3Prefix?: string;
  rate: number;
  durationMs: number;
  warmupMs: number;
  source: SourceMode;
  bucketMs: number;
  profile: boolean;
  cpuProfileDir?: string;
}

interface BucketSeries {
  bucketMs: number;
  min: number[];
  max: number[];
  mean: number[];
}

interface RunResult {
  label: string;
  loadAverage1m: number;
  /** CPU time / wall time of a busy loop just before and just after the measured run. */
  cpuShare: [number, number];
  rowsEmitted: number;
  runMs: number;
  drainMs: number;
  /** Per row: commitInfo.timestamp - event time, as counts per integer ms (MsHistogram.counts). */
  latency: Float64Array;
  /** Per row: wall time when the sink reported the commit (onEpochCommitted) - event time. */
  latencyAtAck: Float64Array;
  /** Per row: commitInfo.timestamp - when the row was due on the source's schedule (counts source stalls). */
  latencyFromDue: Float64Array;
  negativeLatencies: number;
  series: BucketSeries;
  commits: number;
  filesWritten: number;
  dataBytes: number;
  checkpoints: number;
  rowsPerCommit: number[];
  commitIntervalMs: number[];
  commitAckLagMs: number[];
  sinkCommitMeanMs: number;
  sinkVisibilityMeanMs: number;
  cpuMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  peakArrayBuffersBytes: number;
  rssBeforeRunBytes: number;
  processMaxRssBytes: number;
  /** Peak of the sink's bufferedBytes gauge (sealed-but-uncommitted epochs + the open one), polled. */
  peakSinkBufferedBytes: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  sourceLagMs: number[];
  writeWaitMs: number[];
  readBackMs: number;
  idCheck: { distinct: number; duplicates: number; outOfRange: number; storedPosition: number };
  arrowBytesPerRow: number;
  profile?: ProfileSummary;
}

type Log = (message: string) => void;

async function openStore(spec: RunSpec, table: string): Promise<{ store: ObjectStore; close(): void }> {
  if (spec.store === 'local') {
    const store = new LocalStore(path.join(spec.localDir!, table));
    return { store, close: () => {} };
  }
  const { S3Store } = await import('@weir/storage-s3');
  const store = new S3Store({ ...spec.s3!, prefix: `${spec.s3Prefix}/${table}` });
  return { store, close: () => store.destroy() };
}

interface SourceStats {
  emitted: number;
  lagMs: number[];
  writeWaitMs: number[];
}

/** The rate-controlled source loop: runs for `durationMs`, returns what it emitted. */
async function runSource(
  sink: Awaited<ReturnType<typeof openSink>>,
  source: ChunkSource,
  rate: number,
  chunkRows: number,
  durationMs: number,
): Promise<SourceStats> {
  const stats: SourceStats = { emitted: 0, lagMs: [], writeWaitMs: [] };
  const t0 = performance.now();
  for (;;) {
    const now = performance.now() - t0;
    if (now >= durationMs) break;
    const due = Math.floor((rate * now) / 1000) - stats.emitted;
    if (due < chunkRows) {
      const nextAt = ((stats.emitted + chunkRows) * 1000) / rate;
      await sleep(Math.max(1, Math.min(TICK_MS, nextAt - now)));
      continue;
    }
    const chunks = Math.min(Math.floor(due / chunkRows), MAX_CATCHUP_CHUNKS);
    for (let c = 0; c < chunks; c++) {
      const scheduled = ((stats.emitted + chunkRows) * 1000) / rate;
      stats.lagMs.push(performance.now() - t0 - scheduled);
      const batch = source.next(stats.emitted);
      const w = performance.now();
      await sink.write(batch, { 'src-0': stats.emitted + chunkRows });
      stats.writeWaitMs.push(performance.now() - w);
      stats.emitted += chunkRows;
    }
    // Behind schedule: let timers (the sink's seal timer, the RSS sampler) run between bursts.
    if (chunks === MAX_CATCHUP_CHUNKS) await yieldToLoop();
  }
  return stats;
}

async function runChild(spec: RunSpec, log: Log): Promise<RunResult> {
  const chunkRows = Math.max(1, Math.round((spec.rate * TICK_MS) / 1000));
  const source = chunkSource(spec.source, chunkRows);
  const sample = source.next(0);
  const arrowBytesPerRow = sample.data.children.reduce((a, c) => a + c.byteLength, 0) / sample.numRows;

  // Warm-up: JIT, parquet-wasm instantiation, store connections; a throw-away table.
  if (spec.warmupMs > 0) {
    const warm = await openStore(spec, `${spec.label}-warmup`);
    await createTable(warm.store, { schema: SCHEMA });
    const sink = await openSink(warm.store, sinkOptions(spec.scenario));
    await runSource(sink, source, spec.rate, chunkRows, spec.warmupMs);
    await sink.close();
    warm.close();
  }

  const loadAverage1m = os.loadavg()[0] ?? 0;
  const cpuShareBefore = cpuShare();
  const { store, close } = await openStore(spec, spec.label);
  await createTable(store, { schema: SCHEMA });
  // The sink's seal/trigger timer starts here, just before the source.
  const sink = await openSink(store, sinkOptions(spec.scenario));
  const acks: number[] = [];
  const ackAt = new Map<number, number>();
  sink.onEpochCommitted((e) => {
    const now = Date.now();
    acks.push(now - e.timestamp);
    ackAt.set(e.version, now);
  });

  const rssBeforeRunBytes = process.memoryUsage().rss;
  const profiler = spec.profile ? await startProfiler() : undefined;
  const sampler = new PeakRssSampler(50).start();
  // The sink's backlog: Arrow bytes accepted and not yet committed (its bufferedBytes gauge).
  let peakSinkBufferedBytes = 0;
  const backlogTimer = setInterval(() => {
    void sink.metrics.bufferedBytes.get().then((g) => {
      const v = g.values[0]?.value ?? 0;
      if (v > peakSinkBufferedBytes) peakSinkBufferedBytes = v;
    });
  }, 50);
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const cpu0 = process.cpuUsage();
  const wallStart = Date.now();
  const t0 = performance.now();
  const src = await runSource(sink, source, spec.rate, chunkRows, spec.durationMs);
  const runMs = performance.now() - t0;
  await sink.close();
  const drainMs = performance.now() - t0 - runMs;
  const cpu = process.cpuUsage(cpu0);
  eld.disable();
  const rss = sampler.stop();
  clearInterval(backlogTimer);
  const processMaxRssBytes = process.resourceUsage().maxRSS * 1024; // warm-up included, read-back not
  const profile = profiler ? summarizeProfile(await profiler.stop(spec)) : undefined;
  const cpuShareAfter = cpuShare();
  log(
    `${spec.label}: emitted ${src.emitted} rows in ${Math.round(runMs)} ms ` +
      `(${Math.round((src.emitted * 1000) / runMs)}/s), drained in ${Math.round(drainMs)} ms; reading back`,
  );

  const metrics = await sink.metrics.snapshot();
  const stored = sink.storedPositions('src-').get('src-0') ?? -1;
  const r0 = performance.now();
  // When row `id` was due: the end of its chunk's slot on the source's schedule (wall clock).
  const dueMs = (id: number) => wallStart + ((Math.floor(id / chunkRows) + 1) * chunkRows * 1000) / spec.rate;
  const back = await readBack(store, src.emitted, wallStart, spec.bucketMs, ackAt, dueMs);
  const readBackMs = performance.now() - r0;
  close();
  if (back.rows !== src.emitted || back.duplicates > 0 || back.outOfRange > 0 || stored !== src.emitted) {
    throw new Error(
      `${spec.label}: table does not hold exactly the emitted rows: emitted ${src.emitted}, read ${back.rows}, ` +
        `distinct ${back.distinct}, duplicates ${back.duplicates}, out of range ${back.outOfRange}, stored position ${stored}`,
    );
  }
  return {
    label: spec.label,
    loadAverage1m,
    cpuShare: [cpuShareBefore, cpuShareAfter],
    rowsEmitted: src.emitted,
    runMs,
    drainMs,
    latency: back.latency.counts(),
    latencyAtAck: back.latencyAtAck.counts(),
    latencyFromDue: back.latencyFromDue.counts(),
    negativeLatencies: back.negative,
    series: back.series,
    commits: back.commits,
    filesWritten: back.files,
    dataBytes: back.bytes,
    checkpoints: back.checkpoints,
    rowsPerCommit: back.rowsPerCommit,
    commitIntervalMs: back.commitIntervals,
    commitAckLagMs: acks,
    sinkCommitMeanMs: histogramMeanMs(metrics.weir_sink_commit_seconds),
    sinkVisibilityMeanMs: histogramMeanMs(metrics.weir_sink_visibility_seconds),
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    peakRssBytes: rss.peakRssBytes,
    peakHeapUsedBytes: rss.peakHeapUsedBytes,
    peakArrayBuffersBytes: rss.peakArrayBuffersBytes,
    rssBeforeRunBytes,
    processMaxRssBytes,
    peakSinkBufferedBytes,
    eventLoopDelayMs: {
      p50: eld.percentile(50) / 1e6,
      p99: eld.percentile(99) / 1e6,
      max: eld.max / 1e6,
    },
    sourceLagMs: src.lagMs,
    writeWaitMs: src.writeWaitMs,
    readBackMs,
    idCheck: {
      distinct: back.distinct,
      duplicates: back.duplicates,
      outOfRange: back.outOfRange,
      storedPosition: stored,
    },
    arrowBytesPerRow,
    ...(profile ? { profile } : {}),
  };
}

/**
 * How much of one core a runnable thread of this process gets right now (0..1): CPU time /
 * wall time of a 250 ms busy loop. On this shared machine it is often far below 1.
 */
function cpuShare(ms = 250): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let x = 0;
  while (performance.now() - t0 < ms) x += Math.sqrt(x + 1);
  const c = process.cpuUsage(c0);
  return x > 0 ? (c.user + c.system) / 1000 / (performance.now() - t0) : 0;
}

/** Mean of a prom-client histogram from `SinkMetrics.snapshot()`, in ms. */
function histogramMeanMs(values: unknown): number {
  if (!Array.isArray(values)) return Number.NaN;
  let sum = Number.NaN;
  let count = Number.NaN;
  for (const v of values as { metricName?: string; value: number }[]) {
    if (v.metricName?.endsWith('_sum')) sum = v.value;
    if (v.metricName?.endsWith('_count')) count = v.value;
  }
  return count > 0 ? (sum / count) * 1000 : Number.NaN;
}

// ---------------------------------------------------------------------------------------------
// Read-back: latency per row from the table's own log and data files
// ---------------------------------------------------------------------------------------------

interface ReadBack {
  latency: MsHistogram;
  latencyAtAck: MsHistogram;
  latencyFromDue: MsHistogram;
  negative: number;
  series: BucketSeries;
  commits: number;
  files: number;
  bytes: number;
  checkpoints: number;
  rows: number;
  distinct: number;
  duplicates: number;
  outOfRange: number;
  rowsPerCommit: number[];
  commitIntervals: number[];
}

async function readBack(
  store: ObjectStore,
  emitted: number,
  wallStart: number,
  bucketMs: number,
  ackAt: ReadonlyMap<number, number>,
  dueMs: (id: number) => number,
): Promise<ReadBack> {
  const listing = await listLog(store);
  const latency = new MsHistogram();
  const latencyAtAck = new MsHistogram();
  const latencyFromDue = new MsHistogram();
  const seen = new Uint8Array(emitted);
  const buckets = { min: [] as number[], max: [] as number[], sum: [] as number[], n: [] as number[] };
  const out: ReadBack = {
    latency,
    latencyAtAck,
    latencyFromDue,
    negative: 0,
    series: { bucketMs, min: [], max: [], mean: [] },
    commits: 0,
    files: 0,
    bytes: 0,
    checkpoints: listing.checkpoints.length,
    rows: 0,
    distinct: 0,
    duplicates: 0,
    outOfRange: 0,
    rowsPerCommit: [],
    commitIntervals: [],
  };
  let previousTs: number | undefined;
  for (const commit of listing.commits) {
    if (commit.version === 0) continue; // CREATE TABLE
    const text = new TextDecoder().decode(await store.get(commitKey(commit.version)));
    const actions = parseCommitFile(text, { file: commit.key, version: commit.version });
    let info: CommitInfoAction | undefined;
    const adds: AddAction[] = [];
    for (const a of actions) {
      if ('commitInfo' in a) info = a.commitInfo;
      // Auto-compaction rewrites (dataChange=false) re-add rows already counted.
      if ('add' in a && a.add.dataChange !== false) adds.push(a.add);
    }
    const ts = info?.timestamp;
    if (ts === undefined) throw new Error(`version ${commit.version} has no commitInfo.timestamp`);
    out.commits++;
    if (previousTs !== undefined) out.commitIntervals.push(ts - previousTs);
    previousTs = ts;
    const acked = ackAt.get(commit.version) ?? ts;
    let commitRows = 0;
    const files = await Promise.all(adds.map((add) => store.get(decodeURIComponent(add.path))));
    for (const bytes of files) {
      out.files++;
      out.bytes += bytes.byteLength;
      const table = readParquetTable(bytes);
      const idCol = table.getChild('id');
      const timeCol = table.getChild('event_time');
      if (!idCol || !timeCol) throw new Error(`version ${commit.version}: a data file lacks id/event_time`);
      for (let c = 0; c < idCol.data.length; c++) {
        const ids = int64Values(idCol.data[c] as Data);
        const times = int64Values(timeCol.data[c] as Data);
        for (let i = 0; i < ids.length; i++) {
          const id = ids.at(i);
          if (id < 0 || id >= emitted) out.outOfRange++;
          else if (seen[id] === 0) {
            seen[id] = 1;
            out.distinct++;
          } else out.duplicates++;
          const eventMs = Math.floor(times.at(i) / 1000);
          let ms = ts - eventMs;
          if (ms < 0) {
            out.negative++;
            ms = 0;
          }
          latency.add(ms);
          latencyAtAck.add(Math.max(0, acked - eventMs));
          latencyFromDue.add(Math.max(0, Math.round(ts - dueMs(id))));
          const b = Math.max(0, Math.floor((eventMs - wallStart) / bucketMs));
          if (buckets.n[b] === undefined) {
            buckets.min[b] = ms;
            buckets.max[b] = ms;
            buckets.sum[b] = 0;
            buckets.n[b] = 0;
          }
          if (ms < buckets.min[b]!) buckets.min[b] = ms;
          if (ms > buckets.max[b]!) buckets.max[b] = ms;
          buckets.sum[b]! += ms;
          buckets.n[b]!++;
        }
        commitRows += ids.length;
      }
    }
    out.rows += commitRows;
    out.rowsPerCommit.push(commitRows);
  }
  for (let b = 0; b < buckets.n.length; b++) {
    const n = buckets.n[b] ?? 0;
    out.series.min.push(n > 0 ? buckets.min[b]! : Number.NaN);
    out.series.max.push(n > 0 ? buckets.max[b]! : Number.NaN);
    out.series.mean.push(n > 0 ? buckets.sum[b]! / n : Number.NaN);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CPU profile: where the time goes
// ---------------------------------------------------------------------------------------------

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

async function startProfiler(): Promise<{ stop(spec: RunSpec): Promise<CpuProfile> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return {
    async stop(spec) {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      session.disconnect();
      if (spec.cpuProfileDir) {
        await mkdir(spec.cpuProfileDir, { recursive: true });
        const file = path.join(spec.cpuProfileDir, `sink-latency-${spec.label}.cpuprofile`);
        await writeFile(file, JSON.stringify(profile));
      }
      return profile;
    },
  };
}

/**
 * Categories, first match wins; each is tested against every frame of a sample's stack (leaf to
 * root). Asynchronous continuations lose their callers, so wasm frames count as Parquet encode
 * wherever they come from (data files, the writer's compression-ratio calibration, checkpoints);
 * synchronous callers refine that where they can.
 */
const CATEGORIES_BY_FRAME: readonly [string, (f: CpuProfileNode['callFrame']) => boolean][] = [
  ['(garbage collector)', (f) => f.functionName === '(garbage collector)'],
  ['(idle)', (f) => f.functionName === '(idle)'],
  ['(program)', (f) => f.functionName === '(program)'],
  ['checkpoint', (f) => f.url.includes('checkpoint-writer')],
  ['parquet encode: Arrow IPC hand-off', (f) => f.functionName === 'tableToIPC'],
  [
    'parquet encode',
    (f) => f.url.startsWith('wasm://') || /parquet[-_]wasm|parquet-file|arrow-concat/.test(f.url),
  ],
  ['stats', (f) => f.url.includes('write/stats')],
  ['record builder', (f) => f.url.includes('/records/')],
  ['source (record generation)', (f) => f.url.includes('sink-latency')],
  [
    'metrics (prom-client, event times)',
    (f) => f.url.includes('prom-client') || f.functionName === 'collectEventTimes',
  ],
  [
    'commit (txn, log actions, snapshot)',
    (f) =>
      f.functionName === 'commitEpoch' ||
      /\/(txn|actions|snapshot|log)\//.test(f.url) ||
      (f.url.includes('table-writer') && f.functionName === 'commit'),
  ],
  ['storage IO', (f) => /local-store|storage-s3|@aws-sdk|@smithy|node:internal\/fs|node:fs/.test(f.url)],
  [
    'sink write path (conform, checks, buffering)',
    (f) => /stream\/src|delta\/src\/write\/|schema-enforcement|scan\/conform/.test(f.url),
  ],
  ['apache-arrow (other)', (f) => f.url.includes('apache-arrow')],
];

export interface ProfileSummary {
  sampledMs: number;
  busyMs: number;
  categoriesMs: Record<string, number>;
  /** Share of busy (non-idle) time. */
  categoriesShare: Record<string, number>;
  topSelfMs: { fn: string; ms: number }[];
}

function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = categoryOf.get(id);
    if (known !== undefined) return known;
    let category = 'other';
    outer: for (const [name, test] of CATEGORIES_BY_FRAME) {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        if (test(byId.get(at)!.callFrame)) {
          category = name;
          break outer;
        }
      }
    }
    categoryOf.set(id, category);
    return category;
  };
  const categoriesMs: Record<string, number> = {};
  const selfMs = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to sample i.
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    const id = samples[i]!;
    const cat = classify(id);
    categoriesMs[cat] = (categoriesMs[cat] ?? 0) + ms;
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(packages|node_modules)\//, '')}`;
    selfMs.set(key, (selfMs.get(key) ?? 0) + ms);
    total += ms;
  }
  const idle = categoriesMs['(idle)'] ?? 0;
  const busy = total - idle;
  const sorted = Object.entries(categoriesMs).sort((a, b) => b[1] - a[1]);
  return {
    sampledMs: round(total, 1),
    busyMs: round(busy, 1),
    categoriesMs: Object.fromEntries(sorted.map(([k, v]) => [k, round(v, 1)])),
    categoriesShare: Object.fromEntries(
      sorted.filter(([k]) => k !== '(idle)').map(([k, v]) => [k, round(v / Math.max(busy, 1e-9), 3)]),
    ),
    topSelfMs: [...selfMs.entries()]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([fn, ms]) => ({ fn, ms: round(ms, 1) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Parent: children, scenarios, probe, report
// ---------------------------------------------------------------------------------------------

const MODULE_PATH = fileURLToPath(import.meta.url);

type ChildMessage =
  | { type: 'log'; message: string }
  | { type: 'result'; result: RunResult }
  | { type: 'error'; message: string };

/** Runs one measured run in a fresh child process (this module, same execArgv). */
function runInChild(ctx: BenchContext, spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(MODULE_PATH, [], {
      execArgv: process.execArgv,
      env: { ...process.env, [CHILD_ENV]: '1' },
      // The child's stdout goes to our stderr: stdout carries only the report line.
      stdio: ['ignore', 2, 2, 'ipc'],
      serialization: 'advanced',
    });
    let result: RunResult | undefined;
    let failure: string | undefined;
    const onAbort = () => child.kill('SIGTERM');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'log') ctx.log(m.message);
      else if (m.type === 'result') result = m.result;
      else failure = m.message;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (result) resolve(result);
      else reject(new Error(`${spec.label}: child failed (${failure ?? `exit ${code ?? signal}`})`));
    });
    child.send(spec);
  });
}

function childMain(): void {
  const send = (m: ChildMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));
  process.once('message', (spec: RunSpec) => {
    runChild(spec, (message) => void send({ type: 'log', message }))
      .then(async (result) => {
        await send({ type: 'result', result });
        process.exit(0);
      })
      .catch(async (err: unknown) => {
        await send({
          type: 'error',
          message: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
        process.exit(1);
      });
  });
}

function summary(p: Percentiles, digits = 1): JsonObject {
  return {
    count: p.count,
    min: round(p.min, digits),
    mean: round(p.mean, digits),
    p50: round(p.p50, digits),
    p90: round(p.p90, digits),
    p99: round(p.p99, digits),
    max: round(p.max, digits),
  };
}

/** Several runs of one scenario (rounds), merged: latencies over all rows, totals, worst peaks. */
interface Merged {
  runs: readonly RunResult[];
  latency: Percentiles;
  latencyAtAck: Percentiles;
  latencyFromDue: Percentiles;
  rows: number;
  runMs: number;
  wallMs: number;
  cpuMs: number;
  achievedRowsPerSec: number;
  peakRssBytes: number;
  peakSinkBufferedBytes: number;
}

function merge(runs: readonly RunResult[]): Merged {
  const sum = (f: (r: RunResult) => number) => runs.reduce((a, r) => a + f(r), 0);
  const max = (f: (r: RunResult) => number) => runs.reduce((a, r) => Math.max(a, f(r)), 0);
  const rows = sum((r) => r.rowsEmitted);
  const runMs = sum((r) => r.runMs);
  return {
    runs,
    latency: MsHistogram.merge(runs.map((r) => r.latency)).summary(),
    latencyAtAck: MsHistogram.merge(runs.map((r) => r.latencyAtAck)).summary(),
    latencyFromDue: MsHistogram.merge(runs.map((r) => r.latencyFromDue)).summary(),
    rows,
    runMs,
    wallMs: runMs + sum((r) => r.drainMs),
    cpuMs: sum((r) => r.cpuMs),
    achievedRowsPerSec: (rows * 1000) / runMs,
    peakRssBytes: max((r) => r.peakRssBytes),
    peakSinkBufferedBytes: max((r) => r.peakSinkBufferedBytes),
  };
}

/** The report entry of a scenario (its rounds merged). */
function report(m: Merged, targetRate: number): JsonObject {
  const { runs } = m;
  const sum = (f: (r: RunResult) => number) => runs.reduce((a, r) => a + f(r), 0);
  const max = (f: (r: RunResult) => number) => runs.reduce((a, r) => Math.max(a, f(r)), 0);
  const all = (f: (r: RunResult) => readonly number[]) => runs.flatMap((r) => [...f(r)]);
  const files = sum((r) => r.filesWritten);
  const arrowBytesPerRow = runs[0]?.arrowBytesPerRow ?? Number.NaN;
  return {
    latencyMs: summary(m.latency, 0),
    latencyAtAckMs: summary(m.latencyAtAck, 0),
    latencyFromDueMs: summary(m.latencyFromDue, 0),
    targetRowsPerSec: targetRate,
    achievedRowsPerSec: Math.round(m.achievedRowsPerSec),
    achievedVsTarget: round(m.achievedRowsPerSec / targetRate),
    rounds: runs.length,
    rows: m.rows,
    runMs: Math.round(m.runMs),
    drainMs: Math.round(sum((r) => r.drainMs)),
    commits: sum((r) => r.commits),
    filesWritten: files,
    dataBytes: sum((r) => r.dataBytes),
    meanFileBytes: Math.round(sum((r) => r.dataBytes) / Math.max(1, files)),
    checkpoints: sum((r) => r.checkpoints),
    rowsPerCommit: summary(percentiles(all((r) => r.rowsPerCommit)), 0),
    commitIntervalMs: summary(percentiles(all((r) => r.commitIntervalMs)), 0),
    commitAckLagMs: summary(percentiles(all((r) => r.commitAckLagMs))),
    sinkMetricsMeanMs: runs.map((r) => ({
      commit: round(r.sinkCommitMeanMs, 1),
      visibility: round(r.sinkVisibilityMeanMs, 1),
    })),
    cpuMs: Math.round(m.cpuMs),
    cpuUserMs: Math.round(sum((r) => r.cpuUserMs)),
    cpuSystemMs: Math.round(sum((r) => r.cpuSystemMs)),
    cpuCores: round(m.cpuMs / m.wallMs, 2),
    cpuUsPerRow: round((m.cpuMs * 1000) / Math.max(1, m.rows), 2),
    cpuBoundRowsPerSecPerCore: Math.round((1000 * Math.max(1, m.rows)) / Math.max(1e-9, m.cpuMs)),
    peakRssBytes: m.peakRssBytes,
    peakRssMiB: round(m.peakRssBytes / MiB, 1),
    rssBeforeRunMiB: round(max((r) => r.rssBeforeRunBytes) / MiB, 1),
    processMaxRssMiB: round(max((r) => r.processMaxRssBytes) / MiB, 1),
    peakHeapUsedBytes: max((r) => r.peakHeapUsedBytes),
    peakArrayBuffersBytes: max((r) => r.peakArrayBuffersBytes),
    peakSinkBufferedMiB: round(m.peakSinkBufferedBytes / MiB, 1),
    peakSinkBufferedSecondsOfInput: round(m.peakSinkBufferedBytes / (targetRate * arrowBytesPerRow), 2),
    eventLoopDelayMs: {
      worstRoundP50: round(
        max((r) => r.eventLoopDelayMs.p50),
        1,
      ),
      worstRoundP99: round(
        max((r) => r.eventLoopDelayMs.p99),
        1,
      ),
      max: round(
        max((r) => r.eventLoopDelayMs.max),
        1,
      ),
    },
    sourceLagMs: summary(percentiles(all((r) => r.sourceLagMs))),
    writeWaitMs: summary(percentiles(all((r) => r.writeWaitMs)), 2),
    negativeLatencies: sum((r) => r.negativeLatencies),
    readBackMs: Math.round(sum((r) => r.readBackMs)),
    perRound: runs.map((r) => {
      const one = merge([r]);
      return {
        latencyMs: { p50: one.latency.p50, p90: one.latency.p90, p99: one.latency.p99, max: one.latency.max },
        achievedRowsPerSec: Math.round(one.achievedRowsPerSec),
        commits: r.commits,
        cpuUsPerRow: round((r.cpuMs * 1000) / Math.max(1, r.rowsEmitted), 2),
        peakSinkBufferedMiB: round(r.peakSinkBufferedBytes / MiB, 1),
        loadAverage1m: round(r.loadAverage1m, 2),
        cpuShareBeforeAfter: r.cpuShare.map((x) => round(x, 2)),
      };
    }),
  };
}

/** Chart points of the rounds one after another (x offset by the earlier rounds' run time). */
function seriesPoints(runs: readonly RunResult[], pick: (s: BucketSeries) => number[]): [number, number][] {
  const out: [number, number][] = [];
  let offsetS = 0;
  for (const r of runs) {
    const s = r.series;
    pick(s).forEach((v, i) => {
      if (Number.isFinite(v)) out.push([offsetS + ((i + 0.5) * s.bucketMs) / 1000, v]);
    });
    offsetS += r.runMs / 1000;
  }
  return out;
}

interface ProbeStep {
  rate: number;
  achievedRowsPerSec: number;
  achievedVsTarget: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  p99FromDueMs: number;
  peakSinkBufferedMiB: number;
  cpuCores: number;
  cpuUsPerRow: number;
  cpuShareBeforeAfter: number[];
  peakRssMiB: number;
  pass: boolean;
}

async function probe(
  ctx: BenchContext,
  base: Omit<RunSpec, 'label' | 'rate' | 'durationMs' | 'source'>,
  cfg: SizeConfig,
  source: SourceMode,
): Promise<{ steps: ProbeStep[]; maxSustainable: number | null }> {
  const steps: ProbeStep[] = [];
  const tryRate = async (rate: number): Promise<ProbeStep> => {
    const label = `probe-${source}-${rate}`;
    ctx.log(`probe (${source} source): continuous 250 ms at ${rate} rows/s for ${cfg.probeMs / 1000} s`);
    const r = await runInChild(ctx, { ...base, label, rate, durationMs: cfg.probeMs, source });
    const m = merge([r]);
    const achieved = m.achievedRowsPerSec / rate;
    const step: ProbeStep = {
      rate,
      achievedRowsPerSec: Math.round(m.achievedRowsPerSec),
      achievedVsTarget: round(achieved),
      p50Ms: m.latency.p50,
      p99Ms: m.latency.p99,
      maxMs: m.latency.max,
      p99FromDueMs: m.latencyFromDue.p99,
      peakSinkBufferedMiB: round(m.peakSinkBufferedBytes / MiB, 1),
      cpuCores: round(m.cpuMs / m.wallMs, 2),
      cpuUsPerRow: round((m.cpuMs * 1000) / Math.max(1, m.rows), 2),
      cpuShareBeforeAfter: r.cpuShare.map((x) => round(x, 2)),
      peakRssMiB: round(m.peakRssBytes / MiB, 1),
      pass: achieved >= TARGETS.probeMinAchieved && m.latency.p99 <= TARGETS.probeMaxP99Ms,
    };
    ctx.log(
      `  -> achieved ${step.achievedRowsPerSec}/s (${step.achievedVsTarget}), p50 ${step.p50Ms} ms, ` +
        `p99 ${step.p99Ms} ms: ${step.pass ? 'pass' : 'FAIL'}`,
    );
    steps.push(step);
    return step;
  };
  let lastPass: number | undefined;
  let firstFail: number | undefined;
  for (const rate of cfg.probeRates) {
    if ((await tryRate(rate)).pass) lastPass = rate;
    else {
      firstFail = rate;
      break;
    }
  }
  // The first rate already fails: halve until one passes (down to PROBE_FLOOR).
  for (let rate = (firstFail ?? 0) / 2; lastPass === undefined && rate >= PROBE_FLOOR; rate /= 2) {
    if ((await tryRate(rate)).pass) lastPass = rate;
    else firstFail = rate;
  }
  // One bisection step between the last pass and the first failure.
  if (lastPass !== undefined && firstFail !== undefined && firstFail - lastPass > PROBE_RESOLUTION) {
    const mid = Math.round((lastPass + firstFail) / 2 / 5_000) * 5_000;
    if ((await tryRate(mid)).pass) lastPass = mid;
  }
  return { steps, maxSustainable: lastPass ?? null };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const sized = ctx.quick ? QUICK : FULL;
  // Overrides for experiments: WEIR_SINK_LATENCY_RATE (rows/s), WEIR_SINK_LATENCY_DURATION_MS.
  const cfg: SizeConfig = {
    ...sized,
    rate: Number(process.env.WEIR_SINK_LATENCY_RATE ?? sized.rate),
    durationMs: Number(process.env.WEIR_SINK_LATENCY_DURATION_MS ?? sized.durationMs),
  };
  const sourceMode: SourceMode = process.env.WEIR_SINK_LATENCY_SOURCE === 'template' ? 'template' : 'builder';
  const cpuProfileDir = process.env.WEIR_SINK_LATENCY_CPUPROF;
  const bucketMs = Math.max(100, Math.round(cfg.durationMs / 300 / 50) * 50);
  const dir = await makeTempDir('weir-bench-sink-latency');
  ctx.defer(() => removeDir(dir));

  const s3: BenchBucket | undefined = cfg.stores.includes('radosgw')
    ? await acquireBenchBucket(ctx, 'weir-bench')
    : undefined;

  const base = (
    store: StoreKind,
    scenario: Scenario,
  ): Omit<RunSpec, 'label' | 'rate' | 'durationMs' | 'source'> => ({
    scenario,
    store,
    ...(store === 'local'
      ? { localDir: dir }
      : { s3: s3!.options, s3Prefix: `sink-latency-${scenario.name}` }),
    warmupMs: cfg.warmupMs,
    bucketMs,
    profile: false,
  });

  // Scenarios: continuous / microbatch 1 s / microbatch 10 s, per store, same source and rate,
  // interleaved in rounds (the order rotating) so drifting load on the machine hits all three.
  const runs: Partial<Record<StoreKind, Record<string, Merged>>> = {};
  const segmentMs = cfg.durationMs / cfg.rounds;
  for (const store of cfg.stores) {
    const byScenario: Record<string, RunResult[]> = Object.fromEntries(SCENARIOS.map((s) => [s.name, []]));
    for (let round_ = 0; round_ < cfg.rounds; round_++) {
      for (let k = 0; k < SCENARIOS.length; k++) {
        const scenario = SCENARIOS[(k + round_) % SCENARIOS.length]!;
        const label = `${store}-${scenario.name}-r${round_ + 1}`;
        ctx.log(`${label}: ${cfg.rate} rows/s for ${segmentMs / 1000} s (${sourceMode} source)`);
        const r = await runInChild(ctx, {
          ...base(store, scenario),
          label,
          rate: cfg.rate,
          durationMs: segmentMs,
          source: sourceMode,
        });
        const m = merge([r]);
        ctx.log(
          `  -> p50 ${m.latency.p50} ms, p90 ${m.latency.p90} ms, p99 ${m.latency.p99} ms, max ${m.latency.max} ms; ` +
            `${Math.round(m.achievedRowsPerSec)} rows/s, ${r.commits} commits, cpu ${round(m.cpuMs / m.wallMs, 2)} ` +
            `cores (share ${r.cpuShare.map((x) => round(x, 2)).join('/')}), peak RSS ${round(r.peakRssBytes / MiB)} MiB`,
        );
        byScenario[scenario.name]!.push(r);
        if (store === 'radosgw') await s3!.cleanup(`sink-latency-${scenario.name}`);
      }
    }
    runs[store] = Object.fromEntries(SCENARIOS.map((s) => [s.name, merge(byScenario[s.name]!)]));
  }

  // Max sustainable rate, continuous on local disk.
  const probeBase = base('local', CONTINUOUS);
  const probes: Record<string, { steps: ProbeStep[]; maxSustainable: number | null }> = {};
  probes[sourceMode] = await probe(ctx, probeBase, cfg, sourceMode);
  if (cfg.probeTemplate && sourceMode === 'builder')
    probes.template = await probe(ctx, probeBase, cfg, 'template');

  // Where the time goes: the continuous sink under the sampling profiler.
  let profiled: RunResult | undefined;
  if (cfg.profileMs > 0 || process.env.WEIR_SINK_LATENCY_PROFILE === '1') {
    const ms = cfg.profileMs > 0 ? cfg.profileMs : cfg.durationMs;
    ctx.log(`profile: continuous 250 ms, local, ${cfg.rate} rows/s for ${ms / 1000} s under the V8 profiler`);
    profiled = await runInChild(ctx, {
      ...probeBase,
      label: 'profile',
      rate: cfg.rate,
      durationMs: ms,
      source: sourceMode,
      profile: true,
      ...(cpuProfileDir ? { cpuProfileDir } : {}),
    });
  }

  // Charts.
  for (const store of cfg.stores) {
    const byScenario = runs[store]!;
    await writeLineChart(ctx.artifactPath(store === 'local' ? 'svg' : `${store}.svg`), {
      title: `Visibility latency on ${store === 'local' ? 'local disk' : 'radosgw'} at ${cfg.rate / 1000}K rows/s: max per ${bucketMs} ms of event time`,
      series: SCENARIOS.map((s) => ({
        name: s.name,
        points: seriesPoints(byScenario[s.name]!.runs, (x) => x.max),
      })),
      xLabel: `event time (s since the run started; ${cfg.rounds} rounds of ${segmentMs / 1000} s back to back)`,
      yLabel: 'commit time - event time (ms)',
    });
    for (const s of SCENARIOS) {
      const scenarioRuns = byScenario[s.name]!.runs;
      await writeLineChart(ctx.artifactPath(`${store}.${s.name}.svg`), {
        title: `${s.name} on ${store} at ${cfg.rate / 1000}K rows/s: latency per ${bucketMs} ms of event time`,
        series: [
          { name: 'max', points: seriesPoints(scenarioRuns, (x) => x.max) },
          { name: 'mean', points: seriesPoints(scenarioRuns, (x) => x.mean) },
          { name: 'min', points: seriesPoints(scenarioRuns, (x) => x.min) },
        ],
        xLabel: `event time (s since the run started; ${cfg.rounds} rounds of ${segmentMs / 1000} s back to back)`,
        yLabel: 'commit time - event time (ms)',
      });
    }
  }

  // Report.
  const local = runs.local!;
  const cont = local[CONTINUOUS.name]!;
  const mb1 = local.microbatch1s!;
  const results: Record<string, JsonLike> = {};
  const reference: Record<string, JsonObject> = {};
  for (const store of cfg.stores) {
    const byScenario = runs[store]!;
    results[store] = { [CONTINUOUS.name]: report(byScenario[CONTINUOUS.name]!, cfg.rate) };
    reference[store] = Object.fromEntries(
      SCENARIOS.filter((s) => s !== CONTINUOUS).map((s) => [s.name, report(byScenario[s.name]!, cfg.rate)]),
    );
  }
  const mainProbe = probes[sourceMode]!;
  results.maxRate =
    cfg.probeRates.length === 0
      ? { skipped: 'quick run: no max-rate probe' }
      : {
          method:
            `continuous 250 ms on local disk, ${cfg.probeMs / 1000} s per step, rates ${cfg.probeRates.join(', ')} ` +
            `until achieved < ${TARGETS.probeMinAchieved * 100}% of the target or p99 > ${TARGETS.probeMaxP99Ms} ms, ` +
            `(a failing first rate is halved down to ${PROBE_FLOOR} until one passes), then one bisection step; ` +
            'maxSustainableRowsPerSec = highest passing rate',
          maxSustainableRowsPerSec: mainProbe.maxSustainable,
          steps: mainProbe.steps.map((s) => ({ ...s })),
          ...(probes.template && sourceMode !== 'template'
            ? {
                templateSource: {
                  maxSustainableRowsPerSec: probes.template.maxSustainable,
                  steps: probes.template.steps.map((s) => ({ ...s })),
                },
              }
            : {}),
        };
  if (profiled?.profile) {
    const p = profiled.profile;
    const wallMs = profiled.runMs + profiled.drainMs;
    const pm = merge([profiled]);
    results.profile = {
      method:
        'V8 sampling profiler (node:inspector, 1 ms) over the measured window of a continuous 250 ms run on local ' +
        'disk; each sample goes to the first matching category up its stack (see CATEGORIES_BY_FRAME)',
      rate: cfg.rate,
      wallMs: Math.round(wallMs),
      rows: profiled.rowsEmitted,
      achievedRowsPerSec: Math.round(pm.achievedRowsPerSec),
      latencyMs: summary(pm.latency, 0),
      cpuShareBeforeAfter: profiled.cpuShare.map((x) => round(x, 2)),
      sampledBusyMs: p.busyMs,
      cpuMs: Math.round(profiled.cpuMs),
      cpuUsPerRow: round((profiled.cpuMs * 1000) / Math.max(1, profiled.rowsEmitted), 2),
      // > 1 when the thread was runnable but not running (a loaded machine): sampled busy time
      // then includes waiting, so shares are the robust figure and per-row costs use CPU time.
      sampledBusyVsCpu: round(p.busyMs / Math.max(1, profiled.cpuMs), 2),
      categoriesSampledMs: p.categoriesMs,
      categoriesShare: p.categoriesShare,
      categoriesCpuUsPerRow: Object.fromEntries(
        Object.entries(p.categoriesShare).map(([k, share]) => [
          k,
          round((share * profiled!.cpuMs * 1000) / Math.max(1, profiled!.rowsEmitted), 2),
        ]),
      ),
      topSelfMs: p.topSelfMs.map((t) => ({ ...t })),
    };
  }
  results.processMaxRssBytesParent = process.resourceUsage().maxRSS * 1024;

  const ratio: Record<string, number> = {
    p50VsMicrobatch1s: round(cont.latency.p50 / mb1.latency.p50),
    p99VsMicrobatch1s: round(cont.latency.p99 / mb1.latency.p99),
    p50VsMicrobatch10s: round(cont.latency.p50 / local.microbatch10s!.latency.p50),
    p50VsTarget: round(cont.latency.p50 / TARGETS.localP50Ms),
    p99VsTarget: round(cont.latency.p99 / TARGETS.localP99Ms),
    achievedVsTargetRate: round(cont.achievedRowsPerSec / cfg.rate),
    peakRssVsTarget: round(cont.peakRssBytes / TARGETS.peakRssBytes),
  };
  if (mainProbe.maxSustainable !== null)
    ratio.maxRateVsTarget = round(mainProbe.maxSustainable / TARGETS.maxRateRowsPerSec);
  const s3runs = runs.radosgw;
  if (s3runs) {
    const c = s3runs[CONTINUOUS.name]!;
    ratio.radosgwP50VsMicrobatch1s = round(c.latency.p50 / s3runs.microbatch1s!.latency.p50);
    ratio.radosgwP99VsTarget = round(c.latency.p99 / TARGETS.s3P99Ms);
    ratio.radosgwPeakRssVsTarget = round(c.peakRssBytes / TARGETS.peakRssBytes);
  }

  return {
    params: {
      quick: ctx.quick,
      rowsPerSec: cfg.rate,
      durationMs: cfg.durationMs,
      warmupMs: cfg.warmupMs,
      stores: cfg.stores,
      ...(s3 ? { s3Server: s3.server } : {}),
      source: sourceMode,
      tickMs: TICK_MS,
      chunkRows: Math.round((cfg.rate * TICK_MS) / 1000),
      recordJsonBytes: Math.round(
        Array.from({ length: 1000 }, (_, i) => JSON.stringify(makeRecord(i, Date.now())).length).reduce(
          (a, b) => a + b,
          0,
        ) / 1000,
      ),
      arrowBytesPerRow: round(cont.runs[0]!.arrowBytesPerRow, 1),
      rounds: cfg.rounds,
      roundMs: segmentMs,
      scenarios: SCENARIOS.map((s) => ({ name: s.name, ...sinkOptionsJson(s) })),
      compression: 'zstd (sink default)',
      bucketMs,
      targets: { ...TARGETS },
      process:
        'each measured run in a fresh child process after a warm-up run; scenarios interleaved in rounds, ' +
        'order rotating per round; per scenario the rounds are merged (latency over all rows)',
    },
    results,
    reference,
    ratio,
  };
}

function sinkOptionsJson(s: Scenario): JsonObject {
  const o = sinkOptions(s);
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function')) as JsonObject;
}

const bench: Bench = {
  description:
    'record -> visible latency of the sinks: continuous 250 ms vs microbatch 1 s / 10 s, local and radosgw; max rate; profile',
  run,
};
export default bench;

// A measured run in a child process (see runInChild): only when this file is the entry point.
if (process.env[CHILD_ENV] === '1' && process.send && path.resolve(process.argv[1] ?? '') === MODULE_PATH) {
  childMain();
}
