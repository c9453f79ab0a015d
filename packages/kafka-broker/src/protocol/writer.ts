/**
 * Encoder of the (non-flexible) Kafka wire types into a growable scratch buffer, with zero-copy
 * appends of existing buffers (stored record batches go out as they are, never re-encoded).
 *
 * Invariants: `chunks()` returns the encoded bytes in order as a list of buffers whose total
 * length is `length`; a buffer passed to `raw` is referenced, not copied, so it must not change
 * until the response is written.
 */

const TWO_32 = 4294967296;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  private start = 0;
  private readonly out: Buffer[] = [];
  private outBytes = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const used = this.pos - this.start;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, used + n + 256));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = used;
  }

  get length(): number {
    return this.outBytes + (this.pos - this.start);
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / TWO_32);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * TWO_32, this.pos + 4);
    this.pos += 8;
    return this;
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1);
    const len = Buffer.byteLength(s, 'utf8');
    this.int16(len);
    this.ensure(len);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += len;
    return this;
  }

  string(s: string): this {
    return this.nullableString(s);
  }

  nullableBytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
    return this;
  }

  bytes(b: Buffer): this {
    return this.nullableBytes(b);
  }

  array<T>(items: readonly T[], each: (w: this, item: T) => void): this {
    this.int32(items.length);
    for (const item of items) each(this, item);
    return this;
  }

  nullableArray<T>(items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.int32(-1);
    return this.array(items, each);
  }

  int32Array(items: readonly number[]): this {
    return this.array(items, (w, v) => w.int32(v));
  }

  /** Appends `chunk` by reference (zero copy). */
  raw(chunk: Buffer): this {
    if (chunk.length === 0) return this;
    if (this.pos > this.start) {
      this.out.push(this.buf.subarray(this.start, this.pos));
      this.outBytes += this.pos - this.start;
      this.start = this.pos;
    }
    this.out.push(chunk);
    this.outBytes += chunk.length;
    return this;
  }

  chunks(): Buffer[] {
    if (this.pos > this.start) {
      this.out.push(this.buf.subarray(this.start, this.pos));
      this.outBytes += this.pos - this.start;
      this.start = this.pos;
    }
    return this.out;
  }

  toBuffer(): Buffer {
    const c = this.chunks();
    return c.length === 1 ? c[0]! : Buffer.concat(c, this.outBytes);
  }
}
