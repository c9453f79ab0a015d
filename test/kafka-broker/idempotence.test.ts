/**
 * Idempotent producers against lost responses, with real clients: the broker applies a Produce
 * and drops its answer (the `dropResponses` fault hook), the client retries the same sequence
 * numbers, and the broker must answer with the original offsets instead of storing the records
 * twice - in memory, and across a full stop and start on the same port with a data directory
 * (where the broker rebuilds producer state from its log).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiKey, type Broker, type BrokerLogger, startBroker } from '@weir/kafka-broker';
import { type Kafka, Partitioners } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c, produce, produceResult, raw } from './raw-client.js';
import {
  kafkajs,
  loadRdkafka,
  type RdKafkaModule,
  testBrokerOptions,
  waitFor,
  withBroker,
} from './support.js';

const rd = loadRdkafka();

function dropCounter(): { logger: BrokerLogger; dropped: () => number; onDrop: (fn: () => void) => void } {
  let n = 0;
  let hook: (() => void) | undefined;
  return {
    dropped: () => n,
    onDrop: (fn) => {
      hook = fn;
    },
    logger: {
      log: (_level, event) => {
        if (event !== 'fault.response_dropped') return;
        n++;
        hook?.();
      },
    },
  };
}

/** Every value stored in a topic, read with a kafkajs consumer from the beginning. */
async function readAll(kafka: Kafka, topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `check-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    await waitFor(`${expected} records in ${topic}`, () => values.length >= expected, 30_000);
    // Anything stored twice would arrive right behind: give it a moment.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await consumer.disconnect();
  }
  return values;
}

function totalHighWatermark(broker: Broker, topic: string): number {
  return broker.topics.get(topic)!.partitions.reduce((n, p) => n + p.highWatermark, 0);
}

describe('idempotent producers and lost Produce responses', () => {
  it('kafkajs: retried batches are stored once, every record exactly once', async () => {
    const drops = dropCounter();
    await withBroker({ logger: drops.logger }, async (broker) => {
      broker.ensureTopic('dedupe', 3);
      const kafka = kafkajs(broker);
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      const sent: string[] = [];
      try {
        for (let round = 0; round < 10; round++) {
          if (round % 2 === 1) broker.dropResponses(ApiKey.Produce, 1);
          const messages = Array.from({ length: 100 }, (_, i) => ({
            partition: i % 3,
            value: `r${round}-${i}`,
          }));
          await producer.send({ topic: 'dedupe', acks: -1, messages });
          sent.push(...messages.map((m) => m.value));
        }
      } finally {
        await producer.disconnect();
      }
      expect(drops.dropped()).toBe(5);
      expect(totalHighWatermark(broker, 'dedupe')).toBe(sent.length);
      const values = await readAll(kafka, 'dedupe', sent.length);
      expect(values.sort()).toEqual([...sent].sort());
    });
  });

  it.skipIf(rd.module === null)(
    `librdkafka: retried batches are stored once, every record exactly once (${rd.reason})`,
    async () => {
      const drops = dropCounter();
      await withBroker({ logger: drops.logger }, async (broker) => {
        broker.ensureTopic('rd-dedupe', 3);
        const { Kafka, logLevel } = (rd.module as RdKafkaModule).KafkaJS;
        const rdk = new Kafka({ kafkaJS: { brokers: [broker.bootstrap], logLevel: logLevel.NOTHING } });
        const producer = rdk.producer({ kafkaJS: { idempotent: true, acks: -1 }, 'linger.ms': 2 });
        await producer.connect();
        const sent: string[] = [];
        try {
          for (let round = 0; round < 10; round++) {
            if (round % 2 === 1) broker.dropResponses(ApiKey.Produce, 1);
            const values = Array.from({ length: 200 }, (_, i) => `r${round}-${i}`);
            // (The binding turns message values into Buffers in place: keep the strings apart.)
            const messages = values.map((value, i) => ({ partition: i % 3, value }));
            await producer.send({ topic: 'rd-dedupe', messages });
            sent.push(...values);
          }
        } finally {
          await producer.disconnect();
        }
        expect(drops.dropped()).toBe(5);
        expect(totalHighWatermark(broker, 'rd-dedupe')).toBe(sent.length);
        const values = await readAll(kafkajs(broker), 'rd-dedupe', sent.length);
        expect(values.sort()).toEqual([...sent].sort());
      });
    },
  );

  describe('across a full broker stop and start with a data directory', () => {
    let dir = '';
    beforeEach(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'weir-broker-idem-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('a retry reaching the restarted broker gets the original offsets (raw protocol)', async () => {
      const first = await startBroker(testBrokerOptions({ dataDir: dir }));
      const port = first.port;
      let batches: Buffer[];
      try {
        first.ensureTopic('kept-once', 1);
        const producer = kafkajs(first).producer({
          idempotent: true,
          maxInFlightRequests: 1,
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await producer.connect();
        await producer.send({ topic: 'kept-once', acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
        await producer.send({ topic: 'kept-once', acks: -1, messages: [{ value: 'c' }] });
        await producer.disconnect();
        batches = first.topics
          .partition('kept-once', 0)!
          .liveBatches()
          .map((b) => Buffer.from(b.buf));
      } finally {
        await first.stop();
      }
      const second = await startBroker(testBrokerOptions({ dataDir: dir, port }));
      const c = await raw(second.port);
      try {
        // The same bytes again, as a producer retrying after the restart would send them.
        c.send(produce('kept-once', 0, batches[1]!));
        expect(produceResult((await c.next()) as Buffer)).toEqual({ errorCode: 0, baseOffset: 2 });
        c.send(produce('kept-once', 0, batches[0]!));
        expect(produceResult((await c.next()) as Buffer)).toEqual({ errorCode: 0, baseOffset: 0 });
        expect(second.highWatermark('kept-once', 0)).toBe(3);
        // The producer's next sequence (3) is appended; a gap after it is refused.
        const nextBatch = Buffer.from(batches[1]!);
        nextBatch.writeInt32BE(3, 53);
        nextBatch.writeUInt32BE(crc32c(nextBatch.subarray(21)), 17);
        c.send(produce('kept-once', 0, nextBatch));
        expect(produceResult((await c.next()) as Buffer)).toEqual({ errorCode: 0, baseOffset: 3 });
        const gap = Buffer.from(nextBatch);
        gap.writeInt32BE(9, 53);
        gap.writeUInt32BE(crc32c(gap.subarray(21)), 17);
        c.send(produce('kept-once', 0, gap));
        expect(produceResult((await c.next()) as Buffer).errorCode).toBe(45); // OUT_OF_ORDER_SEQUENCE_NUMBER
        expect(second.highWatermark('kept-once', 0)).toBe(4);
      } finally {
        c.close();
        await second.stop();
      }
    });

    it('kafkajs: a send whose response is lost as the broker stops completes once after the restart', async () => {
      const drops = dropCounter();
      const first = await startBroker(testBrokerOptions({ dataDir: dir, logger: drops.logger }));
      const port = first.port;
      // Stop the broker the moment it has stored the batch and dropped the answer, so the
      // client's retry can only reach the restarted broker.
      let stopping: Promise<void> | undefined;
      drops.onDrop(() => {
        stopping = first.stop();
      });
      first.ensureTopic('restart-once', 2);
      const kafka = kafkajs(`127.0.0.1:${port}`, {
        retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      let second: Broker | undefined;
      try {
        await producer.connect();
        const before = Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, value: `before-${i}` }));
        await producer.send({ topic: 'restart-once', acks: -1, messages: before });
        first.dropResponses(ApiKey.Produce, 1);
        const lost = Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, value: `lost-${i}` }));
        const sending = producer.send({ topic: 'restart-once', acks: -1, messages: lost });
        await waitFor('the dropped response', () => stopping !== undefined, 10_000);
        await stopping;
        expect(totalHighWatermark(first, 'restart-once')).toBe(100);
        second = await startBroker(testBrokerOptions({ dataDir: dir, port }));
        await sending;
        const after = Array.from({ length: 50 }, (_, i) => ({ partition: i % 2, value: `after-${i}` }));
        await producer.send({ topic: 'restart-once', acks: -1, messages: after });
        expect(totalHighWatermark(second, 'restart-once')).toBe(150);
        const values = await readAll(kafkajs(second), 'restart-once', 150);
        expect(values.sort()).toEqual([...before, ...lost, ...after].map((m) => m.value).sort());
      } finally {
        await producer.disconnect();
        await second?.stop();
        await first.stop();
      }
    });
  });
});
