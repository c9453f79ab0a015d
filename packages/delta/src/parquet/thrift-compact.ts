/**
 * The Thrift compact protocol, read into and written from a generic tree that keeps every wire
 * type: what a Parquet footer needs to be edited without a schema compiler (the row-group
 * stitcher changes offsets and copies everything else through untouched).
 *
 * Invariants:
 * - `writeStruct(readStruct(b))` encodes the same fields, in the same order, with the same wire
 *   types and values as `b` (the bytes may differ only where the original used a long field
 *   header that a short one could replace).
 * - i64 values are bigints and i8/i16/i32 values numbers, so no integer loses digits.
 * - A truncated or malformed input is a `WeirError` CORRUPT_DATA_FILE (callers add the file's
 *   name), never an out-of-range read; nesting is bounded.
 * Pure and synchronous.
 */
import { WeirError } from '@weir/storage';

export const TType = {
  STOP: 0,
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

/** A field's or element's wire type; booleans are TRUE in lists and maps. */
export type WireType = number;

export interface TList {
  elemType: WireType;
  items: TValue[];
}

export interface TMap {
  keyType: WireType;
  valueType: WireType;
  entries: [TValue, TValue][];
}

export interface TField {
  id: number;
  type: WireType;
  value: TValue;
}

export interface TStruct {
  fields: TField[];
}

export type TValue = boolean | number | bigint | Uint8Array | TList | TMap | TStruct;

const MAX_DEPTH = 64;

function decodeError(message: string): WeirError {
  return new WeirError('CORRUPT_DATA_FILE', message);
}

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  byte(): number {
    if (this.pos >= this.end) throw decodeError('thrift: unexpected end of data');
    return this.bytes[this.pos++]!;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw decodeError('thrift: varint longer than 10 bytes');
  }

  /** An unsigned varint that must fit a small count (sizes, lengths). */
  count(): number {
    const v = this.varint();
    if (v > BigInt(this.end - this.pos) * 8n + 16n) throw decodeError(`thrift: count ${v} past the data`);
    return Number(v);
  }

  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) throw decodeError('thrift: binary past the end of data');
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

function readValue(r: Reader, type: WireType, depth: number, inContainer: boolean): TValue {
  switch (type) {
    case TType.TRUE:
      return inContainer ? r.byte() === 1 : true;
    case TType.FALSE:
      return inContainer ? r.byte() === 1 : false;
    case TType.BYTE: {
      const b = r.byte();
      return b > 127 ? b - 256 : b;
    }
    case TType.I16:
    case TType.I32:
      return Number(BigInt.asIntN(32, r.zigzag()));
    case TType.I64:
      return BigInt.asIntN(64, r.zigzag());
    case TType.DOUBLE: {
      const b = r.take(8);
      return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    }
    case TType.BINARY:
      return r.take(r.count());
    case TType.LIST:
    case TType.SET: {
      if (depth > MAX_DEPTH) throw decodeError('thrift: nesting too deep');
      const head = r.byte();
      const elemType = head & 0x0f;
      const size = head >> 4 === 0x0f ? r.count() : head >> 4;
      const items: TValue[] = [];
      for (let i = 0; i < size; i++) items.push(readValue(r, elemType, depth + 1, true));
      return { elemType, items };
    }
    case TType.MAP: {
      if (depth > MAX_DEPTH) throw decodeError('thrift: nesting too deep');
      const size = r.count();
      if (size === 0) return { keyType: 0, valueType: 0, entries: [] };
      const kv = r.byte();
      const keyType = kv >> 4;
      const valueType = kv & 0x0f;
      const entries: [TValue, TValue][] = [];
      for (let i = 0; i < size; i++) {
        entries.push([readValue(r, keyType, depth + 1, true), readValue(r, valueType, depth + 1, true)]);
      }
      return { keyType, valueType, entries };
    }
    case TType.STRUCT:
      if (depth > MAX_DEPTH) throw decodeError('thrift: nesting too deep');
      return readStructAt(r, depth + 1);
    default:
      throw decodeError(`thrift: unknown wire type ${type}`);
  }
}

function readStructAt(r: Reader, depth: number): TStruct {
  const fields: TField[] = [];
  let last = 0;
  for (;;) {
    const head = r.byte();
    const type = head & 0x0f;
    if (type === TType.STOP) return { fields };
    const delta = head >> 4;
    const id = delta === 0 ? Number(BigInt.asIntN(16, r.zigzag())) : last + delta;
    last = id;
    fields.push({ id, type, value: readValue(r, type, depth, false) });
  }
}

/** Reads one struct from `bytes[start, end)`; `end` tells where it stopped. */
export function readStruct(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): { struct: TStruct; end: number } {
  const r = new Reader(bytes, start, end);
  const struct = readStructAt(r, 0);
  return { struct, end: r.pos };
}

class Writer {
  private buf = new Uint8Array(1024);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b & 0xff;
  }

  varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    for (;;) {
      if (x < 0x80n) {
        this.byte(Number(x));
        return;
      }
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
  }

  zigzag(v: bigint, bits: number): void {
    const n = BigInt.asIntN(bits, v);
    this.varint(BigInt.asUintN(bits, (n << 1n) ^ (n >> BigInt(bits - 1))));
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function typeError(type: WireType, value: TValue): WeirError {
  return new WeirError(
    'INVALID_ARGUMENT',
    `thrift: a ${typeof value} cannot be written as wire type ${type}`,
  );
}

function writeValue(w: Writer, type: WireType, value: TValue, inContainer: boolean): void {
  switch (type) {
    case TType.TRUE:
    case TType.FALSE:
      if (typeof value !== 'boolean') throw typeError(type, value);
      // In a field the value is the header's type; in a container it is a byte.
      if (inContainer) w.byte(value ? TType.TRUE : TType.FALSE);
      return;
    case TType.BYTE:
      if (typeof value !== 'number') throw typeError(type, value);
      w.byte(value);
      return;
    case TType.I16:
    case TType.I32:
      if (typeof value !== 'number') throw typeError(type, value);
      w.zigzag(BigInt(value), 32);
      return;
    case TType.I64:
      if (typeof value !== 'bigint') throw typeError(type, value);
      w.zigzag(value, 64);
      return;
    case TType.DOUBLE: {
      if (typeof value !== 'number') throw typeError(type, value);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, value, true);
      w.bytes(b);
      return;
    }
    case TType.BINARY:
      if (!(value instanceof Uint8Array)) throw typeError(type, value);
      w.varint(BigInt(value.length));
      w.bytes(value);
      return;
    case TType.LIST:
    case TType.SET: {
      const list = value as TList;
      if (!Array.isArray(list.items)) throw typeError(type, value);
      const n = list.items.length;
      if (n < 15) w.byte((n << 4) | list.elemType);
      else {
        w.byte(0xf0 | list.elemType);
        w.varint(BigInt(n));
      }
      for (const item of list.items) writeValue(w, list.elemType, item, true);
      return;
    }
    case TType.MAP: {
      const map = value as TMap;
      if (!Array.isArray(map.entries)) throw typeError(type, value);
      w.varint(BigInt(map.entries.length));
      if (map.entries.length === 0) return;
      w.byte((map.keyType << 4) | map.valueType);
      for (const [k, v] of map.entries) {
        writeValue(w, map.keyType, k, true);
        writeValue(w, map.valueType, v, true);
      }
      return;
    }
    case TType.STRUCT:
      writeStructTo(w, value as TStruct);
      return;
    default:
      throw typeError(type, value);
  }
}

function writeStructTo(w: Writer, s: TStruct): void {
  if (!Array.isArray(s.fields)) throw new WeirError('INVALID_ARGUMENT', 'thrift: a struct needs fields');
  let last = 0;
  for (const f of s.fields) {
    // A boolean field carries its value in the header's type.
    const type =
      f.type === TType.TRUE || f.type === TType.FALSE ? (f.value ? TType.TRUE : TType.FALSE) : f.type;
    const delta = f.id - last;
    if (delta > 0 && delta <= 15) w.byte((delta << 4) | type);
    else {
      w.byte(type);
      w.zigzag(BigInt(f.id), 16);
    }
    last = f.id;
    writeValue(w, type, f.value, false);
  }
  w.byte(TType.STOP);
}

/** The compact-protocol bytes of a struct. */
export function writeStruct(s: TStruct): Uint8Array {
  const w = new Writer();
  writeStructTo(w, s);
  return w.result();
}

// --- field access -------------------------------------------------------------------------------

export function getField(s: TStruct, id: number): TField | undefined {
  return s.fields.find((f) => f.id === id);
}

export function getStruct(s: TStruct, id: number): TStruct | undefined {
  const f = getField(s, id);
  return f && f.type === TType.STRUCT ? (f.value as TStruct) : undefined;
}

export function getList(s: TStruct, id: number): TList | undefined {
  const f = getField(s, id);
  return f && (f.type === TType.LIST || f.type === TType.SET) ? (f.value as TList) : undefined;
}

/** An integer field (i8/i16/i32/i64) as a bigint. */
export function getInt(s: TStruct, id: number): bigint | undefined {
  const f = getField(s, id);
  if (!f) return undefined;
  if (typeof f.value === 'bigint') return f.value;
  if (typeof f.value === 'number' && Number.isInteger(f.value)) return BigInt(f.value);
  return undefined;
}

/** Sets an integer field, keeping its wire type; a new field is added in id order with `type`. */
export function setInt(s: TStruct, id: number, value: bigint, type: WireType = TType.I64): void {
  const f = getField(s, id);
  const wire = f ? f.type : type;
  const v = wire === TType.I64 ? value : Number(value);
  if (f) {
    f.value = v;
    return;
  }
  const at = s.fields.findIndex((x) => x.id > id);
  const field: TField = { id, type: wire, value: v };
  if (at < 0) s.fields.push(field);
  else s.fields.splice(at, 0, field);
}
