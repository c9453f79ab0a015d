/**
 * A misbehaving client over a raw TCP socket: bad frames, unknown APIs, unsupported versions,
 * truncated bodies, corrupt or out-of-order record batches. Each gets the right Kafka error
 * code or its connection closed, and the broker keeps serving real kafkajs clients.
 */
import { type BrokerLogger, KafkaErrorCode, SUPPORTED_APIS } from '@weir/kafka-broker';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  crc32c,
  fetchRequest,
  i8,
  i16,
  i32,
  metadata,
  produce,
  produceResult,
  raw,
  request,
  str,
} from './raw-client.js';
import { kafkajs, withBroker } from './support.js';

/** xorshift32: a reproducible stream of pseudo-random 32-bit values. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/**
 * A request body of plausible-looking fields (small counts, -1 nulls, short strings, offsets) in
 * random order, so decoders get past their first field; or plain random bytes.
 */
function fuzzBody(next: () => number): Buffer {
  const parts: Buffer[] = [];
  const fields = next() % 24;
  if (next() % 4 === 0) {
    const b = Buffer.alloc(next() % 160);
    for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
    return b;
  }
  for (let i = 0; i < fields; i++) {
    switch (next() % 9) {
      case 0:
        parts.push(i32(next() % 4));
        break;
      case 1:
        parts.push(i32(-1));
        break;
      case 2:
        parts.push(i16(next() % 3 === 0 ? -1 : next() % 5));
        break;
      case 3:
        parts.push(str(['fz', 'fuzz-topic', '', 'g', 'consumer'][next() % 5]!));
        break;
      case 4:
        parts.push(Buffer.concat([i32(0), i32(next() % 100)]));
        break;
      case 5:
        parts.push(i32(next() | 0));
        break;
      case 6:
        parts.push(i8(next()));
        break;
      case 7:
        parts.push(i32(0x7fffffff));
        break;
      default:
        parts.push(Buffer.from([next() & 0xff, next() & 0xff, next() & 0xff]));
    }
  }
  return Buffer.concat(parts);
}

describe('protocol errors from a misbehaving client', () => {
  it('survives fuzzed requests for every API and version, answering or closing each connection', async () => {
    const seed = Number(process.env.KB_FUZZ_SEED ?? Date.now() % 1_000_000_007);
    process.stderr.write(`[kafka-broker] protocol fuzz seed ${seed} (rerun with KB_FUZZ_SEED=${seed})\n`);
    const next = prng(seed);
    // Requests that may legitimately go unanswered for a while or for good (Produce with acks=0,
    // long-poll Fetch, JoinGroup/SyncGroup parked in a rebalance).
    const parking = new Set([0, 1, 11, 14]);
    // A request the broker cannot decode is a ProtocolError (logged as a warning); anything else
    // thrown by a handler (a RangeError, a TypeError) is a broker bug, logged as an error.
    const internalErrors: unknown[] = [];
    const logger: BrokerLogger = {
      log: (level, event, fields) => {
        if (level === 'error') internalErrors.push({ event, ...fields });
      },
    };
    await withBroker({ maxRequestBytes: 1024 * 1024, logger }, async (broker) => {
      broker.ensureTopic('fz', 2);
      let answered = 0;
      let closed = 0;
      for (const api of SUPPORTED_APIS) {
        for (let version = api.min; version <= api.max + 1; version++) {
          for (let i = 0; i < 12; i++) {
            const c = await raw(broker.port);
            try {
              c.send(request(api.apiKey, version, i, fuzzBody(next), next() % 5 === 0 ? null : 'fuzz'));
              let r: Buffer | 'closed' | 'silent';
              try {
                r = await c.next(parking.has(api.apiKey) ? 1500 : 5000);
              } catch (err) {
                if (!parking.has(api.apiKey)) throw new Error(`${api.name} v${version}: ${String(err)}`);
                r = 'silent';
              }
              if (r === 'closed') closed++;
              else if (r !== 'silent') answered++;
            } finally {
              c.close();
            }
          }
        }
      }
      process.stderr.write(`[kafka-broker] fuzz: ${answered} answered, ${closed} closed\n`);
      expect(internalErrors).toEqual([]);
      expect(answered).toBeGreaterThan(0);
      expect(closed).toBeGreaterThan(0);
      // Still a working broker: real clients produce and consume.
      const kafka = kafkajs(broker);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const sent = await producer.send({ topic: 'after-fuzz', messages: [{ value: 'ok' }] });
      expect(sent[0]!.errorCode).toBe(0);
      await producer.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      expect(await admin.fetchTopicOffsets('after-fuzz')).toEqual([
        { partition: 0, offset: '1', high: '1', low: '0' },
      ]);
      await admin.disconnect();
    });
  }, 120_000);

  it('survives mutated copies of valid requests (flipped bytes, truncations, extreme values)', async () => {
    const seed = Number(process.env.KB_FUZZ_SEED ?? (Date.now() + 1) % 1_000_000_007);
    process.stderr.write(`[kafka-broker] mutation fuzz seed ${seed} (rerun with KB_FUZZ_SEED=${seed})\n`);
    const next = prng(seed);
    const internalErrors: unknown[] = [];
    const logger: BrokerLogger = {
      log: (level, event, fields) => {
        if (level === 'error') internalErrors.push({ event, ...fields });
      },
    };
    await withBroker({ logger }, async (broker) => {
      broker.ensureTopic('mut', 2);
      // A real batch, written by kafkajs.
      const producer = kafkajs(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic: 'mut', messages: [{ key: 'k', value: 'hello' }, { value: 'world' }] });
      await producer.disconnect();
      const batch = Buffer.from(broker.topics.partition('mut', 0)!.liveBatches()[0]!.buf);
      const group = (s: string) => str(s);
      const valid: Buffer[] = [
        produce('mut', 0, batch),
        fetchRequest({ maxWaitMs: 0, partitions: [{ topic: 'mut', partition: 0, offset: 0 }] }, 1),
        metadata(2),
        // ListOffsets v1: replica, [topic [partition, timestamp]]
        request(2, 1, 3, Buffer.concat([i32(-1), i32(1), str('mut'), i32(1), i32(0), i32(-1), i32(-1)])),
        // OffsetCommit v2: group, generation, member, retention, [topic [partition, offset, metadata]]
        request(
          8,
          2,
          4,
          Buffer.concat([
            group('mg'),
            i32(-1),
            str(''),
            i32(-1),
            i32(0),
            i32(0),
            i32(1),
            str('mut'),
            i32(1),
            i32(0),
            i32(0),
            i32(5),
            str(null),
          ]),
        ),
        // OffsetFetch v1: group, [topic [partition]]
        request(9, 1, 5, Buffer.concat([group('mg'), i32(1), str('mut'), i32(1), i32(0)])),
        // CreateTopics v0: [name, partitions, replication, [assignments], [configs]], timeout
        request(
          19,
          0,
          6,
          Buffer.concat([
            i32(1),
            str('made'),
            i32(2),
            i16(1),
            i32(0),
            i32(1),
            str('retention.ms'),
            str('100000'),
            i32(1000),
          ]),
        ),
      ];
      let n = 0;
      for (let round = 0; round < 400; round++) {
        const frame = Buffer.from(valid[round % valid.length]!);
        const mutated = (() => {
          switch (next() % 3) {
            case 0: {
              for (let k = 1 + (next() % 3); k > 0; k--)
                frame[4 + (next() % (frame.length - 4))] = next() & 0xff;
              return frame;
            }
            case 1: {
              const cut = 12 + (next() % (frame.length - 12));
              const t = frame.subarray(0, cut);
              t.writeInt32BE(cut - 4, 0);
              return t;
            }
            default: {
              const at = 14 + (next() % Math.max(1, frame.length - 18));
              frame.writeInt32BE(
                [0x7fffffff, -1, -0x80000000, 0][next() % 4]!,
                Math.min(at, frame.length - 4),
              );
              return frame;
            }
          }
        })();
        const c = await raw(broker.port);
        try {
          c.send(mutated);
          try {
            await c.next(1500);
          } catch {
            // Unanswered: a mutated acks=0 produce or a long-poll fetch; the broker must live on.
          }
          n++;
        } finally {
          c.close();
        }
      }
      expect(n).toBe(400);
      expect(internalErrors).toEqual([]);
      const p2 = kafkajs(broker).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await p2.connect();
      expect((await p2.send({ topic: 'after-mutations', messages: [{ value: 'ok' }] }))[0]!.errorCode).toBe(
        0,
      );
      await p2.disconnect();
    });
  }, 120_000);

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
