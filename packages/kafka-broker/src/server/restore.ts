/**
 * Startup from a data directory: recreates every persisted topic with its log start offsets,
 * restores its batches into the partition logs, and loads committed group offsets.
 *
 * Invariants: batches come back at their stored offsets (nothing is renumbered); a torn tail
 * cut by the persistence layer is logged as a warning, never silently.
 */
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { LogPersistence } from '../log/persistence.js';
import type { RetentionPolicy } from '../log/retention.js';
import { retentionFromConfigs, type TopicRegistry } from '../log/topic-registry.js';
import type { BrokerLogger } from '../logger.js';

export function restoreFromDisk(
  persistence: LogPersistence,
  topics: TopicRegistry,
  groups: GroupCoordinator,
  defaults: RetentionPolicy,
  logger: BrokerLogger,
): void {
  const now = Date.now();
  for (const t of persistence.loadTopics()) {
    const retention = retentionFromConfigs(t.configs, defaults);
    const topic = topics.create(
      t.name,
      t.partitions.length,
      t.configs,
      typeof retention === 'string' ? defaults : retention,
      t.partitions.map((p) => p.logStartOffset),
    );
    t.partitions.forEach((p, i) => {
      const log = topic.partitions[i]!;
      for (const b of p.batches) log.restore(b.buf, b.baseOffset, b.lastOffsetDelta, now);
      if (p.truncatedBytes > 0) {
        logger.log('warn', 'log.torn_tail_truncated', {
          topic: t.name,
          partition: i,
          bytes: p.truncatedBytes,
        });
      }
    });
  }
  for (const e of persistence.loadOffsets()) {
    groups.commit(e.group, e.topic, e.partition, {
      offset: e.offset,
      metadata: e.metadata,
      timestamp: e.timestamp,
    });
  }
}
