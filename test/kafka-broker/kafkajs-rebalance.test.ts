/**
 * Three kafkajs consumers join and leave one group while a producer keeps writing: the
 * partitions are reassigned at every membership change and no record is lost (each consumer
 * commits after every batch, so the next owner of a partition starts where the last one
 * stopped).
 */
import { type Consumer, type Kafka, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajs, waitFor, withBroker } from './support.js';

const TOPIC = 'stream';
const PARTITIONS = 6;
const TOTAL = 12_000;

interface Member {
  name: string;
  consumer: Consumer;
  assigned: number[][];
  received: number;
}

async function startMember(kafka: Kafka, name: string, seen: Uint16Array): Promise<Member> {
  const consumer = kafka.consumer({
    groupId: 'rebalancers',
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 300,
    maxWaitTimeInMs: 100,
    retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 500 },
  });
  const member: Member = { name, consumer, assigned: [], received: 0 };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    member.assigned.push([...(e.payload.memberAssignment[TOPIC] ?? [])].sort((a, b) => a - b));
  });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) => {
      for (const m of batch.messages) {
        if (!isRunning() || isStale()) break;
        const id = Number(m.value!.toString());
        seen[id] = (seen[id] ?? 0) + 1;
        member.received++;
        resolveOffset(m.offset);
      }
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
    eachBatchAutoResolve: false,
    autoCommitThreshold: 1,
  });
  return member;
}

describe('kafkajs group rebalancing', () => {
  it('reassigns partitions as three consumers join and leave mid-stream, losing nothing', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const admin = kafka.admin();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await Promise.all([admin.connect(), producer.connect()]);
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
      const seen = new Uint16Array(TOTAL);
      const members: Member[] = [];
      let produced = 0;
      const produceSome = async (n: number) => {
        const messages = [];
        for (let i = 0; i < n && produced < TOTAL; i++, produced++) {
          messages.push({ partition: produced % PARTITIONS, value: String(produced) });
        }
        if (messages.length > 0) await producer.send({ topic: TOPIC, messages });
      };
      const countSeen = () => seen.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
      try {
        await produceSome(2000);
        const a = await startMember(kafka, 'a', seen);
        members.push(a);
        await waitFor('a to consume', () => a.received > 500);
        await produceSome(2000);

        const b = await startMember(kafka, 'b', seen);
        members.push(b);
        await waitFor('a and b to share the partitions', () => b.assigned.some((p) => p.length > 0));
        await produceSome(2000);

        const c = await startMember(kafka, 'c', seen);
        members.push(c);
        await waitFor('c to get partitions', () => c.assigned.some((p) => p.length > 0));
        await produceSome(2000);
        await waitFor('8000 records seen', () => countSeen() >= 8000);

        await a.consumer.disconnect();
        await produceSome(2000);
        await waitFor('b and c to take over a', () => {
          const last = [...(b.assigned.at(-1) ?? []), ...(c.assigned.at(-1) ?? [])];
          return last.length === PARTITIONS;
        });
        await b.consumer.disconnect();
        await produceSome(2000);
        await waitFor('c to own every partition', () => (c.assigned.at(-1) ?? []).length === PARTITIONS);
        await waitFor(`all ${TOTAL} records seen`, () => countSeen() === TOTAL, 30_000);

        // Every membership change reassigned partitions; the last owner has them all.
        expect(a.assigned[0]).toEqual([0, 1, 2, 3, 4, 5]);
        expect(c.assigned.at(-1)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(members.every((m) => m.received > 0)).toBe(true);
        const committed = await admin.fetchOffsets({ groupId: 'rebalancers', topics: [TOPIC] });
        const hw = await admin.fetchTopicOffsets(TOPIC);
        await waitFor('final commits', async () => {
          const now = await admin.fetchOffsets({ groupId: 'rebalancers', topics: [TOPIC] });
          return now[0]!.partitions.every(
            (p) => p.offset === hw.find((h) => h.partition === p.partition)!.high,
          );
        });
        expect(committed[0]!.partitions).toHaveLength(PARTITIONS);
        expect(countSeen()).toBe(TOTAL);
      } finally {
        for (const m of members) await m.consumer.disconnect();
        await Promise.all([admin.disconnect(), producer.disconnect()]);
      }
    });
  }, 90_000);
});
