/**
 * Committed consumer-group offsets, keyed by (group, topic, partition), in memory. Pure and
 * synchronous; the broker persists commits separately when it has a data directory.
 *
 * Invariants: a later commit for the same key replaces the earlier one; deleting a topic
 * deletes its committed offsets in every group.
 */

export interface CommittedOffset {
  offset: number;
  metadata: string | null;
  timestamp: number;
}

export interface OffsetEntry extends CommittedOffset {
  group: string;
  topic: string;
  partition: number;
}

export class OffsetStore {
  private readonly byGroup = new Map<string, Map<string, Map<number, CommittedOffset>>>();

  commit(group: string, topic: string, partition: number, value: CommittedOffset): void {
    let topics = this.byGroup.get(group);
    if (topics === undefined) {
      topics = new Map();
      this.byGroup.set(group, topics);
    }
    let partitions = topics.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      topics.set(topic, partitions);
    }
    partitions.set(partition, value);
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(group)?.get(topic)?.get(partition);
  }

  hasGroup(group: string): boolean {
    return this.byGroup.has(group);
  }

  groupIds(): string[] {
    return [...this.byGroup.keys()];
  }

  /** Every committed partition of a group, topics and partitions in ascending order. */
  committed(group: string): { topic: string; partitions: { index: number; value: CommittedOffset }[] }[] {
    const topics = this.byGroup.get(group);
    if (topics === undefined) return [];
    return [...topics.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([topic, parts]) => ({
        topic,
        partitions: [...parts.entries()]
          .sort(([a], [b]) => a - b)
          .map(([index, value]) => ({ index, value })),
      }));
  }

  deleteTopic(topic: string): void {
    for (const topics of this.byGroup.values()) topics.delete(topic);
  }

  *entries(): Generator<OffsetEntry> {
    for (const [group, topics] of this.byGroup) {
      for (const [topic, parts] of topics) {
        for (const [partition, v] of parts) yield { group, topic, partition, ...v };
      }
    }
  }
}
