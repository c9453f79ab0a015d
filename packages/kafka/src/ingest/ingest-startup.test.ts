/**
 * Ingest startup when the Kafka client loses its connection while joining (a broker restarting
 * under it): a fresh client is tried again; a failure the client calls final is a typed error.
 * The consumer is a stand-in so that the failure happens at a chosen attempt.
 */
import { parseSchema } from '@weir/delta';
import { MemoryStore, WeirError } from '@weir/storage';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConsumerHandlers, SourceConsumer } from '../source/consumer.js';

const attempts: { started: number; disconnected: number }[] = [];
let failures: unknown[] = [];

vi.mock('../source/consumer.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../source/consumer.js')>();
  return {
    ...original,
    createConsumer: (): SourceConsumer => {
      const attempt = { started: 0, disconnected: 0 };
      attempts.push(attempt);
      return {
        start: async (_handlers: ConsumerHandlers) => {
          attempt.started++;
          const failure = failures.shift();
          if (failure !== undefined) throw failure;
        },
        watermarks: async () => [],
        seek: () => {},
        commitOffsets: async () => {},
        stop: async () => {},
        disconnect: async () => {
          attempt.disconnected++;
        },
      };
    },
  };
});

const { Ingest } = await import('./ingest.js');

const SCHEMA = parseSchema(
  JSON.stringify({ type: 'struct', fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }] }),
);

function kafkaError(name: string, message: string, retriable: boolean): Error {
  return Object.assign(new Error(message), { name, retriable });
}

const options = () => ({
  kafka: { brokers: ['broker-a:9092', 'broker-b:9092'] },
  topics: ['orders'],
  groupId: 'g-startup',
  table: new MemoryStore(),
  schema: SCHEMA,
  autoCompaction: false,
});

afterEach(() => {
  attempts.length = 0;
  failures = [];
});

describe('Ingest startup', () => {
  it('a connection closed while joining is retried with a fresh client, which then runs', async () => {
    failures = [
      kafkaError('KafkaJSConnectionClosedError', 'Closed connection', true),
      kafkaError('KafkaJSNumberOfRetriesExceeded', 'Closed connection', false),
    ];
    const ingest = await Ingest.start(options());
    expect(ingest.status().state).toBe('running');
    expect(attempts).toEqual([
      { started: 1, disconnected: 1 },
      { started: 1, disconnected: 1 },
      { started: 1, disconnected: 0 },
    ]);
    await ingest.stop();
  });

  it('a failure the client calls final is KAFKA_UNAVAILABLE naming the brokers and group, at once', async () => {
    failures = [kafkaError('KafkaJSProtocolError', 'Not authorized to access group', false)];
    const failed = await Ingest.start(options()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(WeirError);
    expect(failed).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: false });
    expect((failed as Error).message).toBe(
      'broker-a:9092,broker-b:9092: could not join consumer group g-startup (1 attempt): Not authorized to access group',
    );
    expect(attempts).toHaveLength(1);
  });

  it('an abort while retrying ends the start with INGEST_STOPPED, every client closed', async () => {
    failures = Array.from({ length: 1000 }, () =>
      kafkaError('KafkaJSConnectionClosedError', 'Closed connection', true),
    );
    const controller = new AbortController();
    const starting = Ingest.start({ ...options(), signal: controller.signal }).then(
      () => undefined,
      (err: unknown) => err,
    );
    while (attempts.length < 2) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    const failed = await starting;
    expect(failed).toMatchObject({ code: 'INGEST_STOPPED', retryable: false });
    expect((failed as Error).message).toBe(
      'memory://default: stopped before joining consumer group g-startup',
    );
    expect(attempts.length).toBeLessThan(5);
    expect(attempts.every((a) => a.disconnected >= 1)).toBe(true);
  });

  it('a WeirError from the consumer passes through unchanged', async () => {
    const unavailable = new WeirError('CLIENT_UNAVAILABLE', 'librdkafka is not installed');
    failures = [unavailable];
    await expect(Ingest.start(options())).rejects.toBe(unavailable);
    expect(attempts).toHaveLength(1);
  });
});
