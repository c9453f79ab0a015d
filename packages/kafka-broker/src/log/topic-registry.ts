/**
 * The topics of the broker and their partition logs, plus topic-name validation and the
 * per-topic retention configs (`retention.ms`, `retention.bytes`). Pure and synchronous.
 *
 * Invariants: a topic has at least one partition, numbered 0..n-1; names follow Kafka's rule
 * (1-249 characters of [a-zA-Z0-9._-], not "." or ".."); a topic-level retention setting
 * overrides the broker default, and -1 means unlimited.
 */
import { PartitionLog } from './partition-log.js';
import type { RetentionPolicy } from './retention.js';

export interface Topic {
  readonly name: string;
  readonly partitions: readonly PartitionLog[];
  readonly configs: Readonly<Record<string, string>>;
  readonly retention: RetentionPolicy;
}

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Why a topic name is invalid, or null when it is valid. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name.length > 249) return 'topic name is longer than 249 characters';
  if (name === '.' || name === '..') return `topic name "${name}" is not allowed`;
  if (!LEGAL.test(name)) return `topic name "${name}" has characters other than [a-zA-Z0-9._-]`;
  return null;
}

/** Topic configs this broker understands; others are stored and ignored. */
export function retentionFromConfigs(
  configs: Readonly<Record<string, string>>,
  defaults: RetentionPolicy,
): RetentionPolicy | string {
  const out: RetentionPolicy = { ...defaults };
  for (const [key, field] of [
    ['retention.ms', 'maxAgeMs'],
    ['retention.bytes', 'maxBytes'],
  ] as const) {
    const raw = configs[key];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < -1) return `${key} must be an integer >= -1, got "${raw}"`;
    if (n === -1) delete out[field];
    else out[field] = n;
  }
  return out;
}

export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  partition(name: string, index: number): PartitionLog | undefined {
    return this.topics.get(name)?.partitions[index];
  }

  names(): string[] {
    return [...this.topics.keys()].sort();
  }

  all(): Topic[] {
    return [...this.topics.values()];
  }

  create(
    name: string,
    partitionCount: number,
    configs: Readonly<Record<string, string>>,
    retention: RetentionPolicy,
    logStartOffsets: readonly number[] = [],
  ): Topic {
    const partitions = Array.from(
      { length: partitionCount },
      (_, i) => new PartitionLog(name, i, logStartOffsets[i] ?? 0),
    );
    const topic: Topic = { name, partitions, configs: { ...configs }, retention };
    this.topics.set(name, topic);
    return topic;
  }

  delete(name: string): Topic | undefined {
    const t = this.topics.get(name);
    this.topics.delete(name);
    return t;
  }
}
