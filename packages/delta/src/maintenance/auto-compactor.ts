/**
 * Auto-compaction for streaming writers: `autoCompact` runs the bounded OPTIMIZE an
 * `AutoCompactionPolicy` asks for (commits marked `auto: true`), and `AutoCompactor` is the
 * object a sink calls after each commit (e.g. from its `afterCommit` hook).
 *
 * Invariants: at most one compaction per AutoCompactor runs at a time; a call while one runs,
 * or while the policy says nothing is due (a pure check of the snapshot, no IO), starts nothing;
 * compaction errors go to `onError` and never reach the caller's commit path.
 */
import type { ObjectStore } from '@weir/storage';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { AutoCompactionPolicy } from './auto-compaction.js';
import { executeOptimize, type OptimizeExecuteOptions } from './optimize.js';
import type { OptimizeResult } from './optimize-result.js';

/** Runs the OPTIMIZE an auto-compaction policy asks for, if any (`operationParameters.auto` = true). */
export async function autoCompact(
  store: ObjectStore,
  snapshot: Snapshot,
  policy: AutoCompactionPolicy,
  options: OptimizeExecuteOptions = {},
): Promise<OptimizeResult | undefined> {
  const plan = policy.planFor(snapshot);
  if (!plan) return undefined;
  return executeOptimize(store, snapshot, plan, { ...options, auto: true });
}

export interface AutoCompactorOptions extends OptimizeExecuteOptions {
  onResult?: (result: OptimizeResult) => void;
  onError?: (err: unknown) => void;
}

export class AutoCompactor {
  private readonly store: ObjectStore;
  private readonly policy: AutoCompactionPolicy;
  private readonly options: AutoCompactorOptions;
  private current: Promise<OptimizeResult | undefined> | undefined;

  constructor(store: ObjectStore, policy: AutoCompactionPolicy, options: AutoCompactorOptions = {}) {
    this.store = store;
    this.policy = policy;
    this.options = options;
  }

  /** Whether a compaction is running. */
  get running(): boolean {
    return this.current !== undefined;
  }

  /**
   * Starts a compaction in the background when the policy says `snapshot` is due and none is
   * running; returns its promise (never rejects), or undefined when nothing was started.
   */
  afterCommit(snapshot: Snapshot): Promise<OptimizeResult | undefined> | undefined {
    if (this.current || !this.policy.shouldCompact(snapshot)) return undefined;
    const { onResult, onError, ...execute } = this.options;
    const run = autoCompact(this.store, snapshot, this.policy, execute).then(
      (result) => {
        if (result) onResult?.(result);
        return result;
      },
      (err: unknown) => {
        onError?.(err);
        return undefined;
      },
    );
    this.current = run.finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  /** Resolves when no compaction is running. */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }
}
