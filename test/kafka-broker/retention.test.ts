/**
 * Retention: unlimited by default; with a byte or age limit the oldest whole batches go, each
 * deletion is logged (never silent), the log start offset moves, and kafkajs sees it (earliest
 * offset, a consumer starting from the beginning reads what is left).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrokerLogger, startBroker } from '@weir/kafka-broker';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fetchRequest, fetchResult, raw } from './raw-client.js';
import { kafkajs, testBrokerOptions, waitFor, withBroker } from './support.js';

function capture(): {
  logger: BrokerLogger;
  events: { level: string; event: string; fields?: Record<string, unknown> }[];
} {
  const events: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  return {
    events,
    logger: {
      log: (level, event, fields) => void events.push({ level, event, ...(fields ? { fields } : {}) }),
    },
  };
}

describe('retention', () => {
  it('keeps everything by default', async () => {
    await withBroker({}, async (broker) => {
      const producer = kafkajs(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      broker.ensureTopic('all', 1);
      for (let i = 0; i < 20; i++)
        await producer.send({ topic: 'all', messages: [{ value: 'x'.repeat(1000) }] });
      await producer.disconnect();
      expect(broker.topics.partition('all', 0)!.logStartOffset).toBe(0);
      expect(broker.stats.retainedDeletedBatches).toBe(0);
    });
  });

  it('deletes the oldest batches over a byte limit, logs it, and clients see the new start', async () => {
    const { logger, events } = capture();
    await withBroker({ retention: { maxBytes: 5000 }, logger }, async (broker) => {
      const kafka = kafkajs(broker);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      const admin = kafka.admin();
      await Promise.all([producer.connect(), admin.connect()]);
      broker.ensureTopic('bounded', 1);
      for (let i = 0; i < 20; i++)
        await producer.send({ topic: 'bounded', messages: [{ value: `${i}:${'x'.repeat(1000)}` }] });
      const [offsets] = await admin.fetchTopicOffsets('bounded');
      expect(Number(offsets!.low)).toBeGreaterThan(0);
      expect(offsets!.high).toBe('20');
      const deleted = events.filter((e) => e.event === 'retention.deleted');
      expect(deleted.length).toBeGreaterThan(0);
      expect(deleted.every((e) => e.level === 'warn' && e.fields!.topic === 'bounded')).toBe(true);
      expect(broker.stats.retainedDeletedRecords).toBe(Number(offsets!.low));

      const consumer = kafka.consumer({ groupId: 'late', maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'bounded', fromBeginning: true });
      const got: number[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void got.push(Number(message.offset)) });
      await waitFor('the retained records', () => got.length === 20 - Number(offsets!.low));
      expect(got[0]).toBe(Number(offsets!.low));
      await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    });
  });

  it('applies a topic retention.ms set at creation', async () => {
    await withBroker({ retention: { checkIntervalMs: 20 } }, async (broker) => {
      const kafka = kafkajs(broker);
      const admin = kafka.admin();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await Promise.all([producer.connect(), admin.connect()]);
      await admin.createTopics({
        topics: [{ topic: 'short', configEntries: [{ name: 'retention.ms', value: '100' }] }],
      });
      await producer.send({ topic: 'short', messages: [{ value: 'old' }] });
      await producer.send({ topic: 'short', messages: [{ value: 'new' }] });
      await waitFor(
        'the old batch to age out',
        () => broker.topics.partition('short', 0)!.logStartOffset === 1,
        5000,
      );
      expect(broker.highWatermark('short', 0)).toBe(2);
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    });
  });

  it('a fetch below the new log start is OFFSET_OUT_OF_RANGE, never records from further on', async () => {
    await withBroker({ retention: { maxBytes: 3000 } }, async (broker) => {
      const producer = kafkajs(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      broker.ensureTopic('gone', 1);
      for (let i = 0; i < 10; i++)
        await producer.send({ topic: 'gone', messages: [{ value: 'y'.repeat(1000) }] });
      await producer.disconnect();
      const start = broker.topics.partition('gone', 0)!.logStartOffset;
      expect(start).toBeGreaterThan(0);
      const c = await raw(broker.port);
      try {
        c.send(fetchRequest({ maxWaitMs: 0, partitions: [{ topic: 'gone', partition: 0, offset: 0 }] }, 1));
        const [below] = fetchResult((await c.next()) as Buffer);
        expect(below).toMatchObject({ errorCode: 1, recordCount: 0 }); // OFFSET_OUT_OF_RANGE
        c.send(
          fetchRequest({ maxWaitMs: 0, partitions: [{ topic: 'gone', partition: 0, offset: start }] }, 2),
        );
        const [from] = fetchResult((await c.next()) as Buffer);
        expect(from).toMatchObject({ errorCode: 0, recordCount: 10 - start });
      } finally {
        c.close();
      }
    });
  });

  it('deletions are kept across a restart with a data directory (deleted records do not come back)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'weir-broker-retention-'));
    const { logger, events } = capture();
    try {
      const first = await startBroker(
        testBrokerOptions({ dataDir: dir, retention: { maxBytes: 3000 }, logger }),
      );
      const port = first.port;
      let start: number;
      try {
        const producer = kafkajs(first).producer({ createPartitioner: Partitioners.DefaultPartitioner });
        await producer.connect();
        first.ensureTopic('kept-bounded', 1);
        for (let i = 0; i < 10; i++)
          await producer.send({ topic: 'kept-bounded', messages: [{ value: `${i}:${'z'.repeat(1000)}` }] });
        await producer.disconnect();
        start = first.topics.partition('kept-bounded', 0)!.logStartOffset;
        expect(start).toBeGreaterThan(0);
        expect(events.some((e) => e.event === 'retention.deleted')).toBe(true);
      } finally {
        await first.stop();
      }
      // Restarted without a byte limit: what retention deleted stays deleted.
      const second = await startBroker(testBrokerOptions({ dataDir: dir, port }));
      try {
        const p = second.topics.partition('kept-bounded', 0)!;
        expect([p.logStartOffset, p.highWatermark]).toEqual([start, 10]);
        const admin = kafkajs(second).admin();
        await admin.connect();
        expect(await admin.fetchTopicOffsets('kept-bounded')).toEqual([
          { partition: 0, offset: '10', high: '10', low: String(start) },
        ]);
        await admin.disconnect();
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
