/**
 * Poison messages never stop a partition: a stream with 1% bad messages (malformed JSON, wrong
 * types, missing required fields, oversized values, invalid UTF-8, non-object JSON, tombstones)
 * goes through `weir ingest` (the real binary), which is SIGKILLed twice mid-stream and
 * restarted. Each bad message lands in the dead-letter table exactly once with its raw bytes
 * and the error that refused it, every good message lands in the main table exactly once, and
 * the service keeps running until it is asked to stop.
 */
import { LocalStore } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import {
  countProblems,
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
  storedTotal,
  tableRows,
  useKafkaSuite,
  waitFor,
} from './support.js';

const suite = useKafkaSuite();

const PARTITIONS = 4;
const MESSAGES = 100_000;
const MAX_BYTES = 4096;

type Kind =
  | 'malformed'
  | 'wrong-type'
  | 'missing-field'
  | 'oversized'
  | 'invalid-utf8'
  | 'not-object'
  | 'tombstone';
const KINDS: Kind[] = [
  'malformed',
  'wrong-type',
  'missing-field',
  'oversized',
  'invalid-utf8',
  'not-object',
  'tombstone',
];
const EXPECTED_CODE: Record<Kind, string> = {
  malformed: 'INVALID_JSON',
  'wrong-type': 'INVALID_RECORD',
  'missing-field': 'INVALID_RECORD',
  oversized: 'MESSAGE_TOO_LARGE',
  'invalid-utf8': 'INVALID_UTF8',
  'not-object': 'NOT_AN_OBJECT',
  tombstone: 'MESSAGE_NULL_VALUE',
};

function badValue(kind: Kind, i: number): Buffer | null {
  switch (kind) {
    case 'malformed':
      return Buffer.from(`{"id": ${i}, "user": "u`);
    case 'wrong-type':
      return Buffer.from(JSON.stringify({ ...order(i), id: `not-a-number-${i}` }));
    case 'missing-field': {
      const { id: _, ...rest } = order(i);
      return Buffer.from(JSON.stringify(rest));
    }
    case 'oversized':
      return Buffer.from(JSON.stringify({ ...order(i), user: 'x'.repeat(MAX_BYTES) }));
    case 'invalid-utf8':
      return Buffer.concat([
        Buffer.from(`{"id": ${i}, "user": "`),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('"}'),
      ]);
    case 'not-object':
      return Buffer.from(`[${i}]`);
    case 'tombstone':
      return null;
  }
}

const rd = loadRdkafka();
const clients: ('kafkajs' | 'librdkafka')[] = rd.module ? ['kafkajs', 'librdkafka'] : ['kafkajs'];

describe.each(clients)('dead letters (%s)', (client) => {
  it('1% bad messages: each in the dead-letter table once with its error, good ones once, the stream goes on', async () => {
    const t = { dir: suite.dir('weir-dlq-') };
    const topic = `poison-${client}`;
    const group = `dlq-${client}`;
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, PARTITIONS);
    // Message i goes to partition i % 4 at offset floor(i / 4); every 100th is bad.
    const bad = new Map<string, { kind: Kind; value: Buffer | null }>();
    const producer = kafka.producer();
    await producer.connect();
    const sendRange = async (from: number, to: number) => {
      for (let start = from; start < to; start += 4000) {
        const messages = [];
        for (let i = start; i < Math.min(to, start + 4000); i++) {
          const partition = i % PARTITIONS;
          const offset = Math.floor(i / PARTITIONS);
          let value: Buffer | null;
          if (i % 100 === 37) {
            const kind = KINDS[((i / 100) % KINDS.length) | 0]!;
            value = badValue(kind, i);
            bad.set(`${partition}/${offset}`, { kind, value });
          } else value = Buffer.from(JSON.stringify(order(i)));
          messages.push({ partition, value });
        }
        await producer.send({ topic, acks: 1, messages });
      }
    };
    await sendRange(0, MESSAGES / 2);

    const tableDir = `${t.dir}/table`;
    const dlqDir = `${t.dir}/dlq`;
    const args = [
      '--brokers',
      suite.broker.bootstrap,
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
      group,
      '--client',
      client,
      '--max-message-bytes',
      String(MAX_BYTES),
      '--unknown-fields',
      'reject',
      '--epoch-ms',
      '200',
      '--session-timeout-ms',
      '6000',
      '--heartbeat-interval-ms',
      '500',
    ];
    let proc = startIngestProcess(args);
    const table = new LocalStore(tableDir);
    await waitFor('some progress', async () => (await storedTotal(table, group, topic)) > 5000, 60_000, 100);
    await kill(proc);
    proc = startIngestProcess(args);
    await sendRange(MESSAGES / 2, MESSAGES);
    await waitFor(
      'more progress',
      async () => (await storedTotal(table, group, topic)) > MESSAGES * 0.7,
      60_000,
      100,
    );
    await kill(proc);
    proc = startIngestProcess(args);
    await producer.disconnect();
    await waitFor(
      'every message stored',
      async () => (await storedTotal(table, group, topic)) === MESSAGES,
      120_000,
      200,
    );
    expect(proc.child.exitCode).toBe(null); // still running: poison never stopped it
    expect(await stopGracefully(proc)).toEqual({ code: 0, signal: null });

    // Main table: every good message once, no bad one.
    const counts = await offsetCounts(table);
    for (const key of bad.keys()) {
      const [p, o] = key.split('/').map(Number) as [number, number];
      expect(counts.get(p)?.get(o), `bad message ${key} must not be in the main table`).toBeUndefined();
      if (!counts.has(p)) counts.set(p, new Map());
      counts.get(p)!.set(o, 1); // count it as present for the exactly-once check below
    }
    const perPartition = new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, MESSAGES / PARTITIONS]));
    expect(countProblems(counts, perPartition)).toEqual([]);

    // Dead-letter table: every bad message exactly once, with its error and raw bytes.
    const dead = await tableRows(new LocalStore(dlqDir));
    expect(dead.length).toBe(bad.size);
    const seen = new Set<string>();
    for (const row of dead) {
      const key = `${row.partition}/${row.offset}`;
      expect(seen.has(key), `dead letter ${key} twice`).toBe(false);
      seen.add(key);
      const expected = bad.get(key);
      expect(expected, `dead letter ${key} was a good message`).toBeDefined();
      expect(row.topic).toBe(topic);
      expect(row.error_code).toBe(EXPECTED_CODE[expected!.kind]);
      expect(String(row.error)).toContain(`${topic}/${row.partition}@${row.offset}`);
      const raw = row.value_base64 === null ? null : Buffer.from(row.value_base64 as string, 'base64');
      expect(raw === null ? null : raw.equals(expected!.value!)).toBe(expected!.value === null ? null : true);
    }
  }, 300_000);
});
