/**
 * kafkajs 2.2.4 producer against the broker: acks 0, 1 and all; the idempotent producer
 * (InitProducerId, sequence numbers kept in the stored batches); gzip batches stored verbatim
 * and read back intact by a consumer.
 */
import { CompressionTypes, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajs, waitFor, withBroker, within } from './support.js';

describe('kafkajs producer', () => {
  it('appends with acks 1, all and 0, with consecutive offsets', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        broker.ensureTopic('acks', 1);
        const one = await producer.send({
          topic: 'acks',
          acks: 1,
          messages: [{ value: 'a' }, { value: 'b' }],
        });
        expect(one).toEqual([
          expect.objectContaining({ topicName: 'acks', partition: 0, errorCode: 0, baseOffset: '0' }),
        ]);
        const all = await producer.send({ topic: 'acks', acks: -1, messages: [{ value: 'c' }] });
        expect(all[0]).toMatchObject({ errorCode: 0, baseOffset: '2' });
        await producer.send({ topic: 'acks', acks: 0, messages: [{ value: 'd' }, { value: 'e' }] });
        await waitFor('the acks=0 records', () => broker.highWatermark('acks', 0) === 5, 5000);
        const after = await producer.send({ topic: 'acks', acks: 1, messages: [{ value: 'f' }] });
        expect(after[0]).toMatchObject({ baseOffset: '5' });
      } finally {
        await producer.disconnect();
      }
    });
  });

  it('runs an idempotent producer: producer id, epoch and sequences in the stored batches', async () => {
    await withBroker({}, async (broker) => {
      const producer = kafkajs(broker).producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      try {
        broker.ensureTopic('idem', 1);
        for (let i = 0; i < 3; i++) {
          const r = await producer.send({
            topic: 'idem',
            acks: -1,
            messages: Array.from({ length: 4 }, (_, j) => ({ value: `${i}-${j}` })),
          });
          expect(r[0]).toMatchObject({ errorCode: 0, baseOffset: String(i * 4) });
        }
        const batches = broker.topics.partition('idem', 0)!.liveBatches();
        expect(batches).toHaveLength(3);
        const sequences = batches.map((b) => b.buf.readInt32BE(53));
        expect(sequences).toEqual([0, 4, 8]);
        const producerIds = new Set(batches.map((b) => b.buf.readBigInt64BE(43)));
        expect(producerIds.size).toBe(1);
        expect([...producerIds][0]! >= 0n).toBe(true);
      } finally {
        await producer.disconnect();
      }
    });
  });

  it('stores gzip batches verbatim and a consumer reads them back', async () => {
    await withBroker({}, async (broker) => {
      const kafka = kafkajs(broker);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      const consumer = kafka.consumer({ groupId: 'gzip-readers', maxWaitTimeInMs: 100 });
      await Promise.all([producer.connect(), consumer.connect()]);
      try {
        broker.ensureTopic('zipped', 2);
        const values = Array.from({ length: 500 }, (_, i) =>
          JSON.stringify({ id: i, text: 'x'.repeat(i % 50) }),
        );
        await producer.send({
          topic: 'zipped',
          compression: CompressionTypes.GZIP,
          messages: values.map((value, i) => ({ key: String(i), value, headers: { n: String(i) } })),
        });
        const stored = broker.topics.get('zipped')!.partitions.flatMap((p) => p.liveBatches());
        expect(stored.length).toBeGreaterThan(0);
        expect(stored.every((b) => (b.buf.readInt16BE(21) & 7) === 1)).toBe(true);

        const got = new Map<string, string>();
        await consumer.subscribe({ topic: 'zipped', fromBeginning: true });
        const done = new Promise<void>((resolve) => {
          void consumer.run({
            eachMessage: async ({ message }) => {
              got.set(
                message.key!.toString(),
                `${message.value!.toString()}|${message.headers!.n!.toString()}`,
              );
              if (got.size === values.length) resolve();
            },
          });
        });
        await within('all gzip records consumed', done, 20_000);
        for (let i = 0; i < values.length; i++) expect(got.get(String(i))).toBe(`${values[i]}|${i}`);
      } finally {
        await Promise.all([producer.disconnect(), consumer.disconnect()]);
      }
    });
  });
});
