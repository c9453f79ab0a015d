/**
 * Recent visibility latencies for status lines: each write remembers the Kafka timestamps of
 * the first and last message it carried and the position it ends at; when a commit stores a
 * position at or past it, those messages became visible at the commit's time. Pure.
 *
 * Invariants: pending writes per partition are kept in position order and dropped once
 * committed (or when the partition is revoked), so memory is bounded by uncommitted writes;
 * the window keeps the last `capacity` latencies.
 */
export class LatencyWindow {
  private readonly pending = new Map<string, { position: number; timestamps: number[] }[]>();
  private readonly recent: number[] = [];

  constructor(private readonly capacity = 2048) {}

  noteWrite(appId: string, position: number, timestamps: readonly number[]): void {
    let list = this.pending.get(appId);
    if (!list) {
      list = [];
      this.pending.set(appId, list);
    }
    list.push({ position, timestamps: timestamps.filter((t) => Number.isFinite(t) && t > 0) });
  }

  /** Latencies (ms) of the writes this commit made visible. */
  committed(positions: ReadonlyMap<string, number>, commitTimestamp: number): number[] {
    const out: number[] = [];
    for (const [appId, position] of positions) {
      const list = this.pending.get(appId);
      if (!list) continue;
      let i = 0;
      while (i < list.length && list[i]!.position <= position) {
        for (const t of list[i]!.timestamps) out.push(Math.max(0, commitTimestamp - t));
        i++;
      }
      list.splice(0, i);
    }
    for (const v of out) this.recent.push(v);
    if (this.recent.length > this.capacity) this.recent.splice(0, this.recent.length - this.capacity);
    return out;
  }

  forget(appId: string): void {
    this.pending.delete(appId);
  }

  clear(): void {
    this.pending.clear();
  }

  /** p50 and p99 of the recent latencies (nearest rank), or undefined before any commit. */
  summary(): { p50: number; p99: number } | undefined {
    if (this.recent.length === 0) return undefined;
    const sorted = [...this.recent].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
    return { p50: at(0.5), p99: at(0.99) };
  }
}
