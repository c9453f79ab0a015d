/**
 * Volume: 1,000,000 records across 8 partitions, produced and consumed with kafkajs 2.2.4
 * (eachBatch, large fetches), every record delivered exactly once and in offset order per
 * partition.
 */
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajs, withBroker, within } from './support.js';

const TOTAL = 1_000_000;
const PARTITIONS = 8;
const PER_SEND = 1000; // kafkajs groups messages per partition in O(n^2): keep sends small
const IN_FLIGHT = 16;

describe('kafkajs volume', () => {
  it('delivers 1,000,000 records across 8 partitions exactly once', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const admin = kafka.admin();
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await Promise.all([admin.connect(), producer.connect()]);
      const consumer = kafka.consumer({
        groupId: 'million',
        maxBytesPerPartition: 4 * 1024 * 1024,
        maxBytes: 32 * 1024 * 1024,
        maxWaitTimeInMs: 100,
      });
      try {
        await admin.createTopics({ topics: [{ topic: 'million', numPartitions: PARTITIONS }] });
        const started = Date.now();
        const inFlight: Promise<unknown>[] = [];
        for (let i = 0; i < TOTAL; i += PER_SEND) {
          const messages = [];
          for (let j = i; j < i + PER_SEND; j++)
            messages.push({ partition: j % PARTITIONS, value: String(j) });
          inFlight.push(producer.send({ topic: 'million', acks: 1, messages }));
          if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
        }
        await Promise.all(inFlight);
        const producedMs = Date.now() - started;
        const offsets = await admin.fetchTopicOffsets('million');
        expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(TOTAL);

        const seen = new Uint8Array(TOTAL);
        const lastOffset = new Array<number>(PARTITIONS).fill(-1);
        let delivered = 0;
        let duplicates = 0;
        let outOfOrder = 0;
        await consumer.connect();
        await consumer.subscribe({ topic: 'million', fromBeginning: true });
        const consumed = new Promise<void>((resolve) => {
          void consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch, resolveOffset }) => {
              for (const m of batch.messages) {
                const id = Number(m.value!.toString());
                if (seen[id] === 1) duplicates++;
                seen[id] = 1;
                const off = Number(m.offset);
                if (off !== lastOffset[batch.partition]! + 1) outOfOrder++;
                lastOffset[batch.partition] = off;
                delivered++;
              }
              resolveOffset(batch.lastOffset());
              if (delivered >= TOTAL) resolve();
            },
          });
        });
        await within('1,000,000 records consumed', consumed, 90_000);
        const consumedMs = Date.now() - started - producedMs;
        expect(delivered).toBe(TOTAL);
        expect(duplicates).toBe(0);
        expect(outOfOrder).toBe(0);
        expect(seen.every((v) => v === 1)).toBe(true);
        expect(lastOffset).toEqual(new Array(PARTITIONS).fill(TOTAL / PARTITIONS - 1));
        process.stderr.write(
          `[kafka-broker] 1M records: produced in ${producedMs} ms, consumed in ${consumedMs} ms\n`,
        );
      } finally {
        await consumer.disconnect();
        await Promise.all([admin.disconnect(), producer.disconnect()]);
      }
    });
  }, 150_000);
});
