/**
 * Fetch long-polling, seen on the wire: a parked Fetch is answered as soon as any of its
 * partitions gets data (not at its max wait, which is far beyond the test's patience), only
 * once min bytes are there, at max wait with nothing, at once when its topic is deleted, and
 * when the broker stops; a paused partition keeps it parked until resumed. A parked Fetch
 * delays the responses behind it on its own connection (request order) but never another
 * connection. Records are appended by a real kafkajs producer.
 */
import type { Broker } from '@weir/kafka-broker';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fetchRequest, fetchResult, i32, metadata, type Raw, raw, request, str } from './raw-client.js';
import { kafkajs, waitFor, withBroker } from './support.js';

/** Far longer than any wait below: a fetch answered in time was woken, not timed out. */
const LONG_WAIT = 120_000;

async function withProducer<T>(broker: Broker, fn: (p: Producer, kafka: Kafka) => Promise<T>): Promise<T> {
  const kafka = kafkajs(broker);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    return await fn(producer, kafka);
  } finally {
    await producer.disconnect();
  }
}

/** True when no response arrives within `ms` (the fetch is still parked). */
async function stillParked(c: Raw, ms = 400): Promise<boolean> {
  try {
    await c.next(ms);
    return false;
  } catch {
    return true;
  }
}

describe('Fetch long-poll', () => {
  it('a parked fetch wakes when any of its partitions gets data; other connections are not blocked', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('lp', 3);
      const c = await raw(broker.port);
      const other = await raw(broker.port);
      try {
        c.send(
          fetchRequest(
            {
              maxWaitMs: LONG_WAIT,
              partitions: [0, 1, 2].map((partition) => ({ topic: 'lp', partition, offset: 0 })),
            },
            1,
          ),
        );
        await waitFor('the fetch to park', () => broker.waiters.size > 0);
        // Another connection is served while the fetch waits.
        other.send(metadata(2));
        expect(await other.next()).not.toBe('closed');
        await withProducer(broker, (p) =>
          p.send({ topic: 'lp', messages: [{ partition: 2, value: 'wake' }] }),
        );
        const body = await c.next(10_000);
        expect(body).not.toBe('closed');
        expect(c.lastCorrelationId()).toBe(1);
        const parts = fetchResult(body as Buffer);
        expect(parts.map((p) => [p.partition, p.errorCode, p.recordCount, p.highWatermark])).toEqual([
          [0, 0, 0, 0],
          [1, 0, 0, 0],
          [2, 0, 1, 1],
        ]);
        expect(broker.waiters.size).toBe(0);
      } finally {
        c.close();
        other.close();
      }
    });
  });

  it('answers only once min bytes are there, and at max wait when nothing comes', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('mb', 1);
      const c = await raw(broker.port);
      try {
        await withProducer(broker, async (p) => {
          c.send(
            fetchRequest(
              {
                maxWaitMs: LONG_WAIT,
                minBytes: 4000,
                partitions: [{ topic: 'mb', partition: 0, offset: 0 }],
              },
              1,
            ),
          );
          await waitFor('the fetch to park', () => broker.waiters.size > 0);
          await p.send({ topic: 'mb', messages: [{ value: 'small' }] });
          expect(await stillParked(c)).toBe(true);
          await p.send({ topic: 'mb', messages: [{ value: 'x'.repeat(5000) }] });
          const parts = fetchResult((await c.next(10_000)) as Buffer);
          expect(parts[0]!.recordCount).toBe(2);
        });
        // Nothing new past offset 2: answered empty at max wait.
        c.send(fetchRequest({ maxWaitMs: 300, partitions: [{ topic: 'mb', partition: 0, offset: 2 }] }, 2));
        const empty = fetchResult((await c.next(10_000)) as Buffer);
        expect(empty[0]).toMatchObject({ errorCode: 0, recordCount: 0, highWatermark: 2 });
      } finally {
        c.close();
      }
    });
  });

  it('keeps request order on its connection: a request behind a parked fetch is answered after it', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('order', 1);
      const c = await raw(broker.port);
      try {
        c.send(
          fetchRequest(
            { maxWaitMs: LONG_WAIT, partitions: [{ topic: 'order', partition: 0, offset: 0 }] },
            1,
          ),
        );
        c.send(metadata(2));
        await waitFor('the fetch to park', () => broker.waiters.size > 0);
        expect(await stillParked(c)).toBe(true);
        await withProducer(broker, (p) => p.send({ topic: 'order', messages: [{ value: 'go' }] }));
        expect(fetchResult((await c.next(10_000)) as Buffer)[0]!.recordCount).toBe(1);
        expect(c.lastCorrelationId()).toBe(1);
        expect(await c.next()).not.toBe('closed');
        expect(c.lastCorrelationId()).toBe(2);
      } finally {
        c.close();
      }
    });
  });

  it('a paused partition keeps its fetch parked until resumed', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('valve', 1);
      broker.pausePartition('valve', 0);
      const c = await raw(broker.port);
      try {
        c.send(
          fetchRequest(
            { maxWaitMs: LONG_WAIT, partitions: [{ topic: 'valve', partition: 0, offset: 0 }] },
            1,
          ),
        );
        await waitFor('the fetch to park', () => broker.waiters.size > 0);
        await withProducer(broker, (p) => p.send({ topic: 'valve', messages: [{ value: 'held' }] }));
        expect(await stillParked(c)).toBe(true);
        broker.resumePartition('valve', 0);
        expect(fetchResult((await c.next(10_000)) as Buffer)[0]!.recordCount).toBe(1);
      } finally {
        c.close();
      }
    });
  });

  it('a parked fetch is answered when its topic is deleted, and when the broker stops', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('doomed', 1);
      broker.ensureTopic('last', 1);
      const a = await raw(broker.port);
      const b = await raw(broker.port);
      try {
        a.send(
          fetchRequest(
            { maxWaitMs: LONG_WAIT, partitions: [{ topic: 'doomed', partition: 0, offset: 0 }] },
            1,
          ),
        );
        b.send(
          fetchRequest({ maxWaitMs: LONG_WAIT, partitions: [{ topic: 'last', partition: 0, offset: 0 }] }, 1),
        );
        await waitFor('both fetches to park', () => broker.waiters.size === 2);
        const admin = kafkajs(broker).admin();
        await admin.connect();
        await admin.deleteTopics({ topics: ['doomed'] });
        await admin.disconnect();
        expect(fetchResult((await a.next(10_000)) as Buffer)[0]!.errorCode).toBe(3); // UNKNOWN_TOPIC_OR_PARTITION
        const stopped = broker.stop();
        // Answered (empty) or closed with the broker: never left hanging.
        const last = await b.next(10_000);
        if (last !== 'closed') expect(fetchResult(last)[0]!.recordCount).toBe(0);
        await stopped;
        expect(broker.waiters.size).toBe(0);
      } finally {
        a.close();
        b.close();
      }
    });
  });

  it('kafkajs: a consumer whose fetches wait 30 s gets each record without waiting for them', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('quiet-js', 2);
      const kafka = kafkajs(broker);
      const consumer = kafka.consumer({
        groupId: 'quiet-js',
        maxWaitTimeInMs: 30_000,
        heartbeatInterval: 500,
      });
      const got: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: 'quiet-js', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!.toString()) });
      await withProducer(broker, async (p) => {
        try {
          for (let i = 0; i < 3; i++) {
            await waitFor('a parked fetch', () => broker.waiters.size > 0, 20_000);
            await p.send({ topic: 'quiet-js', messages: [{ partition: i % 2, value: `ping-${i}` }] });
            // Well inside the fetch's 30 s max wait: only a wake-up can deliver it in time.
            await waitFor(`ping-${i}`, () => got.includes(`ping-${i}`), 10_000);
          }
          expect(got).toEqual(['ping-0', 'ping-1', 'ping-2']);
        } finally {
          // kafkajs waits for its parked fetch before leaving: wake it.
          const leaving = consumer.disconnect();
          await waitFor('a parked fetch', () => broker.waiters.size > 0, 20_000).catch(() => {});
          await p.send({ topic: 'quiet-js', messages: [{ value: 'bye' }] });
          await leaving;
        }
      });
    });
  });

  it('a JoinGroup parked in a rebalance delays only its own connection', async () => {
    // The initial rebalance delay parks the first JoinGroup of a new group for a minute.
    await withBroker({ groupInitialRebalanceDelayMs: 60_000 }, async (broker) => {
      const joiner = await raw(broker.port);
      const other = await raw(broker.port);
      try {
        // JoinGroup v0: group, session timeout, member id, protocol type, [name, metadata].
        const join = Buffer.concat([
          str('slow-group'),
          i32(30_000),
          str(''),
          str('consumer'),
          i32(1),
          str('range'),
          i32(0),
        ]);
        joiner.send(request(11, 0, 1, join));
        joiner.send(metadata(2));
        expect(await stillParked(joiner)).toBe(true);
        for (let i = 0; i < 3; i++) {
          other.send(metadata(10 + i));
          expect(await other.next()).not.toBe('closed');
          expect(other.lastCorrelationId()).toBe(10 + i);
        }
        // Stopping answers the parked join (NOT_COORDINATOR) or closes: it never hangs.
        await broker.stop();
        const answer = await joiner.next(10_000);
        if (answer !== 'closed') expect(answer.readInt16BE(0)).toBe(16);
      } finally {
        joiner.close();
        other.close();
      }
    });
  });
});
