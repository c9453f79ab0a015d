/**
 * A one-slot hand-over between a producer and a consumer (a writer and its encoder's input, a
 * worker's upload chunks and the store's put): `put` resolves once the previous item was taken,
 * so at most one item waits. Invariants: after `end` the consumer gets undefined; after `fail`
 * both sides get the error.
 */
export class Slot<T> {
  private item: T | undefined;
  private ended = false;
  private failure: { err: unknown } | undefined;
  private taker: { resolve: (v: T | undefined) => void; reject: (err: unknown) => void } | undefined;
  private putter: { resolve: () => void; reject: (err: unknown) => void } | undefined;

  /** Resolves once the item is stored (the previous one was taken). */
  async put(item: T): Promise<void> {
    while (this.item !== undefined) {
      await new Promise<void>((resolve, reject) => {
        this.putter = { resolve, reject };
      });
    }
    if (this.failure) throw this.failure.err;
    if (this.taker) {
      const t = this.taker;
      this.taker = undefined;
      t.resolve(item);
      return;
    }
    this.item = item;
  }

  /** The next item, or undefined at the end. */
  take(): Promise<T | undefined> {
    if (this.failure) return Promise.reject(this.failure.err);
    if (this.item !== undefined) {
      const item = this.item;
      this.item = undefined;
      const p = this.putter;
      this.putter = undefined;
      p?.resolve();
      return Promise.resolve(item);
    }
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.taker = { resolve, reject };
    });
  }

  /** Resolves once every item was taken, then marks the end. */
  async end(): Promise<void> {
    while (this.item !== undefined) {
      await new Promise<void>((resolve, reject) => {
        this.putter = { resolve, reject };
      });
    }
    if (this.failure) throw this.failure.err;
    this.ended = true;
    const t = this.taker;
    this.taker = undefined;
    t?.resolve(undefined);
  }

  fail(err: unknown): void {
    if (this.failure) return;
    this.failure = { err };
    this.taker?.reject(err);
    this.putter?.reject(err);
    this.taker = undefined;
    this.putter = undefined;
  }
}
