/**
 * Ingest metrics on a registry owned by the ingest (never prom-client's global one): messages
 * by outcome, dead letters, lag per partition, rebalances, recoveries, owned partitions, and
 * visibility latency (Kafka timestamp -> the commit that made the row visible). `prometheus()`
 * merges them with the sink's metrics (rows, commits, commit latency, files, compactions).
 */
import type { SinkMetrics } from '@weir/stream';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5, 10, 30, 60];

export class IngestMetrics {
  readonly registry = new Registry();
  readonly messages: Counter<'outcome'>;
  readonly deadLetters: Counter;
  readonly lag: Gauge<'topic' | 'partition'>;
  readonly rebalances: Counter;
  readonly recoveries: Counter<'code'>;
  readonly assigned: Gauge;
  readonly visibility: Histogram;

  constructor(readonly sink: SinkMetrics) {
    const registers = [this.registry];
    this.messages = new Counter({
      name: 'weir_ingest_messages_total',
      help: 'Kafka messages by outcome: written, dead_letter, duplicate (already in the table), dropped (not owned)',
      labelNames: ['outcome'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'weir_ingest_dead_letters_total',
      help: 'Messages committed to the dead-letter table (or counted and logged without one)',
      registers,
    });
    this.lag = new Gauge({
      name: 'weir_ingest_lag_messages',
      help: 'High watermark minus the position committed in the table, per owned partition',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.rebalances = new Counter({
      name: 'weir_ingest_rebalances_total',
      help: 'Partition assignments received',
      registers,
    });
    this.recoveries = new Counter({
      name: 'weir_ingest_recoveries_total',
      help: 'Times the sink was reopened and partitions re-read from the table positions',
      labelNames: ['code'],
      registers,
    });
    this.assigned = new Gauge({
      name: 'weir_ingest_assigned_partitions',
      help: 'Partitions owned now',
      registers,
    });
    this.visibility = new Histogram({
      name: 'weir_ingest_visibility_seconds',
      help: 'Kafka message timestamp to the table commit that made it visible',
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  async prometheus(): Promise<string> {
    return Registry.merge([this.registry, this.sink.registry]).metrics();
  }
}
