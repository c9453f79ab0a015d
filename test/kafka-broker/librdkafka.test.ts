/**
 * librdkafka (through @confluentinc/kafka-javascript's KafkaJS-compatible API) against the
 * broker: ApiVersions negotiation (it starts with flexible v3), an idempotent producer with
 * acks=all, a consumer group with commits, every compression codec passed through verbatim,
 * and records crossing between librdkafka and kafkajs.
 *
 * The client is an optional dependency with a native build: these tests run when it loads and
 * are skipped otherwise, saying why (CI sets WEIR_REQUIRE_LIBRDKAFKA=1, so there a failed
 * build fails instead).
 */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajs, loadRdkafka, type RdKafkaModule, waitFor, withBroker } from './support.js';

const rd = loadRdkafka();
if (rd.module === null) process.stderr.write(`[kafka-broker] librdkafka suites skipped: ${rd.reason}\n`);

function rdKafka(bootstrap: string) {
  const { Kafka, logLevel } = (rd.module as RdKafkaModule).KafkaJS;
  return new Kafka({ kafkaJS: { brokers: [bootstrap], logLevel: logLevel.NOTHING } });
}

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const CODEC_ID = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

describe.skipIf(rd.module === null)(`librdkafka client (${rd.reason})`, () => {
  it('produces idempotently and consumes through a consumer group with commits', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('rd-orders', 3);
      const kafka = rdKafka(broker.bootstrap);
      const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
      await producer.connect();
      const values = Array.from({ length: 3000 }, (_, i) => `order-${i}`);
      for (let i = 0; i < values.length; i += 500) {
        await producer.send({
          topic: 'rd-orders',
          messages: values.slice(i, i + 500).map((value, j) => ({ key: String(i + j), value })),
        });
      }
      await producer.disconnect();
      const stored = broker.topics.get('rd-orders')!.partitions.flatMap((p) => p.liveBatches());
      expect(stored.every((b) => b.buf.readBigInt64BE(43) >= 0n)).toBe(true); // producer id set

      const consumer = kafka.consumer({
        kafkaJS: { groupId: 'rd-group', fromBeginning: true, autoCommit: true, autoCommitInterval: 200 },
      });
      await consumer.connect();
      await consumer.subscribe({ topics: ['rd-orders'] });
      const got = new Set<string>();
      await consumer.run({
        eachMessage: async ({ message }: { message: { value: Buffer } }) =>
          void got.add(message.value.toString()),
      });
      try {
        await waitFor('3000 records through librdkafka', () => got.size === values.length, 30_000);
        const admin = kafkajs(broker).admin();
        await admin.connect();
        await waitFor('librdkafka commits', async () => {
          const c = await admin.fetchOffsets({ groupId: 'rd-group', topics: ['rd-orders'] });
          return c[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0) === values.length;
        });
        const described = await admin.describeGroups(['rd-group']);
        expect(described.groups[0]).toMatchObject({ state: 'Stable', protocolType: 'consumer' });
        await admin.disconnect();
      } finally {
        await consumer.disconnect();
      }
    });
  });

  it('passes gzip, snappy, lz4 and zstd batches through verbatim', async () => {
    await withBroker({}, async (broker) => {
      const kafka = rdKafka(broker.bootstrap);
      for (const codec of CODECS) broker.ensureTopic(`rd-${codec}`, 1);
      for (const codec of CODECS) {
        const producer = kafka.producer({ 'compression.codec': codec, 'linger.ms': 5 });
        await producer.connect();
        await producer.send({
          topic: `rd-${codec}`,
          messages: Array.from({ length: 200 }, (_, i) => ({ value: `${codec}:${i}:${'z'.repeat(100)}` })),
        });
        await producer.disconnect();
        const batches = broker.topics.partition(`rd-${codec}`, 0)!.liveBatches();
        expect(
          batches.every((b) => (b.buf.readInt16BE(21) & 7) === CODEC_ID[codec]),
          codec,
        ).toBe(true);
      }
      const consumer = kafka.consumer({ kafkaJS: { groupId: 'rd-codecs', fromBeginning: true } });
      await consumer.connect();
      await consumer.subscribe({ topics: CODECS.map((c) => `rd-${c}`) });
      const got = new Set<string>();
      await consumer.run({
        eachMessage: async ({ message }: { message: { value: Buffer } }) =>
          void got.add(message.value.toString()),
      });
      try {
        await waitFor('every compressed record', () => got.size === CODECS.length * 200, 30_000);
        for (const codec of CODECS) expect(got.has(`${codec}:199:${'z'.repeat(100)}`)).toBe(true);
      } finally {
        await consumer.disconnect();
      }
    });
  });

  it('crosses records between librdkafka and kafkajs in both directions', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('cross', 2);
      const rdk = rdKafka(broker.bootstrap);
      const js = kafkajs(broker);
      const rdProducer = rdk.producer({});
      const jsProducer = js.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await Promise.all([rdProducer.connect(), jsProducer.connect()]);
      await rdProducer.send({
        topic: 'cross',
        messages: Array.from({ length: 100 }, (_, i) => ({ value: `rd-${i}` })),
      });
      await jsProducer.send({
        topic: 'cross',
        messages: Array.from({ length: 100 }, (_, i) => ({ value: `js-${i}` })),
      });
      await Promise.all([rdProducer.disconnect(), jsProducer.disconnect()]);

      const jsSeen = new Set<string>();
      const rdSeen = new Set<string>();
      const jsConsumer = js.consumer({ groupId: 'cross-js', maxWaitTimeInMs: 100 });
      const rdConsumer = rdk.consumer({ kafkaJS: { groupId: 'cross-rd', fromBeginning: true } });
      await Promise.all([jsConsumer.connect(), rdConsumer.connect()]);
      await jsConsumer.subscribe({ topic: 'cross', fromBeginning: true });
      await rdConsumer.subscribe({ topics: ['cross'] });
      await jsConsumer.run({
        eachMessage: async ({ message }) => void jsSeen.add(message.value!.toString()),
      });
      await rdConsumer.run({
        eachMessage: async ({ message }: { message: { value: Buffer } }) =>
          void rdSeen.add(message.value.toString()),
      });
      try {
        await waitFor(
          'both consumers to see all 200',
          () => jsSeen.size === 200 && rdSeen.size === 200,
          30_000,
        );
      } finally {
        await Promise.all([jsConsumer.disconnect(), rdConsumer.disconnect()]);
      }
    });
  });
});
