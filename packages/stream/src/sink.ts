/**
 * One factory for both sink styles over the same table writer: `mode: 'continuous'` seals an
 * epoch every `epochMs` (default 250) with sealing and committing pipelined; `mode:
 * 'microbatch'` collects for `triggerMs` (default 1000) and commits batch after batch, each
 * with `txn{queryId, batchId}`. Both store source positions the same way (one `txn` per source
 * partition), so a stream can switch modes between runs and stay exactly-once.
 */
import type { ObjectStore } from '@weir/storage';
import { ContinuousSink, type ContinuousSinkOptions } from './continuous-sink.js';

export type SinkMode = 'microbatch' | 'continuous';

export interface SinkOptions extends Omit<ContinuousSinkOptions, 'pipelined'> {
  mode: SinkMode;
  /** Microbatch trigger interval (ms). */
  triggerMs?: number;
}

export function openSink(store: ObjectStore, options: SinkOptions): Promise<ContinuousSink> {
  const { mode, triggerMs, ...rest } = options;
  if (mode === 'microbatch') {
    return ContinuousSink.open(store, {
      ...rest,
      epochMs: triggerMs ?? 1000,
      pipelined: false,
      queryId: rest.queryId ?? 'weir-microbatch',
    });
  }
  return ContinuousSink.open(store, { ...rest, pipelined: true });
}
