/**
 * A raw Kafka-protocol client for the broker suites: a TCP socket that sends hand-built frames
 * and reads responses one by one, plus encoders for the few requests the suites build by hand
 * (Produce v3, Fetch v4, Metadata v1) and decoders for their responses. Independent of the
 * broker's own codecs on purpose, so a shared bug cannot hide itself.
 */
import { connect, type Socket } from 'node:net';

export interface Raw {
  send(frame: Buffer): void;
  /** The next response body (after size and correlation id), or 'closed'. Throws after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Buffer | 'closed'>;
  /** Correlation id of the last response returned by `next`. */
  lastCorrelationId(): number;
  /** Whether the broker closed the connection. */
  readonly closed: boolean;
  close(): void;
}

export async function raw(port: number): Promise<Raw> {
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
    send: (frame) => {
      if (!socket.destroyed) socket.write(frame);
    },
    close: () => socket.destroy(),
    lastCorrelationId: () => lastCorr,
    get closed() {
      return closed;
    },
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
        if (Date.now() > deadline) throw new Error(`no response and no close within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}

export function str(s: string | null): Buffer {
  if (s === null) return Buffer.from([0xff, 0xff]);
  const b = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
}
export const i8 = (v: number) => Buffer.from([v & 0xff]);
export function i16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}
export function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}
export function i64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
}

/** Bitwise CRC-32C, independent of the broker's table-driven one. */
export function crc32c(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A framed request with header v1. */
export function request(
  apiKey: number,
  version: number,
  correlationId: number,
  body: Buffer,
  clientId: string | null = 'raw',
): Buffer {
  const payload = Buffer.concat([i16(apiKey), i16(version), i32(correlationId), str(clientId), body]);
  return Buffer.concat([i32(payload.length), payload]);
}

/** A Produce v3 request (acks 1) carrying `records` for topic/partition. */
export function produce(topic: string, partition: number, records: Buffer, correlationId = 7): Buffer {
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
export function produceResult(body: Buffer): { errorCode: number; baseOffset: number } {
  let p = 4; // topics count
  p += 2 + body.readInt16BE(p); // topic name
  p += 4 + 4; // partitions count, index
  return { errorCode: body.readInt16BE(p), baseOffset: Number(body.readBigInt64BE(p + 2)) };
}

/** A Metadata v1 request for every topic (null list). */
export function metadata(correlationId: number): Buffer {
  return request(3, 1, correlationId, i32(-1));
}

export interface FetchSpec {
  maxWaitMs: number;
  minBytes?: number;
  partitions: { topic: string; partition: number; offset: number; maxBytes?: number }[];
}

/** A Fetch v4 request. */
export function fetchRequest(spec: FetchSpec, correlationId: number): Buffer {
  const byTopic = new Map<string, FetchSpec['partitions']>();
  for (const p of spec.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
  const topics = [...byTopic].map(([name, parts]) =>
    Buffer.concat([
      str(name),
      i32(parts.length),
      ...parts.map((p) => Buffer.concat([i32(p.partition), i64(p.offset), i32(p.maxBytes ?? 1 << 20)])),
    ]),
  );
  const body = Buffer.concat([
    i32(-1),
    i32(spec.maxWaitMs),
    i32(spec.minBytes ?? 1),
    i32(16 << 20),
    i8(0),
    i32(topics.length),
    ...topics,
  ]);
  return request(1, 4, correlationId, body);
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  errorCode: number;
  highWatermark: number;
  /** Record batches (v2), as returned. */
  records: Buffer;
  /** Records counted from the batch headers. */
  recordCount: number;
}

/** Decodes a Fetch v4 response. */
export function fetchResult(body: Buffer): FetchedPartition[] {
  const out: FetchedPartition[] = [];
  let p = 4; // throttle time
  const topics = body.readInt32BE(p);
  p += 4;
  for (let t = 0; t < topics; t++) {
    const nameLen = body.readInt16BE(p);
    const topic = body.toString('utf8', p + 2, p + 2 + nameLen);
    p += 2 + nameLen;
    const parts = body.readInt32BE(p);
    p += 4;
    for (let i = 0; i < parts; i++) {
      const partition = body.readInt32BE(p);
      const errorCode = body.readInt16BE(p + 4);
      const highWatermark = Number(body.readBigInt64BE(p + 6));
      p += 4 + 2 + 8 + 8; // index, error, high watermark, last stable offset
      const aborted = body.readInt32BE(p);
      p += 4 + Math.max(0, aborted) * 16;
      const size = body.readInt32BE(p);
      p += 4;
      const records = body.subarray(p, p + Math.max(0, size));
      p += Math.max(0, size);
      let recordCount = 0;
      for (let at = 0; at + 61 <= records.length; at += 12 + records.readInt32BE(at + 8)) {
        recordCount += records.readInt32BE(at + 57);
      }
      out.push({ topic, partition, errorCode, highWatermark, records, recordCount });
    }
  }
  return out;
}
