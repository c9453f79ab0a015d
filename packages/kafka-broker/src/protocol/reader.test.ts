import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../errors.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

describe('Reader', () => {
  it('round-trips every wire type written by Writer', () => {
    const buf = new Writer(4)
      .int8(-3)
      .bool(true)
      .int16(-300)
      .int32(-70000)
      .int64(-1)
      .int64(2 ** 40 + 5)
      .int64(-(2 ** 45))
      .string('héllo')
      .nullableString(null)
      .bytes(Buffer.from([1, 2, 3]))
      .nullableBytes(null)
      .int32Array([4, 5])
      .nullableArray(null, () => {})
      .toBuffer();
    const r = new Reader(buf);
    expect([r.int8(), r.bool(), r.int16(), r.int32(), r.int64(), r.int64(), r.int64()]).toEqual([
      -3,
      true,
      -300,
      -70000,
      -1,
      2 ** 40 + 5,
      -(2 ** 45),
    ]);
    expect(r.string()).toBe('héllo');
    expect(r.nullableString()).toBeNull();
    expect([...r.bytes()]).toEqual([1, 2, 3]);
    expect(r.nullableBytes()).toBeNull();
    expect(r.int32Array()).toEqual([4, 5]);
    expect(r.nullableArray((x) => x.int8())).toBeNull();
    expect(r.remaining()).toBe(0);
  });

  it('throws ProtocolError, never RangeError, on truncated or absurd input', () => {
    expect(() => new Reader(Buffer.from([0, 5, 97])).string()).toThrow(ProtocolError);
    expect(() => new Reader(Buffer.from([0, 0, 0])).int32()).toThrow(ProtocolError);
    expect(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff])).array((r) => r.int8())).toThrow(
      /array length/,
    );
    expect(() => new Reader(Buffer.from([0xff, 0xfe])).nullableString()).toThrow(/negative/);
    expect(() => new Reader(Buffer.from([0xff, 0xff])).string()).toThrow(/null/);
    expect(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).int64()).toThrow(
      /range/,
    );
  });
});
