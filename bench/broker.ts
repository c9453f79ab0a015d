/**
 * `broker` — throughput of the development Kafka broker (@weir/kafka-broker) and the CPU the
 * broker itself spends, with real clients: kafkajs 2.2.4 and librdkafka
 * (@confluentinc/kafka-javascript, KafkaJS-compatible API; skipped with the reason when it is
 * not installed). 200-byte JSON messages, one topic of 8 partitions per client.
 *
 * The broker runs in a child process so its CPU time (user + system, `process.cpuUsage()`) is
 * measured apart from the clients'; every phase reports messages/s, MB/s (payload bytes, MB =
 * 10^6) and `brokerCpuCoresPer100kMsgsPerSec` = broker CPU seconds per wall second, divided by
 * (messages/s / 100,000): the fraction of one core the broker needs for every 100K messages/s.
 *
 * Phases:
 * - kafkajs produce (acks 1, sends of 1,000 messages, 16 in flight) and consume (a consumer
 *   group, eachBatch, from the beginning).
 * - librdkafka produce (acks 1, linger 5 ms, sends of 10,000, 4 in flight) and consume (a
 *   consumer group, eachBatch of up to 10,000 messages: the binding's default is 32).
 * - `fetch`: the broker's Fetch path alone, driven by a minimal Fetch v11 client in this
 *   process (one connection, one request at a time for all 8 partitions, 2 MB per partition)
 *   that only walks batch headers to count records: everything stored is read `fetchPasses`
 *   times. Target: >= 500K messages/s with the broker on one core.
 * - reference `rawTcp`: a plain TCP server in a child process answering the same
 *   request/response pattern with the same response sizes from one preallocated buffer, so
 *   the loopback + Node socket ceiling is measured in the same run.
 *
 * ratio: `fetchVsRawTcp` = broker fetch MB/s / raw TCP MB/s (1 = the broker adds nothing over
 * the socket); `fetchVsTarget` = fetch messages/s / 500,000.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { type Bench, type BenchContext, type BenchResult, round } from './lib/result.js';
import { startTimer } from './lib/timing.js';

const FULL = { kafkajsMessages: 500_000, rdkafkaMessages: 1_000_000, fetchPasses: 3 };
const QUICK = { kafkajsMessages: 100_000, rdkafkaMessages: 200_000, fetchPasses: 2 };
const PARTITIONS = 8;
const MESSAGE_BYTES = 200;
const FETCH_TARGET = 500_000;
const PARTITION_FETCH_BYTES = 2 * 1024 * 1024;

/** A 200-byte JSON document (padded) for message `i`. */
function message(i: number): string {
  const base = JSON.stringify({
    id: i,
    ts: 1_700_000_000_000 + i,
    user: `u${i % 9973}`,
    amount: (i % 10_000) / 100,
    pad: '',
  });
  return base.replace('"pad":""', `"pad":"${'x'.repeat(MESSAGE_BYTES - base.length)}"`);
}

// ---- child processes: the broker, and the raw TCP reference server ----

const BROKER_CHILD = `
import { startBroker } from '@weir/kafka-broker';
const broker = await startBroker({ port: 0 });
process.on('message', async (m) => {
  if (m === 'cpu') process.send({ cpu: process.cpuUsage(), stats: broker.statsSnapshot() });
  if (m === 'stop') { await broker.stop(); process.exit(0); }
});
process.send({ port: broker.port, cpu: process.cpuUsage() });
`;

const RAW_CHILD = `
import { createServer } from 'node:net';
const payload = Buffer.alloc(64 * 1024 * 1024, 7);
const server = createServer((socket) => {
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const n = pending.readInt32BE(0);
      pending = pending.subarray(4);
      const head = Buffer.alloc(4);
      head.writeInt32BE(n);
      socket.write(head);
      socket.write(payload.subarray(0, n));
    }
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, cpu: process.cpuUsage() }));
process.on('message', (m) => {
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
  if (m === 'stop') process.exit(0);
});
`;

interface Cpu {
  user: number;
  system: number;
}

interface Child {
  proc: ChildProcess;
  port: number;
  cpu(): Promise<{ cpu: Cpu; stats?: Record<string, number> }>;
  stop(): Promise<void>;
}

function nextMessage<T>(proc: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code}`));
    proc.once('exit', onExit);
    proc.once('message', (m) => {
      proc.off('exit', onExit);
      resolve(m as T);
    });
  });
}

async function startChild(source: string): Promise<Child> {
  const proc = spawn(
    process.execPath,
    ['--conditions=@weir/source', '--import', 'tsx', '--input-type=module', '-e', source],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const first = await nextMessage<{ port: number }>(proc);
  return {
    proc,
    port: first.port,
    cpu: async () => {
      const p = nextMessage<{ cpu: Cpu; stats?: Record<string, number> }>(proc);
      proc.send('cpu');
      return p;
    },
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.send('stop');
      await exited;
    },
  };
}

// ---- measurement helpers ----

interface Phase {
  messages: number;
  bytes: number;
  ms: number;
  messagesPerSec: number;
  mbPerSec: number;
  brokerCpuMs: number;
  brokerCpuCores: number;
  brokerCpuCoresPer100kMsgsPerSec: number;
}

async function measure(
  child: Child,
  messages: number,
  bytes: number,
  fn: () => Promise<void>,
): Promise<Phase> {
  const before = (await child.cpu()).cpu;
  const timer = startTimer();
  await fn();
  const ms = timer.elapsedMs();
  const after = (await child.cpu()).cpu;
  const cpuMs = (after.user - before.user + after.system - before.system) / 1000;
  const perSec = messages / (ms / 1000);
  const cores = cpuMs / ms;
  return {
    messages,
    bytes,
    ms: round(ms, 1),
    messagesPerSec: Math.round(perSec),
    mbPerSec: round(bytes / 1e6 / (ms / 1000), 2),
    brokerCpuMs: round(cpuMs, 1),
    brokerCpuCores: round(cores, 3),
    brokerCpuCoresPer100kMsgsPerSec: round(cores / (perSec / 100_000), 4),
  };
}

async function waitUntil(
  what: string,
  check: () => boolean,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (signal.aborted) throw signal.reason;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- kafkajs ----

async function kafkajsPhases(ctx: BenchContext, broker: Child, n: number) {
  const kafka = new Kafka({
    brokers: [`127.0.0.1:${broker.port}`],
    logLevel: logLevel.NOTHING,
    clientId: 'bench',
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([admin.connect(), producer.connect()]);
  await admin.createTopics({ topics: [{ topic: 'bench-kafkajs', numPartitions: PARTITIONS }] });
  const values = Array.from({ length: 1000 }, (_, i) => message(i));
  ctx.log(`kafkajs: producing ${n} messages`);
  const produce = await measure(broker, n, n * MESSAGE_BYTES, async () => {
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < n; i += 1000) {
      const messages = values.map((value, j) => ({ partition: (i + j) % PARTITIONS, value }));
      inFlight.push(producer.send({ topic: 'bench-kafkajs', acks: 1, messages }));
      if (inFlight.length >= 16) await inFlight.shift();
    }
    await Promise.all(inFlight);
  });
  ctx.log(`kafkajs: consuming ${n} messages`);
  const consumer = kafka.consumer({
    groupId: 'bench-kafkajs',
    maxBytesPerPartition: PARTITION_FETCH_BYTES,
    maxBytes: 64 * 1024 * 1024,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: 'bench-kafkajs', fromBeginning: true });
  let seen = 0;
  const consume = await measure(broker, n, n * MESSAGE_BYTES, async () => {
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
      },
    });
    await waitUntil('kafkajs consumer', () => seen >= n, 300_000, ctx.signal);
  });
  await consumer.disconnect();
  await Promise.all([admin.disconnect(), producer.disconnect()]);
  return { produce, consume };
}

// ---- librdkafka ----

// biome-ignore lint/suspicious/noExplicitAny: optional native module without static types
type RdModule = any;

function loadRdkafka(): { mod: RdModule | null; reason: string } {
  try {
    const mod = createRequire(import.meta.url)('@confluentinc/kafka-javascript') as RdModule;
    return { mod, reason: `librdkafka ${mod.librdkafkaVersion}` };
  } catch (err) {
    return {
      mod: null,
      reason: `not available: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    };
  }
}

async function rdkafkaPhases(ctx: BenchContext, broker: Child, mod: RdModule, n: number) {
  const { Kafka, logLevel: rdLog } = mod.KafkaJS;
  const kafka = new Kafka({ kafkaJS: { brokers: [`127.0.0.1:${broker.port}`], logLevel: rdLog.NOTHING } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'bench-rdkafka', numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const producer = kafka.producer({ 'linger.ms': 5, 'batch.num.messages': 10_000, kafkaJS: { acks: 1 } });
  await producer.connect();
  const values = Array.from({ length: 10_000 }, (_, i) => message(i));
  ctx.log(`librdkafka: producing ${n} messages`);
  const produce = await measure(broker, n, n * MESSAGE_BYTES, async () => {
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < n; i += 10_000) {
      const messages = values.map((value, j) => ({ partition: (i + j) % PARTITIONS, value }));
      inFlight.push(producer.send({ topic: 'bench-rdkafka', messages }));
      if (inFlight.length >= 4) await inFlight.shift();
    }
    await Promise.all(inFlight);
  });
  await producer.disconnect();
  ctx.log(`librdkafka: consuming ${n} messages`);
  const consumer = kafka.consumer({
    'js.consumer.max.batch.size': 10_000,
    kafkaJS: { groupId: 'bench-rdkafka', fromBeginning: true, autoCommit: false },
  });
  await consumer.connect();
  await consumer.subscribe({ topics: ['bench-rdkafka'] });
  let seen = 0;
  const consume = await measure(broker, n, n * MESSAGE_BYTES, async () => {
    await consumer.run({
      eachBatch: async ({ batch }: { batch: { messages: unknown[] } }) => {
        seen += batch.messages.length;
      },
    });
    await waitUntil('librdkafka consumer', () => seen >= n, 300_000, ctx.signal);
  });
  await consumer.disconnect();
  return { produce, consume };
}

// ---- the minimal Fetch client (broker Fetch path) and the raw TCP client (reference) ----

class FramedSocket {
  private parts: Buffer[] = [];
  private bytes = 0;
  private waiter: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.parts.push(c);
      this.bytes += c.length;
      this.waiter?.();
    });
  }

  static async open(port: number): Promise<FramedSocket> {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new FramedSocket(socket);
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** The next length-prefixed frame (without the prefix). */
  async frame(): Promise<Buffer> {
    for (;;) {
      if (this.bytes >= 4) {
        if (this.parts[0]!.length < 4) this.parts = [Buffer.concat(this.parts)];
        const size = this.parts[0]!.readInt32BE(0);
        if (this.bytes >= size + 4) {
          const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes);
          const frame = all.subarray(4, size + 4);
          const rest = all.subarray(size + 4);
          this.parts = rest.length > 0 ? [rest] : [];
          this.bytes = rest.length;
          return frame;
        }
      }
      await new Promise<void>((r) => {
        this.waiter = r;
      });
      this.waiter = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function fetchRequest(topic: string, offsets: readonly number[], correlationId: number): Buffer {
  const name = Buffer.from(topic);
  const parts = offsets.length;
  const size =
    2 +
    2 +
    4 +
    2 +
    5 /* header with client id "bench" */ +
    4 +
    4 +
    4 +
    4 +
    1 +
    4 +
    4 +
    4 +
    2 +
    name.length +
    4 +
    parts * 28 +
    4 +
    2;
  const b = Buffer.alloc(4 + size);
  let p = 0;
  const i16 = (v: number) => {
    b.writeInt16BE(v, p);
    p += 2;
  };
  const i32 = (v: number) => {
    b.writeInt32BE(v, p);
    p += 4;
  };
  i32(size);
  i16(1); // Fetch
  i16(11);
  i32(correlationId);
  i16(5);
  p += b.write('bench', p);
  i32(-1); // replica
  i32(0); // max wait: never park, everything is there
  i32(1); // min bytes
  i32(64 * 1024 * 1024); // max bytes
  b.writeInt8(0, p++); // isolation
  i32(0); // session id
  i32(-1); // session epoch
  i32(1);
  i16(name.length);
  p += name.copy(b, p);
  i32(parts);
  offsets.forEach((offset, partition) => {
    i32(partition);
    i32(-1); // leader epoch
    b.writeBigInt64BE(BigInt(offset), p);
    p += 8;
    b.writeBigInt64BE(-1n, p);
    p += 8;
    i32(PARTITION_FETCH_BYTES);
  });
  i32(0); // forgotten topics
  i16(0); // rack id ""
  return b;
}

/** Walks a Fetch v11 response: records and bytes per partition, and each partition's next offset. */
function walkFetchResponse(r: Buffer, offsets: number[]): { records: number; bytes: number } {
  let p = 4 + 4 + 2 + 4; // correlation id, throttle, error, session
  let records = 0;
  let bytes = 0;
  const topics = r.readInt32BE(p);
  p += 4;
  for (let t = 0; t < topics; t++) {
    p += 2 + r.readInt16BE(p);
    const parts = r.readInt32BE(p);
    p += 4;
    for (let i = 0; i < parts; i++) {
      const partition = r.readInt32BE(p);
      const error = r.readInt16BE(p + 4);
      if (error !== 0) throw new Error(`fetch error ${error} on partition ${partition}`);
      p += 4 + 2 + 8 + 8 + 8; // partition, error, hw, lso, log start
      p += 4 + r.readInt32BE(p) * 16; // aborted transactions (none)
      p += 4; // preferred read replica
      const size = r.readInt32BE(p);
      p += 4;
      const end = p + size;
      bytes += size;
      while (p + 61 <= end) {
        const baseOffset = Number(r.readBigInt64BE(p));
        const batchLength = r.readInt32BE(p + 8);
        if (p + 12 + batchLength > end) break;
        records += r.readInt32BE(p + 57);
        offsets[partition] = baseOffset + r.readInt32BE(p + 23) + 1;
        p += 12 + batchLength;
      }
      p = end;
    }
  }
  return { records, bytes };
}

async function fetchAll(port: number, topic: string, highWatermarks: readonly number[], sizes: number[]) {
  const client = await FramedSocket.open(port);
  const offsets = highWatermarks.map(() => 0);
  let records = 0;
  let bytes = 0;
  let correlationId = 1;
  try {
    while (offsets.some((o, i) => o < highWatermarks[i]!)) {
      client.write(fetchRequest(topic, offsets, correlationId++));
      const frame = await client.frame();
      sizes.push(frame.length);
      const got = walkFetchResponse(frame, offsets);
      records += got.records;
      bytes += got.bytes;
    }
  } finally {
    client.close();
  }
  return { records, bytes };
}

async function rawTcpAll(port: number, sizes: readonly number[]): Promise<number> {
  const client = await FramedSocket.open(port);
  let bytes = 0;
  try {
    for (const n of sizes) {
      const req = Buffer.alloc(4);
      req.writeInt32BE(n);
      client.write(req);
      bytes += (await client.frame()).length;
    }
  } finally {
    client.close();
  }
  return bytes;
}

// ---- the bench ----

async function run(ctx: BenchContext): Promise<BenchResult> {
  const size = ctx.quick ? QUICK : FULL;
  const rd = loadRdkafka();
  ctx.log(`starting the broker in a child process (librdkafka: ${rd.reason})`);
  const broker = await startChild(BROKER_CHILD);
  ctx.defer(() => broker.stop());
  const raw = await startChild(RAW_CHILD);
  ctx.defer(() => raw.stop());

  const kafkajs = await kafkajsPhases(ctx, broker, size.kafkajsMessages);
  const rdkafka =
    rd.mod === null ? { skipped: rd.reason } : await rdkafkaPhases(ctx, broker, rd.mod, size.rdkafkaMessages);

  // Broker Fetch path: read everything stored in the kafkajs topic (and the librdkafka one).
  const topics = [{ topic: 'bench-kafkajs', n: size.kafkajsMessages }];
  if (rd.mod !== null) topics.push({ topic: 'bench-rdkafka', n: size.rdkafkaMessages });
  const hw = (n: number) =>
    Array.from({ length: PARTITIONS }, (_, p) => Math.floor(n / PARTITIONS) + (p < n % PARTITIONS ? 1 : 0));
  const sizes: number[] = [];
  let fetchedRecords = 0;
  let fetchedBytes = 0;
  ctx.log(`fetch path: reading every stored message ${size.fetchPasses} times`);
  const totalMessages = topics.reduce((s, t) => s + t.n, 0) * size.fetchPasses;
  const fetch = await measure(broker, totalMessages, totalMessages * MESSAGE_BYTES, async () => {
    for (let pass = 0; pass < size.fetchPasses; pass++) {
      for (const t of topics) {
        const got = await fetchAll(broker.port, t.topic, hw(t.n), sizes);
        fetchedRecords += got.records;
        fetchedBytes += got.bytes;
      }
    }
  });
  if (fetchedRecords !== totalMessages)
    throw new Error(`fetch read ${fetchedRecords} records, expected ${totalMessages}`);
  const fetchWireMbPerSec = round(fetchedBytes / 1e6 / (fetch.ms / 1000), 2);

  ctx.log(`reference: raw TCP, the same ${sizes.length} responses (${round(fetchedBytes / 1e6, 1)} MB)`);
  const rawTimer = startTimer();
  const rawBytes = await rawTcpAll(raw.port, sizes);
  const rawMs = rawTimer.elapsedMs();
  const rawMbPerSec = round(rawBytes / 1e6 / (rawMs / 1000), 2);
  const brokerStats = (await broker.cpu()).stats ?? {};

  return {
    params: {
      quick: ctx.quick,
      partitions: PARTITIONS,
      messageBytes: MESSAGE_BYTES,
      kafkajsMessages: size.kafkajsMessages,
      rdkafkaMessages: rd.mod === null ? 0 : size.rdkafkaMessages,
      fetchPasses: size.fetchPasses,
      partitionFetchBytes: PARTITION_FETCH_BYTES,
      librdkafka: rd.reason,
      fetchTargetMessagesPerSec: FETCH_TARGET,
    },
    results: {
      kafkajs: { produce: { ...kafkajs.produce }, consume: { ...kafkajs.consume } },
      librdkafka:
        'skipped' in rdkafka
          ? { skipped: rdkafka.skipped }
          : { produce: { ...rdkafka.produce }, consume: { ...rdkafka.consume } },
      fetch: { ...fetch, wireMbPerSec: fetchWireMbPerSec, responses: sizes.length, wireBytes: fetchedBytes },
      brokerStats: { ...brokerStats },
    },
    reference: {
      rawTcp: { bytes: rawBytes, ms: round(rawMs, 1), mbPerSec: rawMbPerSec, responses: sizes.length },
    },
    ratio: {
      fetchVsRawTcp: round(fetchWireMbPerSec / rawMbPerSec, 3),
      fetchVsTarget: round(fetch.messagesPerSec / FETCH_TARGET, 3),
    },
  };
}

const bench: Bench = {
  description:
    'Kafka broker throughput and broker CPU with kafkajs and librdkafka (200-byte JSON, 8 partitions)',
  run,
};
export default bench;
