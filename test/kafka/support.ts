/**
 * Helpers for the Kafka ingest suites: a broker per suite, topics, a kafkajs producer that sends
 * numbered JSON messages (so every message can be found again by topic, partition and offset),
 * reading back what the table holds keyed by (partition, offset), and positions stored in the
 * table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchToJsonRows, type JsonValue, loadSnapshot, parseSchema, scanSnapshot } from '@weir/delta';
import { type Broker, type BrokerOptions, startBroker } from '@weir/kafka-broker';
import type { ObjectStore } from '@weir/storage';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';

export { kafkajs, loadRdkafka, waitFor, within } from '../kafka-broker/support.js';

export const ORDER_SCHEMA = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'user', type: 'string', nullable: true, metadata: {} },
      { name: 'amount', type: 'decimal(12,2)', nullable: true, metadata: {} },
      { name: 'country', type: 'string', nullable: true, metadata: {} },
      { name: 'at', type: 'timestamp', nullable: true, metadata: {} },
    ],
  }),
);

const COUNTRIES = ['DE', 'FR', 'US', 'BR', 'JP', 'IN'];

export function order(id: number): Record<string, unknown> {
  return {
    id,
    user: `u${id % 1000}`,
    amount: ((id % 100_000) / 100).toFixed(2),
    country: COUNTRIES[id % COUNTRIES.length],
    at: new Date(1_700_000_000_000 + id * 1000).toISOString(),
  };
}

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A broker for the suite (started in beforeAll, stopped in afterAll) and temp directories
 * removed afterAll. Read `suite.broker` inside tests only.
 */
export function useKafkaSuite(options: BrokerOptions = {}): {
  readonly broker: Broker;
  dir(prefix: string): string;
} {
  let broker: Broker | undefined;
  const removals: (() => void)[] = [];
  beforeAll(async () => {
    broker = await startBroker(options);
  });
  afterAll(async () => {
    await broker?.stop();
    for (const r of removals) r();
  });
  return {
    get broker(): Broker {
      if (!broker) throw new Error('useKafkaSuite: the broker is only available inside tests');
      return broker;
    },
    dir(prefix: string): string {
      const t = tempDir(prefix);
      removals.push(t.remove);
      return t.dir;
    },
  };
}

/** Sends `values` to `topic` round-robin over its partitions, in chunks. Returns the count. */
export async function produce(
  kafka: Kafka,
  topic: string,
  values: readonly (string | Buffer)[],
  options: { partitions?: number; chunk?: number } = {},
): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const chunk = options.chunk ?? 2000;
  const partitions = options.partitions ?? 1;
  try {
    for (let i = 0; i < values.length; i += chunk) {
      const slice = values.slice(i, i + chunk);
      await producer.send({
        topic,
        acks: 1,
        messages: slice.map((value, j) => ({ value, partition: (i + j) % partitions, key: `k${i + j}` })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  return values.length;
}

export async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Sum over the stored positions of `groupId` for `topic` (messages the table covers). */
export async function storedTotal(store: ObjectStore, groupId: string, topic: string): Promise<number> {
  try {
    const snapshot = await loadSnapshot(store);
    let total = 0;
    for (const [appId, txn] of snapshot.appTransactions())
      if (appId.startsWith(`${groupId}-${topic}-`)) total += txn.version;
    return total;
  } catch {
    return 0;
  }
}

export async function tableRows(store: ObjectStore): Promise<Record<string, JsonValue>[]> {
  const snapshot = await loadSnapshot(store);
  const rows: Record<string, JsonValue>[] = [];
  for await (const b of scanSnapshot(store, snapshot)) rows.push(...batchToJsonRows(b));
  return rows;
}

/**
 * Checks every (partition, offset) of `expected` is in `rows` exactly once; returns a list of
 * problems (empty when exactly-once holds).
 */
export function exactlyOnceProblems(
  rows: readonly Record<string, JsonValue>[],
  expectedPerPartition: ReadonlyMap<number, number>,
  columns = { partition: 'kafka_partition', offset: 'kafka_offset' },
): string[] {
  const seen = new Map<number, Uint8Array>();
  for (const [p, n] of expectedPerPartition) seen.set(p, new Uint8Array(n));
  const problems: string[] = [];
  for (const r of rows) {
    const p = Number(r[columns.partition]);
    const o = Number(r[columns.offset]);
    const marks = seen.get(p);
    if (!marks || o >= marks.length || o < 0) {
      if (problems.length < 20) problems.push(`unexpected row partition ${p} offset ${o}`);
      continue;
    }
    marks[o]!++;
  }
  for (const [p, marks] of seen) {
    for (let o = 0; o < marks.length; o++) {
      if (marks[o] !== 1 && problems.length < 20)
        problems.push(`partition ${p} offset ${o} is in the table ${marks[o]} times`);
    }
  }
  return problems;
}

export type { Broker };
