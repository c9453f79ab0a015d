/**
 * `weir ingest` into s3:// tables on a real S3 server (radosgw): two ingest processes (the real
 * binary) in one group write one main table and one dead-letter table in a bucket, one is
 * SIGKILLed and restarted mid-stream, and every message lands exactly once (bad ones as dead
 * letters) — the same guarantees as on local disk, through conditional-create commits.
 */

import { describeS3, useRgwBucket } from '@weir/storage-s3/testing';
import { expect, it } from 'vitest';
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
  ORDER_SCHEMA,
  order,
  produce,
  storedTotal,
  tableRows,
  useKafkaSuite,
  waitFor,
} from './support.js';

describeS3('weir ingest on s3:// tables', () => {
  const rgw = useRgwBucket();
  const suite = useKafkaSuite();

  it('two processes, a SIGKILL, dead letters: exactly once on S3', async () => {
    const topic = 'orders-s3';
    const kafka = kafkajs(suite.broker);
    await createTopic(kafka, topic, 4);
    const values = Array.from({ length: 40_000 }, (_, i) =>
      i % 1000 === 500 ? '{"id": "bad"' : JSON.stringify(order(i)),
    );
    const producing = produce(kafka, topic, values, { partitions: 4, chunk: 2000 });
    const c = rgw.connection;
    const env = {
      AWS_ENDPOINT_URL: c.endpoint,
      AWS_ACCESS_KEY_ID: c.accessKeyId,
      AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
      AWS_REGION: c.region,
    };
    const args = [
      '--s3-path-style',
      '--brokers',
      suite.broker.bootstrap,
      '--topic',
      topic,
      '--table',
      `s3://${rgw.bucket}/lake/orders`,
      '--dead-letter',
      `s3://${rgw.bucket}/lake/orders_dead_letters`,
      '--schema',
      writeSchemaFile(suite.dir('weir-ingest-s3-'), ORDER_SCHEMA),
      '--metadata-columns',
      'partition,offset',
      '--group',
      's3-group',
      '--session-timeout-ms',
      '6000',
      '--heartbeat-interval-ms',
      '500',
    ];
    const a = startIngestProcess(args, env);
    let b = startIngestProcess(args, env);
    const main = rgw.store('lake/orders');
    const dlq = rgw.store('lake/orders_dead_letters');
    await waitFor(
      'some rows on S3',
      async () => (await storedTotal(main, 's3-group', topic)) > 5000,
      120_000,
      250,
    );
    await kill(b);
    b = startIngestProcess(args, env);
    await producing;
    await waitFor(
      'every message on S3',
      async () => (await storedTotal(main, 's3-group', topic)) === 40_000,
      180_000,
      500,
    );
    expect(await stopGracefully(a)).toEqual({ code: 0, signal: null });
    expect(await stopGracefully(b)).toEqual({ code: 0, signal: null });

    const dead = await tableRows(dlq);
    expect(dead.length).toBe(40);
    const counts = await offsetCounts(main);
    for (const d of dead) {
      const p = Number(d.partition);
      if (!counts.has(p)) counts.set(p, new Map());
      expect(counts.get(p)!.has(Number(d.offset))).toBe(false);
      counts.get(p)!.set(Number(d.offset), 1);
    }
    expect(
      countProblems(
        counts,
        new Map([
          [0, 10_000],
          [1, 10_000],
          [2, 10_000],
          [3, 10_000],
        ]),
      ),
    ).toEqual([]);
  }, 300_000);
});
