/**
 * kafkajs 2.2.4 consumer groups against the broker: eachBatch with manual commits, a second
 * consumer of the same group resuming from the committed offsets, seek, and the group as
 * DescribeGroups / ListGroups show it. (Long-poll wake-ups: long-poll.test.ts.)
 */
import { type Consumer, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajs, waitFor, withBroker, within } from './support.js';

const FAST = {
  sessionTimeout: 10_000,
  rebalanceTimeout: 10_000,
  heartbeatInterval: 500,
  maxWaitTimeInMs: 100,
};

describe('kafkajs consumer group', () => {
  it('consumes with eachBatch and manual commits; the next member resumes from the commits', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const admin = kafka.admin();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await Promise.all([admin.connect(), producer.connect()]);
      let consumer: Consumer | undefined;
      try {
        await admin.createTopics({ topics: [{ topic: 'ledger', numPartitions: 3 }] });
        const first = Array.from({ length: 300 }, (_, i) => ({ value: `first-${i}`, partition: i % 3 }));
        await producer.send({ topic: 'ledger', messages: first });

        consumer = kafka.consumer({ groupId: 'ledger-readers', ...FAST });
        await consumer.connect();
        await consumer.subscribe({ topic: 'ledger', fromBeginning: true });
        const seen: string[] = [];
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            for (const m of batch.messages) {
              seen.push(m.value!.toString());
              resolveOffset(m.offset);
            }
            await consumer!.commitOffsets([
              {
                topic: batch.topic,
                partition: batch.partition,
                offset: String(Number(batch.lastOffset()) + 1),
              },
            ]);
            await heartbeat();
          },
        });
        await waitFor('300 records', () => seen.length >= 300);
        await waitFor('commits at the high watermarks', async () => {
          const committed = await admin.fetchOffsets({ groupId: 'ledger-readers', topics: ['ledger'] });
          return committed[0]!.partitions.every((p) => p.offset === '100');
        });
        const described = await admin.describeGroups(['ledger-readers']);
        expect(described.groups[0]).toMatchObject({
          groupId: 'ledger-readers',
          state: 'Stable',
          protocolType: 'consumer',
        });
        expect(described.groups[0]!.members).toHaveLength(1);
        expect((await admin.listGroups()).groups).toEqual([
          { groupId: 'ledger-readers', protocolType: 'consumer' },
        ]);
        await consumer.disconnect();
        consumer = undefined;
        expect(new Set(seen).size).toBe(300);

        // A new member of the same group starts at the committed offsets: only new records.
        await producer.send({ topic: 'ledger', messages: [{ value: 'second-0', partition: 1 }] });
        consumer = kafka.consumer({ groupId: 'ledger-readers', ...FAST });
        await consumer.connect();
        await consumer.subscribe({ topic: 'ledger', fromBeginning: true });
        const later: string[] = [];
        await consumer.run({
          eachMessage: async ({ message }) => void later.push(message.value!.toString()),
        });
        await waitFor('the new record', () => later.length >= 1);
        await new Promise((r) => setTimeout(r, 300));
        expect(later).toEqual(['second-0']);
      } finally {
        await consumer?.disconnect();
        await Promise.all([admin.disconnect(), producer.disconnect()]);
      }
    });
  });

  it('seeks back within a partition', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      const consumer = kafka.consumer({ groupId: 'seekers', ...FAST });
      await Promise.all([producer.connect(), consumer.connect()]);
      try {
        broker.ensureTopic('tape', 1);
        await producer.send({
          topic: 'tape',
          messages: Array.from({ length: 20 }, (_, i) => ({ value: String(i) })),
        });
        await consumer.subscribe({ topic: 'tape', fromBeginning: true });
        const offsets: number[] = [];
        let sought = false;
        await consumer.run({
          eachMessage: async ({ message }) => {
            offsets.push(Number(message.offset));
            if (!sought && offsets.length === 20) {
              sought = true;
              consumer.seek({ topic: 'tape', partition: 0, offset: '15' });
            }
          },
        });
        await within(
          'the re-read after seek',
          waitFor('25 deliveries', () => offsets.length >= 25),
          20_000,
        );
        expect(offsets.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(offsets.slice(20, 25)).toEqual([15, 16, 17, 18, 19]);
      } finally {
        await Promise.all([producer.disconnect(), consumer.disconnect()]);
      }
    });
  });
});
