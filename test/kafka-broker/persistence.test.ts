/**
 * File persistence: with a data directory, a broker stopped and started again on the same port
 * keeps its topics, messages and committed group offsets, and a kafkajs consumer group resumes
 * exactly where it committed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBroker } from '@weir/kafka-broker';
import { Partitioners } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kafkajs, testBrokerOptions, waitFor } from './support.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'weir-broker-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('persistence', () => {
  it('keeps topics, messages and committed offsets across a restart', async () => {
    const first = await startBroker(testBrokerOptions({ dataDir: dir }));
    const port = first.port;
    const values: string[] = [];
    try {
      const kafka = kafkajs(first);
      const admin = kafka.admin();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await Promise.all([admin.connect(), producer.connect()]);
      await admin.createTopics({
        topics: [{ topic: 'kept', numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
      });
      for (let i = 0; i < 100; i++) values.push(`v${i}`);
      await producer.send({
        topic: 'kept',
        messages: values.map((value, i) => ({ value, partition: i % 2 })),
      });
      const consumer = kafka.consumer({ groupId: 'keepers', maxWaitTimeInMs: 100, heartbeatInterval: 500 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'kept', fromBeginning: true });
      let n = 0;
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          // Commit only the first 30 records of each partition.
          if (Number(message.offset) < 30) {
            await consumer.commitOffsets([
              { topic: 'kept', partition, offset: String(Number(message.offset) + 1) },
            ]);
          }
          n++;
        },
      });
      await waitFor('100 records', () => n >= 100);
      await consumer.disconnect();
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    } finally {
      await first.stop();
    }

    const second = await startBroker(testBrokerOptions({ dataDir: dir, port }));
    try {
      expect(second.port).toBe(port);
      expect(second.topics.names()).toEqual(['kept']);
      const kafka = kafkajs(second);
      const admin = kafka.admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets('kept');
      expect(offsets.map((o) => o.high).sort()).toEqual(['50', '50']);
      const committed = await admin.fetchOffsets({ groupId: 'keepers', topics: ['kept'] });
      expect(committed[0]!.partitions.map((p) => p.offset)).toEqual(['30', '30']);

      const consumer = kafka.consumer({ groupId: 'keepers', maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'kept', fromBeginning: true });
      const got: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
      await waitFor('the 40 uncommitted records', () => got.length >= 40);
      await new Promise((r) => setTimeout(r, 200));
      expect(got.sort()).toEqual(values.filter((_, i) => Math.floor(i / 2) >= 30).sort());
      // New writes continue the offsets.
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const res = await producer.send({ topic: 'kept', messages: [{ value: 'after', partition: 0 }] });
      expect(res[0]!.baseOffset).toBe('50');
      await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
    } finally {
      await second.stop();
    }
  });

  it('cuts a torn tail left by a crash and keeps the whole batches before it', async () => {
    const { appendFileSync } = await import('node:fs');
    const b1 = await startBroker(testBrokerOptions({ dataDir: dir }));
    try {
      const producer = kafkajs(b1).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      b1.ensureTopic('torn', 1);
      await producer.send({ topic: 'torn', messages: [{ value: 'a' }, { value: 'b' }] });
      await producer.send({ topic: 'torn', messages: [{ value: 'c' }] });
      await producer.disconnect();
    } finally {
      await b1.stop();
    }
    // Half a batch header, as a crash in the middle of a write would leave.
    appendFileSync(path.join(dir, 'topics', 'torn', '0.log'), Buffer.alloc(30, 1));
    const b2 = await startBroker(testBrokerOptions({ dataDir: dir }));
    try {
      expect(b2.highWatermark('torn', 0)).toBe(3);
      const producer = kafkajs(b2).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const r = await producer.send({ topic: 'torn', messages: [{ value: 'd' }] });
      expect(r[0]!.baseOffset).toBe('3');
      await producer.disconnect();
    } finally {
      await b2.stop();
    }
  });
});
