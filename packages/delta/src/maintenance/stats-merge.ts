/**
 * Per-file stats of a file that holds exactly the rows of other files (a stitched compaction
 * output), from those files' stats alone: no row is read.
 *
 * Invariants:
 * - numRecords is the rows the output holds (given by the caller, from its footer).
 * - A column's min (max) is the smallest (largest) input bound, compared as typed values
 *   (`statsValueToScalar`, code point order for strings), and written as that input wrote it;
 *   an input whose column is all null does not bound it; an input without a bound for a column
 *   that is not all null leaves the output without one (stats are hints: missing is safe, wrong
 *   is not).
 * - nullCount is the sum, present only when every input has it.
 * - tightBounds is false when any input's is false, true when some input says true and none
 *   false, absent otherwise.
 * - Keys follow the (physical) schema's order, nested like the schema.
 * Pure and synchronous.
 */
import type { FileStats } from '../actions/types.js';
import { compareScalars } from '../expr/values.js';
import type { ScalarValue } from '../schema/partition-values.js';
import { statsValueToScalar } from '../schema/stats-values.js';
import type { DataType, StructField, StructType } from '../schema/types.js';

type Obj = Readonly<Record<string, unknown>>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function count(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v >= 0n ? v : undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return undefined;
}

interface Level {
  min: (Obj | undefined)[];
  max: (Obj | undefined)[];
  nulls: (Obj | undefined)[];
  rows: (number | undefined)[];
}

function child(objs: readonly (Obj | undefined)[], name: string): (Obj | undefined)[] {
  return objs.map((o) => {
    const v = o?.[name];
    return isObj(v) ? v : undefined;
  });
}

function bound(level: Level, name: string, type: DataType, side: 'min' | 'max'): unknown {
  let best: { scalar: Exclude<ScalarValue, null>; raw: unknown } | undefined;
  const values = side === 'min' ? level.min : level.max;
  for (let i = 0; i < values.length; i++) {
    const raw = values[i]?.[name];
    if (raw === undefined || raw === null) {
      // An all-null column bounds nothing; a missing bound for a column with values is unknown.
      const nulls = count(level.nulls[i]?.[name]);
      const rows = level.rows[i];
      if (nulls !== undefined && rows !== undefined && nulls === BigInt(rows)) continue;
      return undefined;
    }
    const scalar = statsValueToScalar(raw, type);
    if (scalar === undefined || scalar === null) return undefined;
    const c = best === undefined ? 0 : compareScalars(scalar, best.scalar);
    if (best === undefined || (side === 'min' ? c < 0 : c > 0)) best = { scalar, raw };
  }
  return best?.raw;
}

function mergeLevel(fields: readonly StructField[], level: Level): { min: Obj; max: Obj; nulls: Obj } {
  const min: Record<string, unknown> = {};
  const max: Record<string, unknown> = {};
  const nulls: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.type.type === 'struct') {
      const inner = mergeLevel((f.type as StructType).fields, {
        min: child(level.min, f.name),
        max: child(level.max, f.name),
        nulls: child(level.nulls, f.name),
        // A nested column's all-null test uses the file's rows: a null struct nulls its fields.
        rows: level.rows,
      });
      if (Object.keys(inner.min).length > 0) min[f.name] = inner.min;
      if (Object.keys(inner.max).length > 0) max[f.name] = inner.max;
      if (Object.keys(inner.nulls).length > 0) nulls[f.name] = inner.nulls;
      continue;
    }
    let sum = 0n;
    for (const n of level.nulls) {
      const c = count(n?.[f.name]);
      if (c === undefined) {
        sum = -1n;
        break;
      }
      sum += c;
    }
    if (sum >= 0n) nulls[f.name] = sum <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sum) : sum;
    const lo = bound(level, f.name, f.type, 'min');
    const hi = bound(level, f.name, f.type, 'max');
    if (lo !== undefined) min[f.name] = lo;
    if (hi !== undefined) max[f.name] = hi;
  }
  return { min, max, nulls };
}

/**
 * The stats of a file holding the rows of files with `inputs` stats (`undefined`: no stats);
 * `columns` is the data files' physical schema.
 */
export function mergeFileStats(
  inputs: readonly (FileStats | undefined)[],
  columns: StructType,
  numRecords: number,
): FileStats {
  const out: FileStats = { numRecords };
  if (inputs.length === 0 || inputs.some((s) => s === undefined)) return out;
  const stats = inputs as readonly FileStats[];
  const merged = mergeLevel(columns.fields, {
    min: stats.map((s) => s.minValues),
    max: stats.map((s) => s.maxValues),
    nulls: stats.map((s) => s.nullCount),
    rows: stats.map((s) => s.numRecords),
  });
  if (Object.keys(merged.min).length > 0) out.minValues = merged.min;
  if (Object.keys(merged.max).length > 0) out.maxValues = merged.max;
  if (Object.keys(merged.nulls).length > 0) out.nullCount = merged.nulls;
  if (stats.some((s) => s.tightBounds === false)) out.tightBounds = false;
  else if (stats.some((s) => s.tightBounds === true)) out.tightBounds = true;
  return out;
}
