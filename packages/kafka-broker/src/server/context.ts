/**
 * What request handlers see of the broker: its identity and address, topics and logs, the
 * group coordinator, the fetch long-poll registry, fault state, and the few mutations that
 * must also be persisted and logged (create/delete topic, append, commit offsets).
 *
 * Invariants: handlers mutate broker state only through this interface, so persistence and
 * logging cannot be bypassed.
 */
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { OffsetEntry } from '../groups/offset-store.js';
import type { PartitionLog } from '../log/partition-log.js';
import type { Topic, TopicRegistry } from '../log/topic-registry.js';
import type { BrokerLogger } from '../logger.js';
import type { FetchWaiters } from './fetch-waiters.js';

export interface ProduceOutcome {
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
}

export interface BrokerStats {
  connectionsOpened: number;
  produceRequests: number;
  producedBatches: number;
  producedRecords: number;
  producedBytes: number;
  fetchRequests: number;
  fetchedBytes: number;
  retainedDeletedBatches: number;
  retainedDeletedRecords: number;
}

export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly advertisedHost: string;
  readonly port: number;
  readonly logger: BrokerLogger;
  readonly topics: TopicRegistry;
  readonly groups: GroupCoordinator;
  readonly waiters: FetchWaiters;
  readonly stats: BrokerStats;
  readonly autoCreateTopics: boolean;
  readonly defaultPartitions: number;
  /** True once stop() began: parked requests answer at once. */
  readonly stopping: boolean;
  isPaused(partition: PartitionLog): boolean;
  createTopic(name: string, partitions: number, configs: Record<string, string>): Topic | string;
  deleteTopic(name: string): boolean;
  produce(topic: string, partition: number, records: Buffer | null): ProduceOutcome;
  commitOffsets(entries: readonly OffsetEntry[]): void;
  nextProducerId(): number;
}
