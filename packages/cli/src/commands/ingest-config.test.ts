import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveIngestSettings } from './ingest-config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function config(content: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-ingest-config-'));
  dirs.push(dir);
  const file = path.join(dir, 'ingest.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const base = { brokers: 'a:9092,b:9092', topic: ['orders'], table: '/data/orders' };

describe('weir ingest settings', () => {
  it('applies defaults', () => {
    const s = resolveIngestSettings(base, {});
    expect(s).toMatchObject({
      kafka: { brokers: ['a:9092', 'b:9092'] },
      client: 'kafkajs',
      topics: ['orders'],
      mode: 'continuous',
      epochMs: 250,
      triggerMs: 10_000,
      groupId: 'weir-ingest',
      resetPolicy: 'earliest',
      format: 'json',
      autoCompaction: true,
      unknownFields: 'ignore',
      schema: undefined,
      metadataColumns: [],
    });
  });

  it('reads a config file; flags win over it', () => {
    const file = config({
      brokers: ['k:1'],
      topics: 'x,y',
      table: 's3://b/t',
      mode: 'microbatch',
      triggerMs: 5000,
      schema: 'id BIGINT NOT NULL, at TIMESTAMP',
      partitionBy: ['date(at)'],
      metadataColumns: ['partition', 'offset'],
      properties: { 'delta.checkpointInterval': '20' },
      autoCompaction: false,
      sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' },
      sessionTimeoutMs: 9000,
    });
    const s = resolveIngestSettings({ config: file, triggerMs: '2000', property: { a: 'b' } }, {});
    expect(s).toMatchObject({
      kafka: {
        brokers: ['k:1'],
        sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' },
        sessionTimeoutMs: 9000,
      },
      topics: ['x', 'y'],
      table: 's3://b/t',
      mode: 'microbatch',
      triggerMs: 2000,
      partitionBy: ['date(at)'],
      metadataColumns: ['partition', 'offset'],
      properties: { 'delta.checkpointInterval': '20', a: 'b' },
      autoCompaction: false,
    });
    expect(s.schema).toMatchObject({
      type: 'struct',
      fields: [{ name: 'id', nullable: false }, { name: 'at' }],
    });
  });

  it('takes the SASL password from the environment, never from a flag', () => {
    const s = resolveIngestSettings(
      { ...base, saslMechanism: 'plain', saslUsername: 'me' },
      { WEIR_KAFKA_SASL_PASSWORD: 'pw' },
    );
    expect(s.kafka.sasl).toEqual({ mechanism: 'plain', username: 'me', password: 'pw' });
    expect(() => resolveIngestSettings({ ...base, saslMechanism: 'plain', saslUsername: 'me' }, {})).toThrow(
      /WEIR_KAFKA_SASL_PASSWORD/,
    );
  });

  it('refuses bad settings naming the option', () => {
    const bad: [object, RegExp][] = [
      [{ topic: ['t'], table: 'x' }, /--brokers is required/],
      [{ brokers: 'a:1', table: 'x' }, /--topic is required/],
      [{ brokers: 'a:1', topic: ['t'] }, /--table is required/],
      [{ ...base, mode: 'batch' }, /--mode must be one of continuous, microbatch/],
      [{ ...base, epochMs: '5' }, /--epoch-ms must be an integer from 10/],
      [{ ...base, schema: 'id BIGINT', inferSchema: true }, /not both/],
      [{ ...base, format: 'avro' }, /--schema-registry/],
      [{ ...base, partitionBy: 'week(ts)' }, /not a column name/],
      [{ ...base, client: 'rdkafka' }, /--client must be one of kafkajs, librdkafka/],
      [{ ...base, metricsPort: '70000' }, /--metrics-port must be an integer from 0 to 65535/],
    ];
    for (const [flags, message] of bad) expect(() => resolveIngestSettings(flags, {})).toThrow(message);
    expect(() => resolveIngestSettings({ config: config('{nope') }, {})).toThrow(/is not a JSON object/);
    expect(() => resolveIngestSettings({ config: '/does/not/exist.json' }, {})).toThrow(
      /cannot read the config file/,
    );
  });
});
