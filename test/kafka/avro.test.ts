/**
 * Avro values in the Confluent wire format, writer schemas from a schema registry speaking the
 * Confluent REST API (`GET /schemas/ids/{id}`; a small HTTP server here, since no registry can
 * be installed on the test machines): records land typed, two schema versions in one topic
 * both decode, an unknown schema id or a broken body is a dead letter, and a registry outage
 * pauses the stream instead of dead-lettering good messages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSchema } from '@weir/delta';
import { Ingest } from '@weir/kafka';
import { type Broker, startBroker } from '@weir/kafka-broker';
import { LocalStore } from '@weir/storage';
import avro from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, kafkajs, storedTotal, tableRows, tempDir, waitFor } from './support.js';

const V1 = {
  type: 'record',
  name: 'Payment',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'user', type: ['null', 'string'], default: null },
    { name: 'amount', type: 'double' },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
const V2 = { ...V1, fields: [...V1.fields, { name: 'country', type: 'string', default: 'XX' }] };
const SCHEMAS: Record<number, object> = { 1: V1, 2: V2 };

let broker: Broker;
let registry: Server;
let registryUrl: string;
let outage = 0;
let requests = 0;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  broker = await startBroker({});
  registry = createServer((req, res) => {
    requests++;
    const m = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
    if (outage > 0) {
      outage--;
      res.writeHead(503).end();
      return;
    }
    const schema = m ? SCHEMAS[Number(m[1])] : undefined;
    if (!schema) {
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end('{"error_code":40403,"message":"Schema not found"}');
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' })
      .end(JSON.stringify({ schema: JSON.stringify(schema) }));
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await broker.stop();
  await new Promise((r) => registry.close(r));
  for (const c of cleanups) c();
});

function confluent(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

const table = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'user', type: 'string', nullable: true, metadata: {} },
      { name: 'amount', type: 'double', nullable: false, metadata: {} },
      { name: 'at', type: 'timestamp', nullable: false, metadata: {} },
      { name: 'country', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);

describe('Avro through a schema registry', () => {
  it('decodes two schema versions, dead-letters unknown ids and broken bodies, waits out an outage', async () => {
    const topic = 'payments-avro';
    const kafka = kafkajs(broker);
    await createTopic(kafka, topic, 1);
    const v1 = avro.Type.forSchema(V1 as avro.Schema);
    const v2 = avro.Type.forSchema(V2 as avro.Schema);
    const at = 1_700_000_000_000;
    const values: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const rec = { id: i, user: i % 3 === 0 ? null : `u${i}`, amount: i * 1.25, at: at + i };
      values.push(
        i % 2 === 0 ? confluent(1, v1.toBuffer(rec)) : confluent(2, v2.toBuffer({ ...rec, country: 'DE' })),
      );
    }
    values.push(confluent(77, v1.toBuffer({ id: 900, user: null, amount: 1, at }))); // offset 200: unknown id
    values.push(confluent(1, Buffer.from([0x02]))); // offset 201: truncated body
    values.push(Buffer.from('{"id": 1}')); // offset 202: not the wire format
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: values.map((value) => ({ value })) });
    await producer.disconnect();

    outage = 3; // the first registry requests fail with 503: nothing may be dead-lettered for it
    const t = tempDir('weir-avro-');
    cleanups.push(t.remove);
    const main = new LocalStore(`${t.dir}/table`);
    const dlq = new LocalStore(`${t.dir}/dlq`);
    const ingest = await Ingest.start({
      kafka: { brokers: [broker.bootstrap], sessionTimeoutMs: 6000 },
      topics: [topic],
      groupId: 'avro',
      table: main,
      deadLetter: dlq,
      schema: table,
      format: 'avro',
      schemaRegistry: { url: registryUrl },
      metadataColumns: ['offset'],
      epochMs: 100,
    });
    await waitFor(
      'all 203 messages covered',
      async () => (await storedTotal(main, 'avro', topic)) === 203,
      60_000,
    );
    await ingest.stop();
    expect(outage).toBe(0);
    expect(requests).toBeGreaterThanOrEqual(5); // 3 failures, then ids 1, 2 (and 77) once each

    const rows = (await tableRows(main)).sort((a, b) => Number(a.id) - Number(b.id));
    expect(rows.length).toBe(200);
    expect(rows[0]).toMatchObject({ id: 0, user: null, amount: 0, country: null, kafka_offset: 0 });
    expect(rows[1]).toMatchObject({ id: 1, user: 'u1', amount: 1.25, country: 'DE' });
    expect(Date.parse(rows[5]!.at as string)).toBe(at + 5);
    const dead = (await tableRows(dlq)).sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(dead.map((d) => [d.offset, d.error_code])).toEqual([
      [200, 'SCHEMA_REGISTRY_ERROR'],
      [201, 'INVALID_AVRO'],
      [202, 'INVALID_AVRO'],
    ]);
  });
});
