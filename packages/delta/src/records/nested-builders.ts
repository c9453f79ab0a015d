/**
 * Column builders for nested types — struct (Struct), array (List with child 'element'), map
 * (Map_ of entries {key, value}) — and `createColumnBuilder`, which picks the builder for a
 * Delta type paired with its exact Arrow type from `deltaTypeToArrow`.
 *
 * Invariants:
 * - A nested builder bumps its own length only after every child value of the row was written;
 *   `truncate(n)` cascades (struct: children to n; list/map: children to offsets[n]), which
 *   undoes any partially written row below it.
 * - Children of a null struct get null slots (`appendNull`, no nullability check): Arrow needs a
 *   slot per parent row, and a null under a null parent is "masked", which readers accept even
 *   for non-nullable child fields.
 * - Path segments added to failures: a struct adds the field name, an array `[i]`, a map
 *   `["key"]` for a value and `[key "key"]` for a key.
 * - Struct fields are read as own properties only when their name also exists on
 *   Object.prototype ('constructor', 'toString', '__proto__', ...), so those never leak in.
 * - Map keys are never null and, for primitive key types, unique within a map (Spark's default
 *   policy refuses duplicates, so Weir does too).
 */
import { WeirError } from '@weir/storage';
import {
  type DataType as ArrowDataType,
  type Field,
  type List,
  type Map_,
  makeData,
  type Struct,
} from 'apache-arrow';
import type { ArrayType, DataType, MapType, StructType } from '../schema/types.js';
import { type AnyData, type BuilderContext, ColumnBuilder, grow } from './column-builder.js';
import {
  BoolBuilder,
  DecimalBuilder,
  LongBuilder,
  NumberBuilder,
  TimestampBuilder,
} from './fixed-width-builders.js';
import { CoercionFailure, displayValue, fail, withSegment } from './record-errors.js';
import { BinaryBuilder, Utf8Builder } from './var-width-builders.js';

/** A plain record-like object (not an array, Date, Map, Set or binary buffer). */
export function isRecordObject(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Date) &&
    !ArrayBuffer.isView(v) &&
    !(v instanceof ArrayBuffer) &&
    !(v instanceof Map) &&
    !(v instanceof Set)
  );
}

/** The builder for a Delta type and its Arrow type (as `deltaTypeToArrow` gives it). */
export function createColumnBuilder(
  type: DataType,
  arrowType: ArrowDataType,
  nullable: boolean,
  ctx: BuilderContext,
): ColumnBuilder {
  switch (type.type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'float':
    case 'double':
    case 'date':
      return new NumberBuilder(type, arrowType, nullable);
    case 'long':
      return new LongBuilder(type, arrowType, nullable);
    case 'timestamp':
    case 'timestamp_ntz':
      return new TimestampBuilder(type, arrowType, nullable, ctx.timestampFactor);
    case 'decimal':
      return new DecimalBuilder(type, arrowType, nullable);
    case 'boolean':
      return new BoolBuilder(type, arrowType, nullable);
    case 'string':
      return new Utf8Builder(type, arrowType, nullable);
    case 'binary':
      return new BinaryBuilder(type, arrowType, nullable);
    case 'array':
      return new ListBuilder(type as ArrayType, arrowType as List, nullable, ctx);
    case 'map':
      return new MapBuilder(type as MapType, arrowType as Map_, nullable, ctx);
    case 'struct':
      return new StructBuilder(type as StructType, arrowType as Struct, nullable, ctx);
    default:
      throw new WeirError('UNSUPPORTED_TYPE', `type ${type.type} cannot be built from records`, {
        details: { type: type.type },
      });
  }
}

/** struct -> Struct; also the root of a record batch. */
export class StructBuilder extends ColumnBuilder {
  readonly children: ColumnBuilder[];
  private readonly names: string[];
  /** Per field: its name is also a property of Object.prototype. */
  private readonly inherited: boolean[];
  private readonly known: Set<string>;

  constructor(
    type: StructType,
    arrowType: Struct,
    nullable: boolean,
    private readonly ctx: BuilderContext,
  ) {
    super(type, arrowType, nullable);
    const arrowFields = arrowType.children as Field[];
    this.names = type.fields.map((f) => f.name);
    this.inherited = this.names.map((n) => n in Object.prototype);
    this.known = new Set(this.names);
    this.children = type.fields.map((f, k) =>
      createColumnBuilder(f.type, arrowFields[k]!.type as ArrowDataType, f.nullable, ctx),
    );
  }

  appendValue(v: unknown): void {
    if (!isRecordObject(v)) throw fail(this.type, v, 'expected an object');
    this.appendFields(v);
    this.validity.valid(this.length);
    this.length++;
  }

  /** Appends one value per field from the object's properties (missing -> null). */
  appendFields(obj: Record<string, unknown>): void {
    const { children, names, inherited } = this;
    let present = 0;
    for (let k = 0; k < children.length; k++) {
      const name = names[k]!;
      const v = inherited[k] && !Object.hasOwn(obj, name) ? undefined : obj[name];
      if (v !== undefined) present++;
      try {
        children[k]!.append(v);
      } catch (err) {
        throw withSegment(err, name);
      }
    }
    if (!this.ctx.ignoreUnknownFields) {
      let keys = 0;
      for (const _key in obj) keys++;
      if (keys !== present) this.checkUnknownFields(obj);
    }
  }

  /** Counts a row whose fields the caller appended to every child itself (one value each). */
  commitRow(): void {
    this.validity.valid(this.length);
    this.length++;
  }

  private checkUnknownFields(obj: Record<string, unknown>): void {
    for (const key in obj) {
      if (this.known.has(key) || !Object.hasOwn(obj, key)) continue;
      const failure = new CoercionFailure(
        null,
        obj[key],
        'not a field of the schema (the ignoreUnknownFields option drops unknown fields)',
      );
      failure.path.push(key);
      throw failure;
    }
  }

  appendNull(): void {
    for (const child of this.children) child.appendNull();
    this.validity.invalid(this.length);
    this.length++;
  }

  truncate(n: number): void {
    this.validity.truncate(n, this.length);
    this.length = Math.min(n, this.length);
    for (const child of this.children) child.truncate(this.length);
  }

  /** The children's Data, then resets (the root batch uses this). */
  finishChildren(): AnyData[] {
    this.length = 0;
    this.validity.finish(0);
    return this.children.map((c) => c.finish());
  }

  finish(): AnyData {
    const length = this.length;
    const validity = this.validity.finish(length);
    const children = this.children.map((c) => c.finish());
    this.length = 0;
    return makeData({ type: this.arrowType, length, ...validity, children } as never);
  }

  byteSize(): number {
    let total = this.validity.byteSize(this.length);
    for (const child of this.children) total += child.byteSize();
    return total;
  }
}

/** Offsets and validity shared by list and map builders. */
abstract class OffsetsBuilder extends ColumnBuilder {
  protected offsets = new Int32Array(17);

  /** Child entries in use (the end offset of the last row). */
  protected abstract childLength(): number;
  protected abstract truncateChildren(n: number): void;

  protected commit(valid: boolean): void {
    const i = this.length;
    if (i + 2 > this.offsets.length) this.offsets = grow(this.offsets, i + 2);
    this.offsets[i + 1] = this.childLength();
    if (valid) this.validity.valid(i);
    else this.validity.invalid(i);
    this.length = i + 1;
  }

  appendNull(): void {
    this.commit(false);
  }

  truncate(n: number): void {
    this.validity.truncate(n, this.length);
    this.length = Math.min(n, this.length);
    this.truncateChildren(this.offsets[this.length]!);
  }

  protected finishWith(child: AnyData): AnyData {
    const length = this.length;
    const valueOffsets = this.offsets.slice(0, length + 1);
    this.length = 0;
    return makeData({
      type: this.arrowType,
      length,
      ...this.validity.finish(length),
      valueOffsets,
      child,
    } as never);
  }

  protected offsetsByteSize(): number {
    return this.length === 0 ? 0 : 4 * (this.length + 1) + this.validity.byteSize(this.length);
  }
}

/** array -> List<element>. */
export class ListBuilder extends OffsetsBuilder {
  private readonly child: ColumnBuilder;

  constructor(type: ArrayType, arrowType: List, nullable: boolean, ctx: BuilderContext) {
    super(type, arrowType, nullable);
    const element = arrowType.children[0]!;
    this.child = createColumnBuilder(type.elementType, element.type as ArrowDataType, type.containsNull, ctx);
  }

  appendValue(v: unknown): void {
    if (!Array.isArray(v)) throw fail(this.type, v, 'expected an array');
    const child = this.child;
    for (let i = 0; i < v.length; i++) {
      try {
        child.append(v[i]);
      } catch (err) {
        throw withSegment(err, `[${i}]`);
      }
    }
    this.commit(true);
  }

  protected childLength(): number {
    return this.child.length;
  }

  protected truncateChildren(n: number): void {
    this.child.truncate(n);
  }

  finish(): AnyData {
    return this.finishWith(this.child.finish());
  }

  byteSize(): number {
    return this.offsetsByteSize() + this.child.byteSize();
  }
}

function shortKey(k: unknown): string {
  const s = displayValue(k);
  return s.length <= 40 ? s : `${s.slice(0, 39)}…`;
}

/** map -> Map_<entries{key, value}>; from objects, [key, value] pair arrays or JS Maps. */
export class MapBuilder extends OffsetsBuilder {
  private readonly keys: ColumnBuilder;
  private readonly values: ColumnBuilder;
  private readonly entriesType: ArrowDataType;

  constructor(type: MapType, arrowType: Map_, nullable: boolean, ctx: BuilderContext) {
    super(type, arrowType, nullable);
    const entries = arrowType.children[0]!.type as Struct;
    this.entriesType = entries;
    const [keyField, valueField] = entries.children as Field[];
    this.keys = createColumnBuilder(type.keyType, keyField!.type as ArrowDataType, false, ctx);
    this.values = createColumnBuilder(
      type.valueType,
      valueField!.type as ArrowDataType,
      type.valueContainsNull,
      ctx,
    );
  }

  private entry(k: unknown, v: unknown): void {
    if (k === null || k === undefined)
      throw withSegment(fail((this.type as MapType).keyType, k, 'a map key cannot be null'), '[key null]');
    try {
      this.keys.append(k);
    } catch (err) {
      throw withSegment(err, `[key ${shortKey(k)}]`);
    }
    try {
      this.values.append(v);
    } catch (err) {
      throw withSegment(err, `[${shortKey(k)}]`);
    }
  }

  appendValue(v: unknown): void {
    const start = this.keys.length;
    if (v instanceof Map) {
      for (const [k, value] of v) this.entry(k, value);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const pair: unknown = v[i];
        if (!Array.isArray(pair) || pair.length !== 2)
          throw fail(this.type, v, `entry ${i} is not a [key, value] pair`);
        this.entry(pair[0], pair[1]);
      }
    } else if (isRecordObject(v)) {
      for (const k of Object.keys(v)) this.entry(k, v[k]);
    } else throw fail(this.type, v, 'expected an object, an array of [key, value] pairs or a Map');
    if (this.keys.length - start > 1) this.checkDuplicates(v, start);
    this.commit(true);
  }

  private checkDuplicates(v: unknown, start: number): void {
    const seen = new Set<unknown>();
    for (let i = start; i < this.keys.length; i++) {
      const id = this.keys.keyAt(i);
      if (id === undefined) return;
      if (seen.has(id)) {
        const original =
          v instanceof Map
            ? [...v.keys()][i - start]
            : Array.isArray(v)
              ? (v[i - start] as unknown[])[0]
              : Object.keys(v as object)[i - start];
        throw fail(this.type, v, `duplicate map key ${shortKey(original)}`);
      }
      seen.add(id);
    }
  }

  protected childLength(): number {
    return this.keys.length;
  }

  protected truncateChildren(n: number): void {
    this.keys.truncate(n);
    this.values.truncate(n);
  }

  finish(): AnyData {
    const length = this.keys.length;
    const children = [this.keys.finish(), this.values.finish()];
    const entries = makeData({ type: this.entriesType, length, nullCount: 0, children } as never);
    return this.finishWith(entries);
  }

  byteSize(): number {
    return this.offsetsByteSize() + this.keys.byteSize() + this.values.byteSize();
  }
}
