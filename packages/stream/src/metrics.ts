/**
 * Sink metrics as prom-client instruments on a registry owned by the sink (never the global
 * default registry, so two sinks in one process do not collide): rows and bytes in, epochs
 * committed, commit latency, visibility latency (record event time to commit time), files per
 * commit, live small files, buffered bytes, compactions run. `snapshot()` gives plain values.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60];

export class SinkMetrics {
  readonly registry = new Registry();
  readonly rowsIn: Counter;
  readonly bytesIn: Counter;
  readonly epochsCommitted: Counter;
  readonly commitLatency: Histogram;
  readonly visibilityLatency: Histogram;
  readonly filesPerCommit: Histogram;
  readonly smallFiles: Gauge;
  readonly bufferedBytes: Gauge;
  readonly compactions: Counter;
  readonly invalidRecords: Counter;

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    const registers = [this.registry];
    this.rowsIn = new Counter({ name: 'weir_sink_rows_total', help: 'Rows accepted by the sink', registers });
    this.bytesIn = new Counter({
      name: 'weir_sink_bytes_total',
      help: 'Arrow bytes accepted by the sink',
      registers,
    });
    this.epochsCommitted = new Counter({
      name: 'weir_sink_commits_total',
      help: 'Epochs / batches committed',
      registers,
    });
    this.commitLatency = new Histogram({
      name: 'weir_sink_commit_seconds',
      help: 'Time to commit one epoch (log write incl. conflict retries)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.visibilityLatency = new Histogram({
      name: 'weir_sink_visibility_seconds',
      help: 'Record event time to the commit that made it visible',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.filesPerCommit = new Histogram({
      name: 'weir_sink_files_per_commit',
      help: 'Data files added per commit',
      buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.smallFiles = new Gauge({
      name: 'weir_sink_live_small_files',
      help: 'Live files under the small-file size',
      registers,
    });
    this.bufferedBytes = new Gauge({
      name: 'weir_sink_buffered_bytes',
      help: 'Bytes buffered and not yet committed',
      registers,
    });
    this.compactions = new Counter({
      name: 'weir_sink_compactions_total',
      help: 'Compactions run by the sink',
      registers,
    });
    this.invalidRecords = new Counter({
      name: 'weir_sink_invalid_records_total',
      help: 'Records refused by the schema',
      registers,
    });
  }

  /** Prometheus text exposition format. */
  prometheus(): Promise<string> {
    return this.registry.metrics();
  }

  /** Plain values for programs (and tests). */
  async snapshot(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const m of await this.registry.getMetricsAsJSON()) out[m.name] = m.values;
    return out;
  }
}
