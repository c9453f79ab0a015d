/**
 * librdkafka consumer groups (@confluentinc/kafka-javascript, KafkaJS-compatible API) under
 * churn: three members joining and leaving while a producer keeps writing, and a full broker
 * stop and start on the same port with a data directory under a live group. The group settles
 * with every partition owned by exactly one member and no record is lost.
 *
 * Runs when the optional native client loads (CI sets WEIR_REQUIRE_LIBRDKAFKA=1, so a failed
 * build fails here instead of skipping).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Broker, startBroker } from '@weir/kafka-broker';
import { type Admin, AssignerProtocol } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  kafkajs,
  loadRdkafka,
  type RdKafkaModule,
  testBrokerOptions,
  waitFor,
  withBroker,
} from './support.js';

const rd = loadRdkafka();

// biome-ignore lint/suspicious/noExplicitAny: the optional native client has no types we can import statically
type Rd = any;

function rdKafka(bootstrap: string): Rd {
  const { Kafka, logLevel } = (rd.module as RdKafkaModule).KafkaJS;
  return new Kafka({ kafkaJS: { brokers: [bootstrap], logLevel: logLevel.NOTHING } });
}

async function rdMember(kafka: Rd, groupId: string, topic: string, add: (v: string) => void): Promise<Rd> {
  const consumer = kafka.consumer({
    kafkaJS: { groupId, fromBeginning: true, autoCommit: true, autoCommitInterval: 100 },
    'session.timeout.ms': 6000,
    'heartbeat.interval.ms': 200,
    'fetch.wait.max.ms': 100,
    'reconnect.backoff.max.ms': 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachMessage: async ({ message }: { message: { value: Buffer } }) => add(message.value.toString()),
  });
  return consumer;
}

async function rdProduce(kafka: Rd, topic: string, values: string[], partitions: number): Promise<void> {
  const producer = kafka.producer({ 'linger.ms': 2 });
  await producer.connect();
  try {
    for (let i = 0; i < values.length; i += 1000) {
      await producer.send({
        topic,
        messages: values.slice(i, i + 1000).map((value, j) => ({ partition: (i + j) % partitions, value })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

async function settled(admin: Admin, groupId: string, topic: string, members: number, partitions: number) {
  let last: unknown;
  try {
    await waitFor(
      `group ${groupId} stable with ${members} members owning ${partitions} partitions`,
      async () => {
        const g = (await admin.describeGroups([groupId])).groups[0]!;
        const owners = g.members.map((m) =>
          m.memberAssignment.length === 0
            ? []
            : [...(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? [])],
        );
        last = { state: g.state, owners };
        const all = owners.flat().sort((a, b) => a - b);
        return (
          g.state === 'Stable' &&
          owners.length === members &&
          owners.every((o) => o.length > 0) &&
          all.length === partitions &&
          all.every((p, i) => p === i)
        );
      },
      45_000,
      100,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen ${JSON.stringify(last)}`);
  }
}

const range = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

describe.skipIf(rd.module === null)(`librdkafka consumer groups under churn (${rd.reason})`, () => {
  it('three members join and leave mid-stream; partitions move, no record is lost', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('rd-churn', 6);
      const kafka = rdKafka(broker.bootstrap);
      const admin = kafkajs(broker).admin();
      await admin.connect();
      const seen = new Map<string, number>();
      const add = (v: string) => void seen.set(v, (seen.get(v) ?? 0) + 1);
      const members: Rd[] = [];
      const all: string[] = [];
      const produce = async (tag: string) => {
        const values = range(tag, 2000);
        all.push(...values);
        await rdProduce(kafka, 'rd-churn', values, 6);
      };
      try {
        await produce('a');
        members.push(await rdMember(kafka, 'rd-churners', 'rd-churn', add));
        await settled(admin, 'rd-churners', 'rd-churn', 1, 6);
        members.push(await rdMember(kafka, 'rd-churners', 'rd-churn', add));
        await produce('b');
        await settled(admin, 'rd-churners', 'rd-churn', 2, 6);
        members.push(await rdMember(kafka, 'rd-churners', 'rd-churn', add));
        await produce('c');
        await settled(admin, 'rd-churners', 'rd-churn', 3, 6);
        await members.shift().disconnect();
        await produce('d');
        await settled(admin, 'rd-churners', 'rd-churn', 2, 6);
        await members.shift().disconnect();
        await produce('e');
        await settled(admin, 'rd-churners', 'rd-churn', 1, 6);
        await waitFor(`all ${all.length} records`, () => all.every((v) => seen.has(v)), 45_000);
        expect(seen.size).toBe(all.length);
      } finally {
        for (const m of members) await m.disconnect();
        await admin.disconnect();
      }
    });
  }, 180_000);

  it('the broker stops and starts on the same port with a data directory under a live librdkafka group', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'weir-broker-rd-'));
    let broker: Broker = await startBroker(testBrokerOptions({ dataDir: dir }));
    const port = broker.port;
    const kafka = rdKafka(broker.bootstrap);
    const seen = new Map<string, number>();
    const add = (v: string) => void seen.set(v, (seen.get(v) ?? 0) + 1);
    const members: Rd[] = [];
    try {
      broker.ensureTopic('rd-durable', 4);
      members.push(await rdMember(kafka, 'rd-durables', 'rd-durable', add));
      const before = range('before', 3000);
      await rdProduce(kafka, 'rd-durable', before, 4);
      await waitFor('the first 3000', () => before.every((v) => seen.has(v)), 30_000);
      const admin = kafkajs(broker).admin();
      await admin.connect();
      await waitFor('commits at the high watermarks', async () => {
        const c = await admin.fetchOffsets({ groupId: 'rd-durables', topics: ['rd-durable'] });
        return c[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0) === before.length;
      });
      await admin.disconnect();

      await broker.stop();
      broker = await startBroker(testBrokerOptions({ dataDir: dir, port }));
      const after = range('after', 3000);
      await rdProduce(kafka, 'rd-durable', after, 4);
      await waitFor('the next 3000, after the restart', () => after.every((v) => seen.has(v)), 60_000);
      expect(seen.size).toBe(6000);
      // Records committed before the stop are not delivered again after it.
      for (const [v, n] of seen) if (n > 1) expect(v.startsWith('after-'), v).toBe(true);
    } finally {
      for (const m of members) await m.disconnect();
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
