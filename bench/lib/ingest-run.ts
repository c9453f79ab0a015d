/**
 * One measured Kafka -> table run for the `ingest-latency` bench: a `weir ingest` process (the
 * real binary) reading one topic of the project's broker, a rate-controlled producer in a child
 * process stamping each message with its creation time, and a read-back of the table that gives
 * every row's visibility latency (the `commitInfo.timestamp` of the commit that added it minus
 * the event time it carries) and checks every (partition, offset) landed exactly once.
 *
 * Invariants: the producer starts only after the ingest owns every partition (so startup is not
 * measured as latency); the ingest is stopped only after the table's stored positions cover
 * everything produced; peak RSS and CPU time are the ingest process's own (/proc), so the
 * producer and the broker never count against it.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AddAction,
  type CommitInfoAction,
  commitKey,
  listLog,
  loadSnapshot,
  parseCommitFile,
  parseSchema,
  readParquetTable,
  serializeSchema,
} from '@weir/delta';
import { loadLibrdkafka } from '@weir/kafka';
import type { ObjectStore } from '@weir/storage';
import type { Data } from 'apache-arrow';
import { Kafka, logLevel } from 'kafkajs';
import { int64Values, MsHistogram } from './ms-histogram.js';
import type { Percentiles } from './timing.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WEIR_BIN = path.join(REPO, 'packages/cli/bin/weir.js');
export const PRODUCER_ENV = 'WEIR_INGEST_LATENCY_PRODUCER';
const TICK_MS = 10;

export const SCHEMA = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'user_id', type: 'string', nullable: true, metadata: {} },
      { name: 'amount', type: 'decimal(12,2)', nullable: true, metadata: {} },
      { name: 'currency', type: 'string', nullable: true, metadata: {} },
      { name: 'country', type: 'string', nullable: true, metadata: {} },
      { name: 'merchant', type: 'string', nullable: true, metadata: {} },
      { name: 'category', type: 'string', nullable: true, metadata: {} },
      { name: 'note', type: 'string', nullable: true, metadata: {} },
      { name: 'event_time', type: 'timestamp', nullable: false, metadata: {} },
    ],
  }),
);

const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'BR', 'IN', 'JP', 'NL', 'ES', 'CA'];
const CURRENCIES = ['USD', 'EUR', 'GBP', 'EUR', 'BRL', 'INR', 'JPY', 'EUR', 'EUR', 'CAD'];
const CATEGORIES = ['grocery', 'fuel', 'travel', 'restaurants', 'electronics', 'health', 'games', 'books'];

/** A ~200-byte JSON card transaction; `event_time` is epoch milliseconds. */
export function message(id: number, eventTimeMs: number): string {
  const c = id % COUNTRIES.length;
  return JSON.stringify({
    id,
    user_id: `user-${(id * 7919) % 100_000}`,
    amount: ((id % 99_991) / 100).toFixed(2),
    currency: CURRENCIES[c],
    country: COUNTRIES[c],
    merchant: `merchant-${(id * 31) % 4999}`,
    category: CATEGORIES[id % CATEGORIES.length],
    note: `order ${id} paid by card ending ${String(id % 10_000).padStart(4, '0')}`,
    event_time: eventTimeMs,
  });
}

export interface ProducerSpec {
  bootstrap: string;
  topic: string;
  partitions: number;
  rate: number;
  durationMs: number;
  /**
   * kafkajs, or librdkafka's native producer (not its KafkaJS layer): the producer shares the
   * two cores with the broker and the ingest, and kafkajs spends about a core at 55K msgs/s.
   */
  client: 'kafkajs' | 'librdkafka';
}

export interface ProducerResult {
  sent: number;
  perPartition: number[];
  elapsedMs: number;
  /** Wall-clock time of the first send (epoch ms). */
  startedAtMs: number;
  /** How far the producer fell behind its schedule at worst (a saturated producer). */
  maxBehindMs: number;
  /** CPU seconds (user + system) the producer process spent. */
  cpuSeconds: number;
}

/** A sender of one chunk of messages, each with its partition, resolved once accepted (acks=1). */
type SendChunk = (byPartition: string[][]) => Promise<void>;

async function kafkajsSender(spec: ProducerSpec): Promise<{ send: SendChunk; close: () => Promise<void> }> {
  const kafka = new Kafka({
    brokers: [spec.bootstrap],
    clientId: 'bench-producer',
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  return {
    send: async (byPartition) => {
      await producer.sendBatch({
        acks: 1,
        topicMessages: byPartition
          .map((values, partition) => ({
            topic: spec.topic,
            messages: values.map((value) => ({ partition, value })),
          }))
          .filter((t) => t.messages.length > 0),
      });
    },
    close: () => producer.disconnect(),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: optional native module without static types
type RdProducer = any;

/**
 * librdkafka's own producer: `produce` queues a message in native memory and returns, and
 * `flush` waits for the queue to drain. No per-message delivery reports (100K JS callbacks a
 * second would cost the cores being measured): a message librdkafka gave up on never reaches
 * the table, so the run fails its drain and exactly-once checks instead.
 */
async function librdkafkaSender(
  spec: ProducerSpec,
): Promise<{ send: SendChunk; close: () => Promise<void> }> {
  // The package's loader types only the KafkaJS layer it uses; the bench wants the native producer.
  const mod = loadLibrdkafka() as unknown as { Producer: new (conf: Record<string, unknown>) => RdProducer };
  const producer: RdProducer = new mod.Producer({
    'metadata.broker.list': spec.bootstrap,
    'client.id': 'bench-producer',
    acks: 1,
    'linger.ms': 5,
    'batch.num.messages': 10_000,
    'queue.buffering.max.messages': 1_000_000,
    'queue.buffering.max.kbytes': 1_048_576,
  });
  await new Promise<void>((resolve, reject) => {
    producer.once('ready', () => resolve());
    producer.once('connection.failure', reject);
    producer.connect();
  });
  producer.setPollInterval(20);
  const QUEUE_FULL = -184;
  return {
    send: async (byPartition) => {
      for (let partition = 0; partition < byPartition.length; partition++) {
        for (const value of byPartition[partition]!) {
          for (;;) {
            try {
              producer.produce(spec.topic, partition, Buffer.from(value), null, null);
              break;
            } catch (err) {
              if ((err as { code?: number }).code !== QUEUE_FULL) throw err;
              await new Promise((r) => setTimeout(r, 5));
            }
          }
        }
      }
    },
    close: async () => {
      await new Promise<void>((resolve, reject) =>
        producer.flush(60_000, (err: unknown) => (err ? reject(err) : resolve())),
      );
      await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
    },
  };
}

/** The producer child's main: sends on schedule, never drops, reports over IPC. */
export async function producerMain(): Promise<void> {
  const spec = await new Promise<ProducerSpec>((resolve) =>
    process.once('message', (m) => resolve(m as ProducerSpec)),
  );
  const producer = spec.client === 'librdkafka' ? await librdkafkaSender(spec) : await kafkajsSender(spec);
  const perPartition = new Array<number>(spec.partitions).fill(0);
  const started = Date.now();
  const total = Math.floor((spec.rate * spec.durationMs) / 1000);
  let sent = 0;
  let maxBehindMs = 0;
  while (sent < total) {
    const elapsed = Date.now() - started;
    const due = Math.min(total, Math.floor((elapsed / 1000) * spec.rate));
    if (due > sent) {
      // At most 200 ms of messages per send: a stalled producer catches up in steps.
      const upTo = Math.min(due, sent + Math.ceil(spec.rate / 5));
      const byPartition: string[][] = Array.from({ length: spec.partitions }, () => []);
      const now = Date.now();
      for (let id = sent; id < upTo; id++) byPartition[id % spec.partitions]!.push(message(id, now));
      await producer.send(byPartition);
      for (let p = 0; p < spec.partitions; p++) perPartition[p]! += byPartition[p]!.length;
      maxBehindMs = Math.max(maxBehindMs, ((due - upTo) / spec.rate) * 1000);
      sent = upTo;
    } else await new Promise((r) => setTimeout(r, TICK_MS));
  }
  await producer.close();
  const elapsedMs = Date.now() - started;
  const cpu = process.cpuUsage();
  const result: ProducerResult = {
    sent,
    perPartition,
    elapsedMs,
    startedAtMs: started,
    maxBehindMs: Math.round(maxBehindMs),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  process.send!(result, () => process.exit(0));
}

function runProducer(spec: ProducerSpec): Promise<ProducerResult> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: process.execArgv,
    env: { ...process.env, [PRODUCER_ENV]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as ProducerResult));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the producer exited with ${code}`));
    });
    child.send(spec);
  });
}

/** Peak RSS (VmHWM) and CPU seconds (user + system) of a process, from /proc. */
function procStats(pid: number): { peakRssBytes: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return { peakRssBytes: hwm, cpuSeconds: ticks / 100 };
}

export interface RunSpec {
  name: string;
  bootstrap: string;
  topic: string;
  partitions: number;
  rate: number;
  durationMs: number;
  /** Produced first at the same rate and left out of `latency` (JIT, first files, first compaction). */
  warmupMs: number;
  mode: 'continuous' | 'microbatch';
  epochMs?: number;
  triggerMs?: number;
  client: 'kafkajs' | 'librdkafka';
  /** The bench producer's client (see ProducerSpec). */
  producerClient: 'kafkajs' | 'librdkafka';
  /** A local directory or an s3:// URI for the table. */
  table: string;
  store: ObjectStore;
  env: Record<string, string>;
  globalFlags: string[];
  workDir: string;
  bucketMs: number;
}

export interface RunResult {
  name: string;
  /** Rows produced after the warm-up. */
  latency: Percentiles;
  /** Every row, the warm-up included. */
  latencyWithWarmup: Percentiles;
  /** Per-row latency counts, for merging and charts. */
  series: { bucketMs: number; max: number[]; mean: number[] };
  produced: number;
  achievedRate: number;
  producerMaxBehindMs: number;
  producerCpuSeconds: number;
  ingestRowsPerSec: number;
  commits: number;
  files: number;
  peakRssBytes: number;
  cpuSeconds: number;
  cpuCoresBusy: number;
  exactlyOnce: { missing: number; duplicates: number };
  drainMs: number;
}

async function storedTotal(store: ObjectStore, group: string, topic: string): Promise<number> {
  try {
    const snapshot = await loadSnapshot(store);
    let n = 0;
    for (const [appId, t] of snapshot.appTransactions())
      if (appId.startsWith(`${group}-${topic}-`)) n += t.version;
    return n;
  } catch {
    return 0;
  }
}

/** The node flag the `weir` command adds, unless `nodeArgs` sets it. */
function launcherFlags(nodeArgs: readonly string[]): string[] {
  return nodeArgs.some((a) => /^--max[-_]semi[-_]space[-_]size/.test(a)) ? [] : ['--max-semi-space-size=32'];
}

export async function runOnce(spec: RunSpec, log: (m: string) => void): Promise<RunResult> {
  const schemaFile = path.join(spec.workDir, `${spec.name}.schema.json`);
  writeFileSync(schemaFile, serializeSchema(SCHEMA));
  const group = `bench-${spec.name}`;
  const args = [
    ...spec.globalFlags,
    'ingest',
    '--brokers',
    spec.bootstrap,
    '--topic',
    spec.topic,
    '--table',
    spec.table,
    '--schema',
    schemaFile,
    '--metadata-columns',
    'partition,offset',
    '--group',
    group,
    '--client',
    spec.client,
    '--mode',
    spec.mode,
    ...(spec.mode === 'continuous'
      ? ['--epoch-ms', String(spec.epochMs ?? 250)]
      : ['--trigger-ms', String(spec.triggerMs ?? 1000)]),
    '--session-timeout-ms',
    '10000',
    // WEIR_INGEST_LATENCY_AUTOCOMPACTION=off: how much of the ingest's CPU compaction takes.
    ...(process.env.WEIR_INGEST_LATENCY_AUTOCOMPACTION === 'off' ? ['--no-auto-compaction'] : []),
  ];
  // The ingest runs as users run it: the `weir` command, which starts node with glibc's arena
  // cap. WEIR_INGEST_LATENCY_NODE_ARGS: extra node flags (e.g. --cpu-prof, which NODE_OPTIONS
  // refuses): node is then started here, with the same arena cap and semi-space size the command sets.
  const nodeArgs = (process.env.WEIR_INGEST_LATENCY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const env = {
    ...process.env,
    ...spec.env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  const child =
    nodeArgs.length > 0
      ? spawn(process.execPath, [...launcherFlags(nodeArgs), ...nodeArgs, WEIR_BIN, ...args], {
          cwd: REPO,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { MALLOC_ARENA_MAX: '2', ...env },
        })
      : spawn(WEIR_BIN, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env });
  let assigned = new Set<string>();
  let stderr = '';
  let partial = '';
  // WEIR_INGEST_LATENCY_EVENTS_DIR: keep the ingest's event lines (stamped with the bench's
  // clock) and the per-bucket latency series there, to line up latency spikes with what the
  // ingest did (commits, compactions).
  const eventsDir = process.env.WEIR_INGEST_LATENCY_EVENTS_DIR;
  const events: string[] = [];
  child.stdout!.on('data', (c: Buffer) => {
    partial += c.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      if (eventsDir) events.push(`{"benchMs":${Date.now()},"line":${l}}`);
      const e = JSON.parse(l) as { event: string; partitions?: string[] };
      if (e.event === 'assigned') assigned = new Set(e.partitions ?? []);
    }
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (assigned.size < spec.partitions) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`${spec.name}: ingest did not take the partitions: ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    log(`${spec.name}: producing ${spec.rate} msg/s for ${spec.durationMs / 1000} s`);
    const produced = await runProducer({
      bootstrap: spec.bootstrap,
      topic: spec.topic,
      partitions: spec.partitions,
      rate: spec.rate,
      durationMs: spec.warmupMs + spec.durationMs,
      client: spec.producerClient,
    });
    const drainStart = Date.now();
    const drainDeadline = drainStart + 120_000 + (spec.triggerMs ?? 0) * 2;
    while ((await storedTotal(spec.store, group, spec.topic)) < produced.sent) {
      if (Date.now() > drainDeadline || child.exitCode !== null)
        throw new Error(`${spec.name}: the ingest did not catch up: ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const drainMs = Date.now() - drainStart;
    const stats = procStats(child.pid!);
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`${spec.name}: ingest exited ${code}: ${stderr.slice(-2000)}`);
    const back = await readBack(spec.store, produced, spec.bucketMs, produced.startedAtMs + spec.warmupMs);
    if (eventsDir) {
      await mkdir(eventsDir, { recursive: true });
      const base = path.join(eventsDir, spec.name);
      await writeFile(`${base}.events.ndjson`, `${events.join('\n')}\n`);
      await writeFile(
        `${base}.series.json`,
        JSON.stringify({
          producerStartMs: produced.startedAtMs,
          firstEventMs: back.firstEventMs,
          ...back.series,
        }),
      );
    }
    const wallS = (back.lastCommitTs - back.firstEventMs) / 1000;
    return {
      name: spec.name,
      latency: back.latency.summary(),
      latencyWithWarmup: back.all.summary(),
      series: back.series,
      produced: produced.sent,
      achievedRate: Math.round(produced.sent / (produced.elapsedMs / 1000)),
      producerMaxBehindMs: produced.maxBehindMs,
      producerCpuSeconds: Math.round(produced.cpuSeconds * 10) / 10,
      ingestRowsPerSec: Math.round(back.rows / Math.max(0.001, wallS)),
      commits: back.commits,
      files: back.files,
      peakRssBytes: stats.peakRssBytes,
      cpuSeconds: stats.cpuSeconds,
      cpuCoresBusy: Math.round((stats.cpuSeconds / Math.max(0.001, wallS)) * 100) / 100,
      exactlyOnce: { missing: back.missing, duplicates: back.duplicates },
      drainMs,
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

interface ReadBack {
  latency: MsHistogram;
  all: MsHistogram;
  series: { bucketMs: number; max: number[]; mean: number[] };
  commits: number;
  files: number;
  rows: number;
  missing: number;
  duplicates: number;
  firstEventMs: number;
  lastCommitTs: number;
}

/** Latency of every row from the table's log and data files; exactly-once by (partition, offset). */
async function readBack(
  store: ObjectStore,
  produced: ProducerResult,
  bucketMs: number,
  measuredFromMs: number,
): Promise<ReadBack> {
  const listing = await listLog(store);
  const seen = produced.perPartition.map((n) => new Uint8Array(n));
  const latency = new MsHistogram();
  const max: number[] = [];
  const sum: number[] = [];
  const count: number[] = [];
  const out: ReadBack = {
    latency,
    all: new MsHistogram(),
    series: { bucketMs, max: [], mean: [] },
    commits: 0,
    files: 0,
    rows: 0,
    missing: 0,
    duplicates: 0,
    firstEventMs: Number.POSITIVE_INFINITY,
    lastCommitTs: 0,
  };
  const rows: { ts: number; bytes: Uint8Array }[] = [];
  for (const commit of listing.commits) {
    const text = new TextDecoder().decode(await store.get(commitKey(commit.version)));
    const actions = parseCommitFile(text, { file: commit.key, version: commit.version });
    let info: CommitInfoAction | undefined;
    const adds: AddAction[] = [];
    for (const a of actions) {
      if ('commitInfo' in a) info = a.commitInfo;
      if ('add' in a && a.add.dataChange !== false) adds.push(a.add);
    }
    if (info?.operation !== 'STREAMING UPDATE' || adds.length === 0) continue;
    out.commits++;
    const ts = info.timestamp!;
    out.lastCommitTs = Math.max(out.lastCommitTs, ts);
    for (const add of adds) rows.push({ ts, bytes: await store.get(decodeURIComponent(add.path)) });
  }
  for (const { ts, bytes } of rows) {
    out.files++;
    const t = readParquetTable(bytes);
    const time = t.getChild('event_time')!;
    const partition = t.getChild('kafka_partition')!;
    const offset = t.getChild('kafka_offset')!;
    for (let c = 0; c < time.data.length; c++) {
      const times = int64Values(time.data[c] as Data);
      const parts = partition.data[c]!.values as Int32Array;
      const offs = int64Values(offset.data[c] as Data);
      for (let i = 0; i < times.length; i++) {
        const eventMs = Math.floor(times.at(i) / 1000);
        out.firstEventMs = Math.min(out.firstEventMs, eventMs);
        const ms = Math.max(0, ts - eventMs);
        out.all.add(ms);
        if (eventMs >= measuredFromMs) latency.add(ms);
        out.rows++;
        const marks = seen[parts[i]!];
        const o = offs.at(i);
        if (!marks || o >= marks.length) out.duplicates++;
        else if (marks[o]! > 0) out.duplicates++;
        else marks[o] = 1;
        const b = Math.floor(eventMs / bucketMs);
        max[b] = Math.max(max[b] ?? 0, ms);
        sum[b] = (sum[b] ?? 0) + ms;
        count[b] = (count[b] ?? 0) + 1;
      }
    }
  }
  for (const marks of seen) for (const m of marks) if (m === 0) out.missing++;
  const first = Math.floor(out.firstEventMs / bucketMs);
  for (let b = first; b < max.length; b++) {
    out.series.max.push(max[b] ?? Number.NaN);
    out.series.mean.push(count[b] ? sum[b]! / count[b]! : Number.NaN);
  }
  return out;
}

if (process.env[PRODUCER_ENV] === '1') {
  producerMain().catch((err: unknown) => {
    process.stderr.write(`producer failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
