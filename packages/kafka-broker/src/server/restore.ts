/**
 * Startup from a data directory: recreates every persisted topic with its log start offsets,
 * restores its batches into the partition logs, and loads committed group offsets.
 *
 * Invariants: batches come back at their stored offsets (nothing is renumbered); a torn tail
 * cut by the persistence layer is logged as a warning, never silently; idempotent-producer state
 * (last sequence and last five batches per producer) is rebuilt from the restored batches, as
 * Kafka rebuilds it from its log, so a producer that retries a batch the broker stored just
 * before it stopped gets the original offset back instead of a duplicate in the log.
 */
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { LogPersistence } from '../log/persistence.js';
import { lastSequence } from '../log/producer-state.js';
import { isControl, readBatchHeader } from '../log/record-batch.js';
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
      for (const b of p.batches) {
        log.restore(b.buf, b.baseOffset, b.lastOffsetDelta, now);
        const h = readBatchHeader(b.buf);
        if (h.producerId >= 0 && !isControl(h.attributes)) {
          const lastSeq = lastSequence(h.baseSequence, h.lastOffsetDelta);
          log.producers.record(h.producerId, h.producerEpoch, h.baseSequence, lastSeq, b.baseOffset);
        }
      }
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
