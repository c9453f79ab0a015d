/**
 * Per-file statistics of a data file being written (PROTOCOL.md "Per-file Statistics"), as Delta
 * on Spark collects them: `{numRecords, minValues, maxValues, nullCount, tightBounds: true}`,
 * nested like the schema, keyed by physical column names.
 *
 * Invariants:
 * - Only the columns `statsColumns` selects (delta.dataSkippingStatsColumns, else the first
 *   delta.dataSkippingNumIndexedCols leaf columns, default 32) have stats. Structs nest; arrays,
 *   maps, booleans and binary get a nullCount only; min/max are kept for the types Spark skips on
 *   (integers, floats, decimal, date, timestamp, timestamp_ntz, string).
 * - A leaf inside a struct counts a row as null when the leaf or any enclosing struct is null, and
 *   its min/max ignore such rows (Spark aggregates `struct.field`).
 * - A column whose values are all null has no min/max entry (Spark's `to_json` drops nulls), but a
 *   struct with eligible leaves is still written (`{}`), and minValues / maxValues are present
 *   whenever some stats column is eligible; nullCount whenever there is a stats column.
 * - Floats: bounds are finite values only; a NaN anywhere drops the max (NaN sorts above every
 *   number in Spark), an infinite bound is dropped (no bound is always safe).
 * - `add` may be called with any number of batches; the result equals that of one concatenated
 *   batch. Collectors of the same layout `merge`. Value formats: see stats-format.ts.
 * - Batch columns are found by logical name (exact, then case-insensitive), then physical name; a
 *   stats column missing from a batch counts as all null for that batch.
 * Pure and synchronous.
 */
import type { DataType as ArrowType, Data, Field, RecordBatch } from 'apache-arrow';
import type { Configuration, FileStats } from '../actions/types.js';
import { statsColumns } from '../log/checkpoint-schema.js';
import { findChildIndex } from '../scan/conform.js';
import { type ColumnMappingMode, columnMappingMode, physicalName } from '../schema/column-mapping.js';
import { formatDate } from '../schema/partition-values.js';
import type { DataType, DecimalType, StructType } from '../schema/types.js';
import { type BoundValue, type MinMaxAccumulator, minMaxAccumulator } from './stats-accumulators.js';
import {
  formatStatsTimestamp,
  javaDecimalString,
  javaFloatString,
  STATS_STRING_PREFIX_LENGTH,
  truncateMaxString,
  truncateMinString,
} from './stats-format.js';

export interface StatsLayout {
  /** The table's logical schema (partition columns included). */
  schema: StructType;
  partitionColumns: readonly string[];
  /** Table properties: stats column selection and (unless `columnMapping` is given) the mode. */
  configuration: Configuration;
  columnMapping?: ColumnMappingMode;
  /** Characters kept of string bounds (Spark's default 32). */
  stringPrefixLength?: number;
}

interface LeafNode {
  kind: 'leaf';
  name: string;
  physical: string;
  type: DataType;
  nulls: number;
  acc: MinMaxAccumulator | undefined;
}

interface StructNode {
  kind: 'struct';
  name: string;
  physical: string;
  fields: StatsNode[];
  /** Some leaf below keeps min/max. */
  hasMinMax: boolean;
}

type StatsNode = LeafNode | StructNode;

function buildNodes(s: StructType, mode: ColumnMappingMode, parent: string): StatsNode[] {
  return s.fields.map((f): StatsNode => {
    const path = parent === '' ? f.name : `${parent}.${f.name}`;
    const physical = physicalName(f, mode, path);
    if (f.type.type === 'struct') {
      const fields = buildNodes(f.type as StructType, mode, path);
      return { kind: 'struct', name: f.name, physical, fields, hasMinMax: fields.some(hasMinMax) };
    }
    return { kind: 'leaf', name: f.name, physical, type: f.type, nulls: 0, acc: minMaxAccumulator(f.type) };
  });
}

function hasMinMax(n: StatsNode): boolean {
  return n.kind === 'struct' ? n.hasMinMax : n.acc !== undefined;
}

function childIndex(fields: readonly Field[], node: StatsNode): number {
  const i = findChildIndex(fields, node.name);
  return i >= 0 || node.physical === node.name ? i : findChildIndex(fields, node.physical);
}

/** Row validity combined with the parent's (1 = the value is present), or undefined = all valid. */
function validity(data: Data<ArrowType>, parent: Uint8Array | undefined): Uint8Array | undefined {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return parent;
  const out = parent ? parent.slice() : new Uint8Array(data.length).fill(1);
  const offset = data.offset;
  for (let i = 0; i < data.length; i++) {
    const pos = offset + i;
    if (((bitmap[pos >> 3]! >> (pos & 7)) & 1) === 0) out[i] = 0;
  }
  return out;
}

function countInvalid(valid: Uint8Array | undefined, length: number): number {
  if (valid === undefined) return 0;
  let n = 0;
  for (let i = 0; i < length; i++) if (valid[i] === 0) n++;
  return n;
}

function addMissing(nodes: readonly StatsNode[], rows: number): void {
  for (const n of nodes) {
    if (n.kind === 'struct') addMissing(n.fields, rows);
    else n.nulls += rows;
  }
}

function addColumns(
  nodes: readonly StatsNode[],
  fields: readonly Field[],
  columns: readonly Data<ArrowType>[],
  parent: Uint8Array | undefined,
  rows: number,
): void {
  for (const node of nodes) {
    const i = childIndex(fields, node);
    const data = i >= 0 ? columns[i] : undefined;
    if (data === undefined) {
      addMissing([node], rows);
      continue;
    }
    const valid = validity(data, parent);
    if (node.kind === 'struct') {
      addColumns(node.fields, data.type.children as Field[], data.children as Data<ArrowType>[], valid, rows);
    } else {
      node.nulls += countInvalid(valid, rows);
      node.acc?.add(data, valid);
    }
  }
}

function mergeNodes(into: readonly StatsNode[], from: readonly StatsNode[]): void {
  into.forEach((n, i) => {
    const o = from[i]!;
    if (n.kind === 'struct' && o.kind === 'struct') mergeNodes(n.fields, o.fields);
    else if (n.kind === 'leaf' && o.kind === 'leaf') {
      n.nulls += o.nulls;
      if (n.acc && o.acc) n.acc.merge(o.acc);
    }
  });
}

/** A bound as a JS value (for FileStats) and as JSON text. */
interface Bound {
  value: unknown;
  json: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined; // not valid UTF-8: no bound rather than a wrong one
  }
}

function text(s: string): Bound {
  return { value: s, json: JSON.stringify(s) };
}

function bound(type: DataType, v: BoundValue, side: 'min' | 'max', prefix: number): Bound | undefined {
  switch (type.type) {
    case 'byte':
    case 'short':
    case 'integer':
      return { value: v, json: String(v) };
    case 'long': {
      const b = v as bigint;
      const safe = b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER);
      return { value: safe ? Number(b) : b, json: b.toString() };
    }
    case 'float':
    case 'double': {
      const n = v as number;
      if (!Number.isFinite(n)) return undefined;
      return { value: n, json: javaFloatString(n, type.type === 'float') };
    }
    case 'decimal': {
      const s = javaDecimalString(v as bigint, (type as DecimalType).scale);
      return { value: s, json: s };
    }
    case 'date':
      return text(formatDate(v as number));
    case 'timestamp':
    case 'timestamp_ntz':
      return text(formatStatsTimestamp(v as bigint, type.type === 'timestamp', side));
    case 'string': {
      const s = decodeUtf8(v as Uint8Array);
      if (s === undefined) return undefined;
      const cut = side === 'min' ? truncateMinString(s, prefix) : truncateMaxString(s, prefix);
      return cut === undefined ? undefined : text(cut);
    }
    default:
      return undefined;
  }
}

function leafBound(n: LeafNode, side: 'min' | 'max', prefix: number): Bound | undefined {
  const acc = n.acc;
  if (acc === undefined) return undefined;
  if (side === 'max' && acc.sawNaN) return undefined;
  const v = side === 'min' ? acc.min : acc.max;
  return v === undefined ? undefined : bound(n.type, v, side, prefix);
}

interface Rendered {
  value: Record<string, unknown>;
  json: string;
}

function renderBounds(nodes: readonly StatsNode[], side: 'min' | 'max', prefix: number): Rendered {
  const value: Record<string, unknown> = {};
  const parts: string[] = [];
  for (const n of nodes) {
    if (n.kind === 'struct') {
      if (!n.hasMinMax) continue;
      const inner = renderBounds(n.fields, side, prefix);
      value[n.physical] = inner.value;
      parts.push(`${JSON.stringify(n.physical)}:${inner.json}`);
    } else {
      const b = leafBound(n, side, prefix);
      if (b === undefined) continue;
      value[n.physical] = b.value;
      parts.push(`${JSON.stringify(n.physical)}:${b.json}`);
    }
  }
  return { value, json: `{${parts.join(',')}}` };
}

function renderNullCounts(nodes: readonly StatsNode[]): Rendered {
  const value: Record<string, unknown> = {};
  const parts: string[] = [];
  for (const n of nodes) {
    if (n.kind === 'struct') {
      if (n.fields.length === 0) continue;
      const inner = renderNullCounts(n.fields);
      value[n.physical] = inner.value;
      parts.push(`${JSON.stringify(n.physical)}:${inner.json}`);
    } else {
      value[n.physical] = n.nulls;
      parts.push(`${JSON.stringify(n.physical)}:${n.nulls}`);
    }
  }
  return { value, json: `{${parts.join(',')}}` };
}

/**
 * Accumulates the stats of one data file over the batches written to it (data columns; partition
 * columns, if present, are ignored). `result()` / `toJson()` may be called at any time.
 */
export class StatsCollector {
  private readonly nodes: StatsNode[];
  private readonly prefix: number;
  private rows = 0;

  constructor(layout: StatsLayout) {
    const mode = layout.columnMapping ?? columnMappingMode(layout.configuration);
    const columns = statsColumns(layout.schema, layout.partitionColumns, layout.configuration);
    this.nodes = buildNodes(columns, mode, '');
    this.prefix = layout.stringPrefixLength ?? STATS_STRING_PREFIX_LENGTH;
  }

  /** Rows seen so far. */
  get numRecords(): number {
    return this.rows;
  }

  add(batch: RecordBatch): void {
    const rows = batch.numRows;
    if (rows === 0) return;
    const columns = batch.data.children as Data<ArrowType>[];
    addColumns(this.nodes, batch.schema.fields, columns, undefined, rows);
    this.rows += rows;
  }

  /** Adds another collector's rows (same layout) to this one. */
  merge(other: StatsCollector): void {
    mergeNodes(this.nodes, other.nodes);
    this.rows += other.rows;
  }

  /** The stats as a value (decimal bounds are their JSON number text, as `parseStats` keeps them). */
  result(): FileStats {
    const out: FileStats = { numRecords: this.rows };
    if (this.nodes.some(hasMinMax)) {
      out.minValues = renderBounds(this.nodes, 'min', this.prefix).value;
      out.maxValues = renderBounds(this.nodes, 'max', this.prefix).value;
    }
    if (this.nodes.length > 0) out.nullCount = renderNullCounts(this.nodes).value;
    out.tightBounds = true;
    return out;
  }

  /**
   * The stats JSON for `add.stats`, in Spark's key order. Written by hand rather than through
   * `stringifyJsonExact`, which cannot write a decimal's scale digits ('10.000') or Java's float
   * forms: each bound is emitted from its exact text.
   */
  toJson(): string {
    const parts = [`"numRecords":${this.rows}`];
    if (this.nodes.some(hasMinMax)) {
      parts.push(`"minValues":${renderBounds(this.nodes, 'min', this.prefix).json}`);
      parts.push(`"maxValues":${renderBounds(this.nodes, 'max', this.prefix).json}`);
    }
    if (this.nodes.length > 0) parts.push(`"nullCount":${renderNullCounts(this.nodes).json}`);
    parts.push('"tightBounds":true');
    return `{${parts.join(',')}}`;
  }
}

/** Stats of the given batches of one file (see `StatsCollector`). */
export function collectStats(batches: Iterable<RecordBatch>, layout: StatsLayout): StatsCollector {
  const collector = new StatsCollector(layout);
  for (const b of batches) collector.add(b);
  return collector;
}
