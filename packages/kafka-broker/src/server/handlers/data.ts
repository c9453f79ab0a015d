/**
 * Handlers of the data path: Produce, Fetch (with long-poll) and ListOffsets.
 *
 * Invariants: Fetch returns whole stored batches by reference; a fetch with nothing to return
 * parks until data arrives on one of its partitions (then answers once min bytes are there),
 * until max wait, or until the broker stops; errors (unknown partition, offset out of range)
 * answer at once; paused partitions return no records; Produce with acks=0 sends nothing back.
 */
import { KafkaErrorCode } from '../../errors.js';
import type { PartitionLog } from '../../log/partition-log.js';
import {
  decodeFetchRequest,
  encodeFetchResponse,
  type FetchPartitionResponse,
  type FetchRequest,
  type FetchTopicResponse,
} from '../../protocol/fetch.js';
import type { FullRequestHeader } from '../../protocol/header.js';
import {
  decodeListOffsetsRequest,
  EARLIEST_TIMESTAMP,
  encodeListOffsetsResponse,
  LATEST_TIMESTAMP,
  type ListOffsetsPartitionResponse,
} from '../../protocol/list-offsets.js';
import {
  decodeProduceRequest,
  encodeProduceResponse,
  type ProduceTopicResponse,
} from '../../protocol/produce.js';
import type { Reader } from '../../protocol/reader.js';
import type { BrokerContext } from '../context.js';

export function handleProduce(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] | null {
  const req = decodeProduceRequest(body, h.apiVersion);
  ctx.stats.produceRequests++;
  const badAcks = req.acks !== 0 && req.acks !== 1 && req.acks !== -1;
  const transactional = req.transactionalId !== null;
  if (transactional) {
    ctx.logger.log('warn', 'produce.transactional_rejected', { transactionalId: req.transactionalId });
  }
  const topics: ProduceTopicResponse[] = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      if (badAcks || transactional) {
        return {
          index: p.index,
          errorCode: badAcks ? KafkaErrorCode.INVALID_REQUIRED_ACKS : KafkaErrorCode.INVALID_REQUEST,
          baseOffset: -1,
          logStartOffset: -1,
        };
      }
      return { index: p.index, ...ctx.produce(t.name, p.index, p.records) };
    }),
  }));
  if (req.acks === 0) return null;
  return encodeProduceResponse(h.apiVersion, topics);
}

interface BuiltFetch {
  topics: FetchTopicResponse[];
  bytes: number;
  hasError: boolean;
}

function buildFetch(ctx: BrokerContext, req: FetchRequest): BuiltFetch {
  let remaining = req.maxBytes > 0 ? req.maxBytes : Number.POSITIVE_INFINITY;
  let bytes = 0;
  let hasError = false;
  const topics = req.topics.map((t) => {
    const topic = ctx.topics.get(t.name);
    return {
      name: t.name,
      partitions: t.partitions.map((p): FetchPartitionResponse => {
        const log = topic?.partitions[p.index];
        if (log === undefined) {
          hasError = true;
          return {
            index: p.index,
            errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            highWatermark: -1,
            logStartOffset: -1,
            batches: [],
            batchBytes: 0,
          };
        }
        const base = {
          index: p.index,
          errorCode: 0,
          highWatermark: log.highWatermark,
          logStartOffset: log.logStartOffset,
          batches: [] as Buffer[],
          batchBytes: 0,
        };
        if (p.fetchOffset < log.logStartOffset || p.fetchOffset > log.highWatermark) {
          hasError = true;
          return { ...base, errorCode: KafkaErrorCode.OFFSET_OUT_OF_RANGE };
        }
        if (ctx.isPaused(log) || remaining <= 0) return base;
        const limit = Math.min(p.maxBytes > 0 ? p.maxBytes : remaining, remaining);
        const r = log.read(p.fetchOffset, limit, bytes === 0 ? Number.POSITIVE_INFINITY : remaining);
        remaining -= r.bytes;
        bytes += r.bytes;
        return { ...base, batches: r.batches, batchBytes: r.bytes };
      }),
    };
  });
  return { topics, bytes, hasError };
}

export function handleFetch(
  ctx: BrokerContext,
  h: FullRequestHeader,
  body: Reader,
): Buffer[] | Promise<Buffer[]> {
  const req = decodeFetchRequest(body, h.apiVersion);
  ctx.stats.fetchRequests++;
  const answer = (b: BuiltFetch): Buffer[] => {
    ctx.stats.fetchedBytes += b.bytes;
    return encodeFetchResponse(h.apiVersion, b.topics);
  };
  const minBytes = Math.max(1, req.minBytes);
  const first = buildFetch(ctx, req);
  if (first.bytes >= minBytes || first.hasError || req.maxWaitMs <= 0 || ctx.stopping) return answer(first);
  const logs: PartitionLog[] = [];
  for (const t of req.topics) {
    const topic = ctx.topics.get(t.name);
    for (const p of t.partitions) {
      const log = topic?.partitions[p.index];
      if (log !== undefined) logs.push(log);
    }
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = (built: BuiltFetch) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unregister();
      resolve(answer(built));
    };
    const unregister = ctx.waiters.add(logs, (force) => {
      const built = buildFetch(ctx, req);
      if (force || built.bytes >= minBytes || built.hasError) finish(built);
    });
    const timer = setTimeout(() => finish(buildFetch(ctx, req)), req.maxWaitMs);
  });
}

export function handleListOffsets(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeListOffsetsRequest(body, h.apiVersion);
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): ListOffsetsPartitionResponse => {
      const log = ctx.topics.partition(t.name, p.index);
      if (log === undefined) {
        return {
          index: p.index,
          errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          timestamp: -1,
          offset: -1,
        };
      }
      if (p.timestamp === LATEST_TIMESTAMP) {
        return { index: p.index, errorCode: 0, timestamp: -1, offset: log.highWatermark };
      }
      if (p.timestamp === EARLIEST_TIMESTAMP) {
        return { index: p.index, errorCode: 0, timestamp: -1, offset: log.logStartOffset };
      }
      const hit = log.offsetForTimestamp(p.timestamp);
      return hit === null
        ? { index: p.index, errorCode: 0, timestamp: -1, offset: -1 }
        : { index: p.index, errorCode: 0, timestamp: hit.timestamp, offset: hit.offset };
    }),
  }));
  return encodeListOffsetsResponse(h.apiVersion, topics);
}
