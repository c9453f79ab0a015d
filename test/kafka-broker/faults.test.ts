/**
 * Fault hooks, exercised with real kafkajs clients: dropping every connection mid-stream,
 * pausing and resuming one partition's fetches, added latency, and a restart on the same port
 * (members forgotten, data and offsets kept). Clients recover and no record is lost.
 */
import { type Kafka, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajs, waitFor, withBroker } from './support.js';

const CONSUMER = {
  sessionTimeout: 10_000,
  rebalanceTimeout: 10_000,
  heartbeatInterval: 300,
  maxWaitTimeInMs: 100,
};

async function consumeAll(kafka: Kafka, groupId: string, topic: string, seen: Set<string>) {
  const consumer = kafka.consumer({ groupId, ...CONSUMER });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
  return consumer;
}

describe('fault hooks', () => {
  it('clients recover when every connection is closed mid-stream', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      broker.ensureTopic('bumpy', 3);
      const seen = new Set<string>();
      const consumer = await consumeAll(kafka, 'bumpy-readers', 'bumpy', seen);
      try {
        let sent = 0;
        for (let round = 0; round < 6; round++) {
          await producer.send({
            topic: 'bumpy',
            messages: Array.from({ length: 200 }, () => ({ value: String(sent++) })),
          });
          if (round % 2 === 1) broker.closeAllConnections();
        }
        await waitFor('every record after reconnects', () => seen.size === sent, 30_000);
        expect(broker.stats.connectionsOpened).toBeGreaterThan(3);
      } finally {
        await Promise.all([producer.disconnect(), consumer.disconnect()]);
      }
    });
  });

  it('pauses and resumes one partition', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      broker.ensureTopic('valves', 2);
      broker.pausePartition('valves', 1);
      const seen = new Set<string>();
      const consumer = await consumeAll(kafka, 'valve-readers', 'valves', seen);
      try {
        await producer.send({
          topic: 'valves',
          messages: [
            { partition: 0, value: 'p0-a' },
            { partition: 1, value: 'p1-a' },
          ],
        });
        await waitFor('partition 0', () => seen.has('p0-a'));
        await new Promise((r) => setTimeout(r, 300));
        expect(seen.has('p1-a')).toBe(false);
        broker.resumePartition('valves', 1);
        await waitFor('partition 1 after resume', () => seen.has('p1-a'), 5000);
      } finally {
        await Promise.all([producer.disconnect(), consumer.disconnect()]);
      }
    });
  });

  it('adds latency to every request', async () => {
    await withBroker({}, async (broker) => {
      const producer = kafkajs(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        broker.ensureTopic('slow', 1);
        await producer.send({ topic: 'slow', messages: [{ value: 'warm' }] });
        broker.setLatency(250);
        const t = Date.now();
        await producer.send({ topic: 'slow', messages: [{ value: 'x' }] });
        expect(Date.now() - t).toBeGreaterThanOrEqual(240);
        broker.setLatency(0);
        await producer.send({ topic: 'slow', messages: [{ value: 'y' }] });
        expect(broker.highWatermark('slow', 0)).toBe(3);
      } finally {
        await producer.disconnect();
      }
    });
  });

  it('restarts on the same port: clients reconnect, data and offsets are kept', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const admin = kafka.admin();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await Promise.all([admin.connect(), producer.connect()]);
      broker.ensureTopic('phoenix', 2);
      const seen = new Set<string>();
      const consumer = await consumeAll(kafka, 'phoenix-readers', 'phoenix', seen);
      try {
        await producer.send({
          topic: 'phoenix',
          messages: Array.from({ length: 50 }, (_, i) => ({ value: `a${i}` })),
        });
        await waitFor('first 50', () => seen.size === 50);
        const port = broker.port;
        await broker.restart({ downtimeMs: 300 });
        expect(broker.port).toBe(port);
        await producer.send({
          topic: 'phoenix',
          messages: Array.from({ length: 50 }, (_, i) => ({ value: `b${i}` })),
        });
        await waitFor('all 100 after the restart', () => seen.size === 100, 30_000);
        const offsets = await admin.fetchTopicOffsets('phoenix');
        expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(100);
      } finally {
        await Promise.all([producer.disconnect(), consumer.disconnect(), admin.disconnect()]);
      }
    });
  });
});
