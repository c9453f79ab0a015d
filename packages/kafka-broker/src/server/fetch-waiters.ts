/**
 * Long-poll registry for Fetch: parked fetches register a wake-up callback on the partitions
 * they read; an append (or a resume, or a topic deletion) on a partition calls them.
 *
 * Invariants: a callback stays registered until its unregister function runs (the fetch
 * unregisters when it answers); `wakeAll` calls every callback with `force` (broker stopping),
 * so no parked fetch outlives the broker.
 */
import type { PartitionLog } from '../log/partition-log.js';

export type WakeUp = (force: boolean) => void;

export class FetchWaiters {
  private readonly byPartition = new Map<PartitionLog, Set<WakeUp>>();

  get size(): number {
    let n = 0;
    for (const s of this.byPartition.values()) n += s.size;
    return n;
  }

  add(partitions: readonly PartitionLog[], wake: WakeUp): () => void {
    for (const p of partitions) {
      const set = this.byPartition.get(p);
      if (set === undefined) this.byPartition.set(p, new Set([wake]));
      else set.add(wake);
    }
    return () => {
      for (const p of partitions) {
        const set = this.byPartition.get(p);
        if (set === undefined) continue;
        set.delete(wake);
        if (set.size === 0) this.byPartition.delete(p);
      }
    };
  }

  notify(partition: PartitionLog): void {
    const set = this.byPartition.get(partition);
    if (set === undefined) return;
    for (const wake of [...set]) wake(false);
  }

  wakeAll(): void {
    const all = new Set<WakeUp>();
    for (const set of this.byPartition.values()) for (const w of set) all.add(w);
    for (const w of all) w(true);
  }
}
