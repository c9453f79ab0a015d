/**
 * Kafka ingest through the library API against the project's broker with the real kafkajs
 * client: rows land once with their metadata columns, positions live in the table, a restart
 * resumes exactly after them, group offsets follow the table, microbatch mode, schema
 * inference, derived date/hour partitions, raw string values.
 */
import { loadSnapshot } from '@weir/delta';
import { Ingest, type IngestEvent, type IngestOptions } from '@weir/kafka';
import { LocalStore } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import {
  createTopic,
  exactlyOnceProblems,
  kafkajs,
  ORDER_SCHEMA,
  order,
  produce,
  storedTotal,
  tableRows,
  useKafkaSuite,
  waitFor,
} from './support.js';

const suite = useKafkaSuite();

function newTable(): LocalStore {
  return new LocalStore(suite.dir('weir-ingest-'));
}

function options(topic: string, table: LocalStore, extra: Partial<IngestOptions> = {}): IngestOptions {
  return {
    kafka: { brokers: [suite.broker.bootstrap], sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
    topics: [topic],
    groupId: `g-${topic}`,
    table,
    schema: ORDER_SCHEMA,
    metadataColumns: ['topic', 'partition', 'offset', 'key', 'timestamp'],
    epochMs: 100,
    ...extra,
  };
}

const perPartition = (n: number, partitions: number) =>
  new Map(
    Array.from({ length: partitions }, (_, p) => [
      p,
      Math.floor(n / partitions) + (p < n % partitions ? 1 : 0),
    ]),
  );

describe('Kafka ingest (kafkajs, library API)', () => {
  it('lands every message once with metadata columns; a restart resumes after the stored positions', async () => {
    const topic = 'orders-basic';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 4);
    await produce(
      kafka,
      topic,
      Array.from({ length: 2000 }, (_, i) => JSON.stringify(order(i))),
      { partitions: 4 },
    );
    const table = newTable();
    const events: IngestEvent[] = [];
    const first = await Ingest.start(options(topic, table, { logger: (e) => events.push(e) }));
    await waitFor(
      '2000 messages in the table',
      async () => (await storedTotal(table, `g-${topic}`, topic)) === 2000,
      60_000,
    );
    await waitFor('the commit reported', () => first.status().rowsCommitted === 2000);
    expect(first.status()).toMatchObject({ state: 'running', rowsCommitted: 2000, deadLetters: 0 });
    expect(first.status().assigned.length).toBe(4);
    await first.stop();
    await first.done;
    expect(events.map((e) => e.event)).toContain('assigned');
    expect(events.at(-1)).toMatchObject({ event: 'stopped', timedOut: false });

    await produce(
      kafka,
      topic,
      Array.from({ length: 1000 }, (_, i) => JSON.stringify(order(2000 + i))),
      { partitions: 4 },
    );
    const second = await Ingest.start(options(topic, table));
    await waitFor(
      '3000 messages in the table',
      async () => (await storedTotal(table, `g-${topic}`, topic)) === 3000,
      60_000,
    );
    await second.stop();

    const rows = await tableRows(table);
    expect(rows.length).toBe(3000);
    expect(exactlyOnceProblems(rows, perPartition(3000, 4))).toEqual([]);
    const byId = new Map(rows.map((r) => [r.id as number, r]));
    const r7 = byId.get(7)!;
    expect(r7).toMatchObject({ id: 7, user: 'u7', amount: '0.07', country: 'FR', kafka_topic: topic });
    expect(Date.parse(r7.at as string)).toBe(Date.parse(order(7).at as string));
    expect(Buffer.from(r7.kafka_key as string, 'base64').toString()).toBe('k7');
    expect(typeof r7.kafka_timestamp).toBe('string');
    expect(new Set(rows.map((r) => r.id)).size).toBe(3000);

    // Group offsets follow the table (lag monitoring).
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId: `g-${topic}`, topics: [topic] });
    await admin.disconnect();
    const snapshot = await loadSnapshot(table);
    for (const p of offsets!.partitions) {
      expect(Number(p.offset)).toBe(snapshot.appTransactionVersion(`g-${topic}-${topic}-${p.partition}`));
    }
  });

  it('compacts small epoch files in the background and logs each compaction with its duration', async () => {
    const topic = 'orders-compacted';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 1);
    const table = newTable();
    const events: IngestEvent[] = [];
    const ingest = await Ingest.start(
      options(topic, table, {
        logger: (e) => events.push(e),
        // Tiny files are rewritten (stitching needs larger row groups); 4 of them are enough.
        autoCompaction: { minSmallFiles: 4, background: false },
      }),
    );
    // Rounds far apart, so each lands in an epoch (a file) of its own.
    for (let round = 0; round < 6; round++) {
      await produce(
        kafka,
        topic,
        Array.from({ length: 50 }, (_, i) => JSON.stringify(order(round * 50 + i))),
        { partitions: 1 },
      );
      await waitFor(
        `round ${round} in the table`,
        async () => (await storedTotal(table, `g-${topic}`, topic)) === (round + 1) * 50,
        60_000,
      );
    }
    await waitFor('a compaction logged', () => events.some((e) => e.event === 'compacted'), 60_000);
    await ingest.stop();
    await ingest.done;
    const compacted = events.filter((e) => e.event === 'compacted');
    for (const e of compacted) {
      expect(e).toMatchObject({ filesAdded: 1, binsStitched: 0 });
      if (e.event !== 'compacted') continue;
      expect(e.filesRemoved).toBeGreaterThanOrEqual(4);
      expect(e.durationMs).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(e.durationMs)).toBe(true);
    }
    const snapshot = await loadSnapshot(table);
    expect(snapshot.files().length).toBeLessThan(6);
    const rows = await tableRows(table);
    expect(exactlyOnceProblems(rows, perPartition(300, 1))).toEqual([]);
  });

  it('resumes from the table, not from Kafka group offsets that fell behind it', async () => {
    const topic = 'orders-stale-group';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 3);
    const send = (from: number, n: number) =>
      produce(
        kafka,
        topic,
        Array.from({ length: n }, (_, i) => JSON.stringify(order(from + i))),
        { partitions: 3 },
      );
    await send(0, 900);
    const table = newTable();
    const first = await Ingest.start(options(topic, table));
    await waitFor(
      '900 messages',
      async () => (await storedTotal(table, `g-${topic}`, topic)) === 900,
      60_000,
    );
    await first.stop();
    // Group offsets are for monitoring only: rewind them and the table still decides.
    const admin = kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: `g-${topic}`, topic, earliest: true });
    await admin.disconnect();
    await send(900, 600);
    const second = await Ingest.start(options(topic, table));
    await waitFor(
      '1500 messages',
      async () => (await storedTotal(table, `g-${topic}`, topic)) === 1500,
      60_000,
    );
    await second.stop();
    expect(exactlyOnceProblems(await tableRows(table), perPartition(1500, 3))).toEqual([]);
  });

  it('microbatch mode commits per trigger with the same positions', async () => {
    const topic = 'orders-microbatch';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 2);
    await produce(
      kafka,
      topic,
      Array.from({ length: 500 }, (_, i) => JSON.stringify(order(i))),
      { partitions: 2 },
    );
    const table = newTable();
    const ingest = await Ingest.start(options(topic, table, { mode: 'microbatch', triggerMs: 1000 }));
    await waitFor(
      '500 messages',
      async () => (await storedTotal(table, `g-${topic}`, topic)) === 500,
      60_000,
    );
    await ingest.stop();
    const rows = await tableRows(table);
    expect(exactlyOnceProblems(rows, perPartition(500, 2))).toEqual([]);
    expect(ingest.status().mode).toBe('microbatch');
  });

  it('infers the schema from the first messages and partitions by a derived date and hour', async () => {
    const topic = 'orders-infer';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 2);
    await produce(
      kafka,
      topic,
      Array.from({ length: 300 }, (_, i) => JSON.stringify(order(i * 600))),
      { partitions: 2 },
    );
    const table = newTable();
    const events: IngestEvent[] = [];
    const ingest = await Ingest.start(
      options(topic, table, {
        schema: 'infer',
        partitionBy: ['date(at)', 'hour(at) as at_hour'],
        logger: (e) => events.push(e),
      }),
    );
    await waitFor(
      '300 messages',
      async () => (await storedTotal(table, `g-${topic}`, topic)) === 300,
      60_000,
    );
    await ingest.stop();
    expect(events.find((e) => e.event === 'table-created')).toMatchObject({ inferred: true });
    const snapshot = await loadSnapshot(table);
    expect(snapshot.partitionColumns).toEqual(['at_date', 'at_hour']);
    const types = Object.fromEntries(snapshot.schema.fields.map((f) => [f.name, f.type.type]));
    expect(types).toMatchObject({
      id: 'long',
      at: 'timestamp',
      at_date: 'date',
      at_hour: 'string',
      kafka_offset: 'long',
    });
    const rows = await tableRows(table);
    expect(rows.length).toBe(300);
    for (const r of rows) {
      const at = new Date(r.at as string);
      expect(r.at_date).toBe(at.toISOString().slice(0, 10));
      expect(r.at_hour).toBe(`${at.toISOString().slice(0, 10)}-${at.toISOString().slice(11, 13)}`);
    }
    for (const f of snapshot.files())
      expect(Object.keys(f.partitionValues).sort()).toEqual(['at_date', 'at_hour']);
  });

  it('raw string values land in a value column', async () => {
    const topic = 'lines';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 1);
    await produce(kafka, topic, ['plain text', 'second line', 'ünïcødé']);
    const table = newTable();
    const ingest = await Ingest.start(
      options(topic, table, { format: 'string', schema: 'infer', metadataColumns: ['offset'] }),
    );
    await waitFor('3 messages', async () => (await storedTotal(table, `g-${topic}`, topic)) === 3, 60_000);
    await ingest.stop();
    const rows = (await tableRows(table)).sort((a, b) => Number(a.kafka_offset) - Number(b.kafka_offset));
    expect(rows.map((r) => r.value)).toEqual(['plain text', 'second line', 'ünïcødé']);
  });

  it('refuses to start without a table or a schema, naming the table', async () => {
    const table = newTable();
    await expect(
      Ingest.start(options('nothing', table, { schema: undefined as never })),
    ).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
    });
  });
});
