/**
 * The options of `startBroker` and their defaults (documented per field). Every option is
 * optional: `startBroker()` alone gives an in-memory broker on a random port of 127.0.0.1.
 */
import type { RetentionPolicy } from '../log/retention.js';
import type { BrokerLogger } from '../logger.js';

export interface BrokerOptions {
  /** TCP port; 0 or absent picks a free one. */
  port?: number;
  /** Address to bind and advertise. Default 127.0.0.1. */
  host?: string;
  /** Directory for file persistence (topics, messages, committed offsets). Default: memory only. */
  dataDir?: string;
  /** Default retention of every topic (topic configs retention.ms / retention.bytes override). Default: unlimited. */
  retention?: RetentionPolicy & { checkIntervalMs?: number };
  /** Partitions of auto-created topics and of CreateTopics with -1. Default 1. */
  defaultPartitions?: number;
  /** Create unknown topics named in Metadata requests that allow it. Default true. */
  autoCreateTopics?: boolean;
  nodeId?: number;
  clusterId?: string;
  /** Wait this long after the first member joins an empty group before completing the rebalance. Default 0. */
  groupInitialRebalanceDelayMs?: number;
  /** Verify the CRC-32C of every produced batch. Default true. */
  verifyCrc?: boolean;
  /** Largest request accepted; bigger frames close the connection. Default 100 MiB. */
  maxRequestBytes?: number;
  logger?: BrokerLogger;
}
