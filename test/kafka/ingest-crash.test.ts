/**
 * Exactly-once under crashes and scale-out: 1,000,000 messages on 8 partitions, three `weir
 * ingest` processes (the real binary, kafkajs) in one consumer group writing one table, killed
 * with SIGKILL at random moments 10 times in total and restarted each time, while a producer
 * is still sending. In the end the table holds every (partition, offset) exactly once and the
 * dead-letter table is empty. The librdkafka client runs the same scenario at a smaller size
 * when it is installed (CI requires it).
 */
import { LocalStore } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../support/random.js';
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
  loadRdkafka,
  ORDER_SCHEMA,
  order,
  produce,
  storedTotal,
  tableRows,
  useKafkaSuite,
  waitFor,
} from './support.js';

const PARTITIONS = 8;
const suite = useKafkaSuite();

interface Scenario {
  topic: string;
  messages: number;
  processes: number;
  kills: number;
  client: 'kafkajs' | 'librdkafka';
  seed: number;
}

async function runScenario(s: Scenario): Promise<void> {
  const t = { dir: suite.dir('weir-ingest-crash-') };
  const tableDir = `${t.dir}/table`;
  const dlqDir = `${t.dir}/dead-letters`;
  const schemaFile = writeSchemaFile(t.dir, ORDER_SCHEMA);
  const kafka = kafkajs(suite.broker);
  await createTopic(kafka, s.topic, PARTITIONS);
  const group = `crash-${s.topic}`;
  const args = [
    '--brokers',
    suite.broker.bootstrap,
    '--topic',
    s.topic,
    '--table',
    tableDir,
    '--dead-letter',
    dlqDir,
    '--schema',
    schemaFile,
    '--metadata-columns',
    'topic,partition,offset',
    '--group',
    group,
    '--client',
    s.client,
    '--epoch-ms',
    '250',
    '--session-timeout-ms',
    '6000',
    '--heartbeat-interval-ms',
    '500',
  ];
  const rand = seededRandom(s.seed);

  // The producer runs beside the ingest, so kills land while data flows.
  const values = Array.from({ length: s.messages }, (_, i) => JSON.stringify(order(i)));
  const producing = produce(kafka, s.topic, values, { partitions: PARTITIONS, chunk: 5000 });

  const procs: IngestProcess[] = [];
  for (let i = 0; i < s.processes; i++) procs.push(startIngestProcess(args));
  const killed: number[] = [];
  for (let k = 0; k < s.kills; k++) {
    await new Promise((r) => setTimeout(r, 1000 + rand() * 3000));
    const i = Math.floor(rand() * procs.length);
    await kill(procs[i]!);
    killed.push(i);
    procs[i] = startIngestProcess(args);
  }
  await producing;
  const table = new LocalStore(tableDir);
  await waitFor(
    `all ${s.messages} messages stored (kills: ${killed.join(',')})`,
    async () => (await storedTotal(table, group, s.topic)) === s.messages,
    300_000,
    500,
  );
  const exits = await Promise.all(procs.map((p) => stopGracefully(p)));
  for (const [i, e] of exits.entries()) {
    expect(e, `process ${i} exits 0 on SIGTERM; stderr: ${procs[i]!.stderr().slice(-2000)}`).toEqual({
      code: 0,
      signal: null,
    });
  }

  const expected = new Map<number, number>();
  for (let p = 0; p < PARTITIONS; p++)
    expected.set(p, Math.floor(s.messages / PARTITIONS) + (p < s.messages % PARTITIONS ? 1 : 0));
  expect(countProblems(await offsetCounts(table), expected)).toEqual([]);
  const dlq = await tableRows(new LocalStore(dlqDir));
  expect(dlq).toEqual([]);
}

describe('Kafka ingest: SIGKILL crashes and three processes in one group', () => {
  it('kafkajs: 1,000,000 messages, 8 partitions, 3 processes, 10 kills: every message exactly once', async () => {
    await runScenario({
      topic: 'crash-kafkajs',
      messages: 1_000_000,
      processes: 3,
      kills: 10,
      client: 'kafkajs',
      seed: 7,
    });
  }, 600_000);

  const rd = loadRdkafka();
  it.runIf(rd.module !== null)(
    `librdkafka: 200,000 messages, 3 processes, 5 kills: every message exactly once (${rd.reason})`,
    async () => {
      await runScenario({
        topic: 'crash-librdkafka',
        messages: 200_000,
        processes: 3,
        kills: 5,
        client: 'librdkafka',
        seed: 11,
      });
    },
    600_000,
  );
});
