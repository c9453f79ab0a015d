/**
 * Bounds-checked decoder of the (non-flexible) Kafka wire types over one request frame:
 * big-endian integers, int16-length strings, int32-length bytes and int32-count arrays.
 *
 * Invariants: every read checks the remaining length first and throws a `ProtocolError` (never
 * a RangeError or a huge allocation) on a short or malformed frame; byte fields are returned as
 * views into the frame (no copy); int64 values are returned as numbers and must be within
 * +-2^53 (offsets, timestamps and producer ids are).
 */
import { ProtocolError } from '../errors.js';

const TWO_32 = 4294967296;

export class Reader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
  ) {
    this.pos = offset;
  }

  get offset(): number {
    return this.pos;
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new ProtocolError(`request truncated reading ${what}`, {
        at: this.pos,
        need: n,
        have: this.buf.length - this.pos,
      });
    }
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.pos++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): number {
    this.need(8, 'int64');
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v))
      throw new ProtocolError('int64 value out of the supported range', { hi, lo });
    return v;
  }

  nullableString(): string | null {
    const len = this.int16();
    if (len === -1) return null;
    if (len < -1) throw new ProtocolError('negative string length', { len });
    this.need(len, 'string');
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw new ProtocolError('null where a string is required');
    return s;
  }

  nullableBytes(): Buffer | null {
    const len = this.int32();
    if (len === -1) return null;
    if (len < -1) throw new ProtocolError('negative bytes length', { len });
    this.need(len, 'bytes');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  bytes(): Buffer {
    return this.nullableBytes() ?? Buffer.alloc(0);
  }

  /** An int32-counted array; -1 is null. The count is checked against the bytes left. */
  nullableArray<T>(item: (r: Reader) => T): T[] | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < -1 || n > this.remaining()) throw new ProtocolError('bad array length', { n });
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  array<T>(item: (r: Reader) => T): T[] {
    return this.nullableArray(item) ?? [];
  }

  int32Array(): number[] {
    return this.array((r) => r.int32());
  }
}
