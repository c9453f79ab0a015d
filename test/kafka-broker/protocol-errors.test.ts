/**
 * A misbehaving client over a raw TCP socket: bad frames, unknown APIs, unsupported versions,
 * truncated bodies, corrupt or out-of-order record batches. Each gets the right Kafka error
 * code or its connection closed, and the broker keeps serving real kafkajs clients.
 */
import { connect, type Socket } from 'node:net';
import { KafkaErrorCode, SUPPORTED_APIS } from '@weir/kafka-broker';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajs, withBroker } from './support.js';

interface Raw {
  send(frame: Buffer): void;
  /** The next response body (after size and correlation id), or 'closed'. */
  next(timeoutMs?: number): Promise<Buffer | 'closed'>;
  /** Correlation id of the last response returned by `next`. */
  lastCorrelationId(): number;
  close(): void;
}

async function raw(port: number): Promise<Raw> {
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buf = Buffer.alloc(0);
  let closed = false;
  let lastCorr = -1;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', () => {});
  return {
    send: (frame) => socket.write(frame),
    close: () => socket.destroy(),
    lastCorrelationId: () => lastCorr,
    async next(timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          const size = buf.readInt32BE(0);
          const body = buf.subarray(8, 4 + size);
          lastCorr = buf.readInt32BE(4);
          buf = buf.subarray(4 + size);
          return body;
        }
        if (closed) return 'closed';
        if (Date.now() > deadline) throw new Error('no response and no close');
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}

function str(s: string | null): Buffer {
  if (s === null) return Buffer.from([0xff, 0xff]);
  const b = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
}
const i8 = (v: number) => Buffer.from([v & 0xff]);
function i16(v: number) {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}
function i32(v: number) {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

/** Bitwise CRC-32C, independent of the broker's table-driven one. */
function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function request(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Buffer,
  clientId = 'raw',
): Buffer {
  const payload = Buffer.concat([i16(apiKey), i16(version), i32(correlationId), str(clientId), body]);
  return Buffer.concat([i32(payload.length), payload]);
}

/** A Produce v3 request (acks 1) carrying `records` for topic/partition. */
function produce(topic: string, partition: number, records: Buffer, correlationId = 7): Buffer {
  const body = Buffer.concat([
    str(null),
    i16(1),
    i32(5000),
    i32(1),
    str(topic),
    i32(1),
    i32(partition),
    i32(records.length),
    records,
  ]);
  return request(0, 3, correlationId, body);
}

/** Error code and base offset of a single-partition Produce v3 response. */
function produceResult(body: Buffer): { errorCode: number; baseOffset: number } {
  let p = 4; // topics count
  p += 2 + body.readInt16BE(p); // topic name
  p += 4 + 4; // partitions count, index
  return { errorCode: body.readInt16BE(p), baseOffset: Number(body.readBigInt64BE(p + 2)) };
}

describe('protocol errors from a misbehaving client', () => {
  it('answers ApiVersions, and UNSUPPORTED_VERSION in v0 layout for a newer version', async () => {
    await withBroker({}, async (broker) => {
      const c = await raw(broker.port);
      try {
        c.send(request(18, 2, 1, Buffer.alloc(0)));
        const v2 = (await c.next()) as Buffer;
        expect(v2.readInt16BE(0)).toBe(0);
        expect(v2.readInt32BE(2)).toBe(SUPPORTED_APIS.length);
        // v3 is flexible: header v2 with tagged fields and a compact body we do not parse.
        const flexible = Buffer.concat([
          i16(18),
          i16(3),
          i32(2),
          str('rdkafka'),
          i8(0),
          i8(8),
          Buffer.from('librdk'),
          i8(4),
          Buffer.from('2.1'),
          i8(0),
        ]);
        c.send(Buffer.concat([i32(flexible.length), flexible]));
        const v3 = (await c.next()) as Buffer;
        expect(v3.readInt16BE(0)).toBe(KafkaErrorCode.UNSUPPORTED_VERSION);
        const count = v3.readInt32BE(2);
        const ranges = Array.from({ length: count }, (_, i) => [
          v3.readInt16BE(6 + i * 6),
          v3.readInt16BE(8 + i * 6),
          v3.readInt16BE(10 + i * 6),
        ]);
        expect(ranges).toContainEqual([18, 0, 2]);
      } finally {
        c.close();
      }
    });
  });

  it('closes only the offending connection and keeps serving real clients', async () => {
    await withBroker({ maxRequestBytes: 1024 * 1024 }, async (broker) => {
      const cases: [string, Buffer][] = [
        ['unknown API key', request(57, 0, 1, Buffer.alloc(0))],
        ['unsupported Produce version', request(0, 9, 1, Buffer.alloc(10))],
        ['negative frame size', i32(-5)],
        ['frame over the size limit', Buffer.concat([i32(64 * 1024 * 1024), Buffer.alloc(16)])],
        ['truncated Metadata body', request(3, 1, 1, i32(1000))],
        ['frame shorter than a header', Buffer.concat([i32(3), Buffer.from([0, 3, 0])])],
        ['random bytes', Buffer.concat([i32(40), Buffer.from('this is not a kafka request at all!!!!!!')])],
      ];
      for (const [what, frame] of cases) {
        const c = await raw(broker.port);
        c.send(frame);
        expect(await c.next(), what).toBe('closed');
      }
      // The broker is fine: a real client works.
      const producer = kafkajs(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const r = await producer.send({ topic: 'still-alive', messages: [{ value: 'ok' }] });
      expect(r[0]!.errorCode).toBe(0);
      await producer.disconnect();
    });
  });

  it('rejects corrupt batches with CORRUPT_MESSAGE and keeps the connection', async () => {
    await withBroker({}, async (broker) => {
      // A real batch written by kafkajs, read back from the log.
      const producer = kafkajs(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      broker.ensureTopic('crc', 1);
      await producer.send({ topic: 'crc', messages: [{ value: 'hello' }, { value: 'world' }] });
      await producer.disconnect();
      const original = Buffer.from(broker.topics.partition('crc', 0)!.liveBatches()[0]!.buf);

      const c = await raw(broker.port);
      try {
        const flipped = Buffer.from(original);
        flipped[flipped.length - 1]! ^= 0xff;
        c.send(produce('crc', 0, flipped));
        expect(produceResult((await c.next()) as Buffer).errorCode).toBe(KafkaErrorCode.CORRUPT_MESSAGE);
        c.send(produce('crc', 0, original.subarray(0, original.length - 3)));
        expect(produceResult((await c.next()) as Buffer).errorCode).toBe(KafkaErrorCode.CORRUPT_MESSAGE);
        c.send(produce('nope', 0, original));
        expect(produceResult((await c.next()) as Buffer).errorCode).toBe(
          KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        );
        // The same bytes again are fine (not idempotent: a new copy at offset 2).
        c.send(produce('crc', 0, original));
        expect(produceResult((await c.next()) as Buffer)).toEqual({ errorCode: 0, baseOffset: 2 });
        expect(broker.highWatermark('crc', 0)).toBe(4);
      } finally {
        c.close();
      }
    });
  });

  it('answers a retried idempotent batch with its original offset, and a sequence gap with an error', async () => {
    await withBroker({}, async (broker) => {
      const producer = kafkajs(broker).producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      broker.ensureTopic('once', 1);
      await producer.send({ topic: 'once', acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
      await producer.send({ topic: 'once', acks: -1, messages: [{ value: 'c' }] });
      await producer.disconnect();
      const [first, second] = broker.topics
        .partition('once', 0)!
        .liveBatches()
        .map((b) => Buffer.from(b.buf));

      const c = await raw(broker.port);
      try {
        // A retry of either batch (as after a lost response) is not appended again.
        c.send(produce('once', 0, first!));
        expect(produceResult((await c.next()) as Buffer)).toEqual({ errorCode: 0, baseOffset: 0 });
        c.send(produce('once', 0, second!));
        expect(produceResult((await c.next()) as Buffer)).toEqual({ errorCode: 0, baseOffset: 2 });
        expect(broker.highWatermark('once', 0)).toBe(3);
        // The same producer skipping sequences 3..9: OUT_OF_ORDER_SEQUENCE_NUMBER, nothing appended.
        const gap = Buffer.from(second!);
        gap.writeInt32BE(10, 53);
        gap.writeUInt32BE(crc32c(gap.subarray(21)), 17);
        c.send(produce('once', 0, gap));
        expect(produceResult((await c.next()) as Buffer).errorCode).toBe(
          KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        );
        // A new epoch of the same producer must start again at sequence 0.
        const bumped = Buffer.from(second!);
        bumped.writeInt16BE(1, 51);
        bumped.writeInt32BE(3, 53);
        bumped.writeUInt32BE(crc32c(bumped.subarray(21)), 17);
        c.send(produce('once', 0, bumped));
        expect(produceResult((await c.next()) as Buffer).errorCode).toBe(
          KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        );
        expect(broker.highWatermark('once', 0)).toBe(3);
      } finally {
        c.close();
      }
    });
  });

  it('a produce with acks=0 gets no response and later responses stay in request order', async () => {
    await withBroker({}, async (broker) => {
      broker.ensureTopic('quiet', 1);
      const c = await raw(broker.port);
      try {
        const metadata = (corr: number) => request(3, 1, corr, i32(0));
        const produceNoAck = Buffer.concat([str(null), i16(0), i32(5000), i32(0)]);
        c.send(Buffer.concat([metadata(11), request(0, 3, 12, produceNoAck), metadata(13)]));
        expect(await c.next()).not.toBe('closed');
        expect(c.lastCorrelationId()).toBe(11);
        expect(await c.next()).not.toBe('closed');
        expect(c.lastCorrelationId()).toBe(13);
        await new Promise((r) => setTimeout(r, 100));
        expect(broker.highWatermark('quiet', 0)).toBe(0);
      } finally {
        c.close();
      }
    });
  });
});
