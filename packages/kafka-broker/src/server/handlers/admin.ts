/**
 * Handlers of cluster and topic administration: ApiVersions, Metadata (with auto-creation),
 * CreateTopics, DeleteTopics, FindCoordinator and InitProducerId.
 *
 * Invariants: this broker is the only node, the controller, every partition's leader and
 * every group's coordinator; a replication factor other than 1 (or -1, the default) is refused
 * with INVALID_REPLICATION_FACTOR, as a one-node Kafka does; transactional producers are refused.
 */
import { KafkaErrorCode } from '../../errors.js';
import { topicNameProblem } from '../../log/topic-registry.js';
import { SUPPORTED_APIS } from '../../protocol/api-keys.js';
import { encodeApiVersionsResponse } from '../../protocol/api-versions.js';
import { decodeCreateTopicsRequest, encodeCreateTopicsResponse } from '../../protocol/create-topics.js';
import { decodeDeleteTopicsRequest, encodeDeleteTopicsResponse } from '../../protocol/delete-topics.js';
import {
  decodeFindCoordinatorRequest,
  encodeFindCoordinatorResponse,
} from '../../protocol/find-coordinator.js';
import type { FullRequestHeader } from '../../protocol/header.js';
import {
  decodeInitProducerIdRequest,
  encodeInitProducerIdResponse,
} from '../../protocol/init-producer-id.js';
import {
  decodeMetadataRequest,
  encodeMetadataResponse,
  type MetadataTopic,
} from '../../protocol/metadata.js';
import type { Reader } from '../../protocol/reader.js';
import type { BrokerContext } from '../context.js';

export function handleApiVersions(_ctx: BrokerContext, h: FullRequestHeader): Buffer[] {
  return encodeApiVersionsResponse(h.apiVersion, 0, SUPPORTED_APIS);
}

function describeTopic(ctx: BrokerContext, name: string): MetadataTopic {
  const topic = ctx.topics.get(name);
  if (topic === undefined) {
    const problem = topicNameProblem(name);
    return {
      errorCode:
        problem === null ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION : KafkaErrorCode.INVALID_TOPIC_EXCEPTION,
      name,
      partitions: [],
    };
  }
  return {
    errorCode: 0,
    name,
    partitions: topic.partitions.map((_, index) => ({ errorCode: 0, index, leader: ctx.nodeId })),
  };
}

export function handleMetadata(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeMetadataRequest(body, h.apiVersion);
  const names = req.topics ?? ctx.topics.names();
  if (req.topics !== null && req.allowAutoTopicCreation && ctx.autoCreateTopics) {
    for (const name of new Set(req.topics)) {
      if (!ctx.topics.has(name) && topicNameProblem(name) === null) {
        ctx.createTopic(name, ctx.defaultPartitions, {});
      }
    }
  }
  return encodeMetadataResponse(h.apiVersion, {
    brokers: [{ nodeId: ctx.nodeId, host: ctx.advertisedHost, port: ctx.port }],
    clusterId: ctx.clusterId,
    controllerId: ctx.nodeId,
    topics: names.map((n) => describeTopic(ctx, n)),
  });
}

export function handleCreateTopics(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeCreateTopicsRequest(body, h.apiVersion);
  const counts = new Map<string, number>();
  for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  const results = req.topics.map((t) => {
    const fail = (errorCode: number, errorMessage: string) => ({ name: t.name, errorCode, errorMessage });
    if ((counts.get(t.name) ?? 0) > 1)
      return fail(KafkaErrorCode.INVALID_REQUEST, 'topic named more than once');
    const problem = topicNameProblem(t.name);
    if (problem !== null) return fail(KafkaErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (ctx.topics.has(t.name))
      return fail(KafkaErrorCode.TOPIC_ALREADY_EXISTS, `topic "${t.name}" already exists`);
    const partitions =
      t.assignments.length > 0
        ? t.assignments.length
        : t.numPartitions === -1
          ? ctx.defaultPartitions
          : t.numPartitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 100_000) {
      return fail(KafkaErrorCode.INVALID_PARTITIONS, `invalid partition count ${t.numPartitions}`);
    }
    if (t.replicationFactor !== -1 && t.replicationFactor !== 1 && t.assignments.length === 0) {
      return fail(
        KafkaErrorCode.INVALID_REPLICATION_FACTOR,
        `replication factor ${t.replicationFactor} is larger than the 1 broker available`,
      );
    }
    const configs: Record<string, string> = {};
    for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
    if (req.validateOnly) return { name: t.name, errorCode: 0, errorMessage: null };
    const created = ctx.createTopic(t.name, partitions, configs);
    if (typeof created === 'string') return fail(40, created); // INVALID_CONFIG
    return { name: t.name, errorCode: 0, errorMessage: null };
  });
  return encodeCreateTopicsResponse(h.apiVersion, results);
}

export function handleDeleteTopics(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeDeleteTopicsRequest(body, h.apiVersion);
  const results = req.names.map((name) => ({
    name,
    errorCode: ctx.deleteTopic(name) ? 0 : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  }));
  return encodeDeleteTopicsResponse(h.apiVersion, results);
}

export function handleFindCoordinator(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  decodeFindCoordinatorRequest(body, h.apiVersion);
  return encodeFindCoordinatorResponse(h.apiVersion, {
    errorCode: 0,
    nodeId: ctx.nodeId,
    host: ctx.advertisedHost,
    port: ctx.port,
  });
}

export function handleInitProducerId(ctx: BrokerContext, h: FullRequestHeader, body: Reader): Buffer[] {
  const req = decodeInitProducerIdRequest(body, h.apiVersion);
  if (req.transactionalId !== null) {
    ctx.logger.log('warn', 'init_producer_id.transactions_unsupported', {
      transactionalId: req.transactionalId,
    });
    return encodeInitProducerIdResponse(h.apiVersion, {
      errorCode: KafkaErrorCode.INVALID_REQUEST,
      producerId: -1,
      producerEpoch: -1,
    });
  }
  return encodeInitProducerIdResponse(h.apiVersion, {
    errorCode: 0,
    producerId: ctx.nextProducerId(),
    producerEpoch: 0,
  });
}
