/**
 * Rebalance storms and a broker restart mid-stream: while a producer sends, `weir ingest`
 * processes (the real binary) join and leave one consumer group every couple of seconds — new
 * members start, members stop gracefully, members are SIGKILLed — and halfway through the broker
 * itself is stopped and started again on the same port (file persistence on). Exactly-once must
 * hold: every (partition, offset) once in the table, the dead-letter table empty.
 */
import { type Broker, startBroker } from '@weir/kafka-broker';
import { LocalStore } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import {
  countProblems,
  type IngestProcess,
  kill,
  offsetCounts,
  startIngestProcess,
  stopGracefully,
  writeSchemaFile,
} from './ingest-processes.js';
import {
  createTopic,
  kafkajs,
  ORDER_SCHEMA,
  order,
  storedTotal,
  tableRows,
  tempDir,
  waitFor,
} from './support.js';

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
});

const PARTITIONS = 8;
const MESSAGES = 300_000;

describe('Kafka ingest: rebalance storms and a broker restart', () => {
  it('members joining and leaving every few seconds and a broker restart keep exactly-once', async () => {
    const t = tempDir('weir-rebalance-');
    cleanups.push(t.remove);
    let broker: Broker = await startBroker({ dataDir: `${t.dir}/broker` });
    const port = Number(broker.bootstrap.split(':')[1]);
    const bootstrap = broker.bootstrap;
    try {
      const kafka = kafkajs(bootstrap, { retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 2000 } });
      const topic = 'storm';
      await createTopic(kafka, topic, PARTITIONS);
      const tableDir = `${t.dir}/table`;
      const dlqDir = `${t.dir}/dlq`;
      const args = [
        '--brokers',
        bootstrap,
        '--topic',
        topic,
        '--table',
        tableDir,
        '--dead-letter',
        dlqDir,
        '--schema',
        writeSchemaFile(t.dir, ORDER_SCHEMA),
        '--metadata-columns',
        'partition,offset',
        '--group',
        'storm',
        '--epoch-ms',
        '250',
        '--session-timeout-ms',
        '6000',
        '--heartbeat-interval-ms',
        '500',
      ];

      // A paced producer: ~20 s of sending, so the storm happens while data flows.
      let produced = 0;
      const producing = (async () => {
        const producer = kafka.producer();
        await producer.connect();
        for (let i = 0; i < MESSAGES; i += 3000) {
          const messages = Array.from({ length: Math.min(3000, MESSAGES - i) }, (_, j) => ({
            partition: (i + j) % PARTITIONS,
            value: JSON.stringify(order(i + j)),
          }));
          await producer.send({ topic, acks: -1, messages });
          produced += messages.length;
          await new Promise((r) => setTimeout(r, 200));
        }
        await producer.disconnect();
      })();

      const everyone: IngestProcess[] = [];
      const start = () => {
        const p = startIngestProcess(args);
        everyone.push(p);
        return p;
      };
      const members: IngestProcess[] = [start(), start()];
      const actions: string[] = [];
      for (let step = 0; step < 12; step++) {
        await new Promise((r) => setTimeout(r, 1500 + ((step * 7919) % 1500)));
        if (step === 6) {
          await broker.stop();
          await new Promise((r) => setTimeout(r, 1500));
          broker = await startBroker({ port, dataDir: `${t.dir}/broker` });
          actions.push('broker-restart');
          continue;
        }
        const choice = step % 3;
        if (choice === 0 || members.length < 2) {
          members.push(start());
          actions.push('join');
        } else if (choice === 1) {
          const leaving = members.splice(step % members.length, 1)[0]!;
          const exit = await stopGracefully(leaving);
          expect(exit, `a leaving member exits 0: ${leaving.stderr().slice(-1000)}`).toEqual({
            code: 0,
            signal: null,
          });
          actions.push('leave');
        } else {
          const victim = members.splice(step % members.length, 1)[0]!;
          await kill(victim);
          actions.push('kill');
        }
      }
      await producing;
      expect(produced).toBe(MESSAGES);
      const table = new LocalStore(tableDir);
      await waitFor(
        `every message stored (${actions.join(', ')})`,
        async () => (await storedTotal(table, 'storm', topic)) === MESSAGES,
        240_000,
        500,
      );
      for (const m of members) expect(await stopGracefully(m)).toEqual({ code: 0, signal: null });

      const expected = new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, MESSAGES / PARTITIONS]));
      expect(countProblems(await offsetCounts(table), expected)).toEqual([]);
      expect(await tableRows(new LocalStore(dlqDir))).toEqual([]);
      const tally: Record<string, number> = {};
      for (const p of everyone)
        for (const e of p.events) {
          const key = e.event === 'recovering' ? `recovering:${String(e.code)}` : String(e.event);
          tally[key] = (tally[key] ?? 0) + 1;
        }
      console.log(JSON.stringify({ rebalanceStorm: { actions, processes: everyone.length, events: tally } }));
    } finally {
      await broker.stop();
    }
  }, 480_000);
});
