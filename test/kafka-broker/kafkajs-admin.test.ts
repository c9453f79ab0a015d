/**
 * kafkajs 2.2.4 admin client against the broker: create, list and delete topics, topic
 * metadata, topic offsets (latest, earliest, by timestamp), groups, and the errors a one-node
 * Kafka gives for bad requests.
 */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajs, withBroker } from './support.js';

describe('kafkajs admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    await withBroker({}, async (broker) => {
      const admin = kafkajs(broker).admin();
      await admin.connect();
      try {
        expect(
          await admin.createTopics({
            topics: [
              { topic: 'orders', numPartitions: 3 },
              { topic: 'payments', numPartitions: 1, replicationFactor: 1 },
              { topic: 'defaults' },
            ],
          }),
        ).toBe(true);
        expect((await admin.listTopics()).sort()).toEqual(['defaults', 'orders', 'payments']);
        // Already exists: kafkajs reports false without throwing.
        expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] })).toBe(false);
        const meta = await admin.fetchTopicMetadata({ topics: ['orders', 'defaults'] });
        const byName = new Map(meta.topics.map((t) => [t.name, t]));
        expect(
          byName
            .get('orders')!
            .partitions.map((p) => p.partitionId)
            .sort(),
        ).toEqual([0, 1, 2]);
        expect(byName.get('orders')!.partitions.every((p) => p.leader === 1 && p.replicas.length === 1)).toBe(
          true,
        );
        expect(byName.get('defaults')!.partitions).toHaveLength(1);
        const cluster = await admin.describeCluster();
        expect(cluster.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: broker.port }]);
        expect(cluster.controller).toBe(1);

        await admin.deleteTopics({ topics: ['payments'] });
        expect((await admin.listTopics()).sort()).toEqual(['defaults', 'orders']);
      } finally {
        await admin.disconnect();
      }
    });
  });

  it('refuses a replication factor above 1 and invalid topic names', async () => {
    await withBroker({}, async (broker) => {
      const admin = kafkajs(broker, { retry: { retries: 0 } }).admin();
      await admin.connect();
      try {
        await expect(
          admin.createTopics({ topics: [{ topic: 'replicated', numPartitions: 1, replicationFactor: 3 }] }),
        ).rejects.toMatchObject({
          errors: [expect.objectContaining({ type: 'INVALID_REPLICATION_FACTOR' })],
        });
        await expect(
          admin.createTopics({ topics: [{ topic: 'bad name!', numPartitions: 1 }] }),
        ).rejects.toMatchObject({
          errors: [expect.objectContaining({ type: 'INVALID_TOPIC_EXCEPTION' })],
        });
        await expect(admin.deleteTopics({ topics: ['missing'] })).rejects.toThrow();
        expect(await admin.listTopics()).toEqual([]);
      } finally {
        await admin.disconnect();
      }
    });
  });

  it('reports latest, earliest and by-timestamp offsets', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const admin = kafka.admin();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await Promise.all([admin.connect(), producer.connect()]);
      try {
        await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 2 }] });
        const t0 = Date.now() - 60_000;
        // Partition 0: 10 records at t0 .. t0+9000; partition 1: 5 records.
        await producer.send({
          topic: 'events',
          messages: Array.from({ length: 10 }, (_, i) => ({
            partition: 0,
            value: `a${i}`,
            timestamp: String(t0 + i * 1000),
          })),
        });
        await producer.send({
          topic: 'events',
          messages: Array.from({ length: 5 }, (_, i) => ({ partition: 1, value: `b${i}` })),
        });
        const offsets = await admin.fetchTopicOffsets('events');
        expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
          { partition: 0, offset: '10', high: '10', low: '0' },
          { partition: 1, offset: '5', high: '5', low: '0' },
        ]);
        const byTime = await admin.fetchTopicOffsetsByTimestamp('events', t0 + 3500);
        const p0 = byTime.find((o) => o.partition === 0)!;
        expect(p0.offset).toBe('4');
      } finally {
        await Promise.all([admin.disconnect(), producer.disconnect()]);
      }
    });
  });

  it('auto-creates topics named in metadata requests with the configured partition count', async () => {
    await withBroker({ defaultPartitions: 4 }, async (broker) => {
      const producer = kafkajs(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        const res = await producer.send({ topic: 'auto', messages: [{ value: 'x' }] });
        expect(res[0]!.errorCode).toBe(0);
        expect(broker.topics.get('auto')!.partitions).toHaveLength(4);
      } finally {
        await producer.disconnect();
      }
    });
  });
});
