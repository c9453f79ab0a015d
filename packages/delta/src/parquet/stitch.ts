/**
 * Row-group stitching: one Parquet file made of other Parquet files' row groups, copied byte for
 * byte (no decoding, no re-encoding, no recompression), with a new footer. What compaction uses
 * when its inputs' row groups are already big enough: merging small files this way costs a copy
 * instead of a decode and a ZSTD encode per row.
 *
 * Invariants:
 * - Only files with the same Parquet schema, key-value metadata (Arrow's schema) and column
 *   orders are stitched, none encrypted, none with bloom filters, every column chunk inside the
 *   file's data region before its page indexes (`stitchRefusal` says why not, as a plan
 *   decision rather than an error).
 * - The output is "PAR1", each input's data region in input order, every column index (bytes
 *   unchanged), every offset index (page offsets moved), the footer, its length, "PAR1". Every
 *   file offset in the footer and the offset indexes is moved by where its region landed;
 *   row-group ordinals are renumbered; num_rows is the sum.
 * - The stitcher holds only footers and page indexes, never a row group: data regions are views
 *   of the caller's bytes, handed straight back to be written.
 * Pure and synchronous; the IO is the caller's (maintenance/stitch-bin.ts).
 */
import { concatBytes, WeirError } from '@weir/storage';
import {
  getField,
  getInt,
  getList,
  getStruct,
  readStruct,
  setInt,
  type TList,
  type TStruct,
  TType,
  writeStruct,
} from './thrift-compact.js';

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

// parquet.thrift field ids.
const FMD = {
  version: 1,
  schema: 2,
  numRows: 3,
  rowGroups: 4,
  keyValue: 5,
  createdBy: 6,
  columnOrders: 7,
  encryption: 8,
};
const RG = { columns: 1, numRows: 3, fileOffset: 5, totalCompressed: 6, ordinal: 7 };
const CC = {
  filePath: 1,
  fileOffset: 2,
  meta: 3,
  oiOffset: 4,
  oiLength: 5,
  ciOffset: 6,
  ciLength: 7,
  crypto: 8,
  encrypted: 9,
};
const CMD = { codec: 4, totalCompressed: 7, dataPage: 9, indexPage: 10, dictPage: 11, bloomOffset: 14 };
const PAGE_LOCATIONS = 1;
const PAGE_OFFSET = 1;

/** Parquet's codec ids (CompressionCodec). */
export const PARQUET_CODECS = { uncompressed: 0, snappy: 1, zstd: 6 } as const;

export interface ParquetFooter {
  file: string;
  fileSize: number;
  /** FileMetaData. */
  meta: TStruct;
  /** Where the footer starts (its bytes run to fileSize - 8). */
  metaStart: number;
}

function corrupt(file: string, why: string, cause?: unknown): WeirError {
  return new WeirError('CORRUPT_DATA_FILE', `${file}: not a readable Parquet file: ${why}`, {
    details: { file },
    ...(cause !== undefined ? { cause } : {}),
  });
}

/**
 * The footer from the last bytes of a file (`tail`, of a file of `fileSize` bytes), or how many
 * last bytes are needed when `tail` is too short to hold it.
 */
export function parseParquetFooter(
  tail: Uint8Array,
  fileSize: number,
  file: string,
): ParquetFooter | { needBytes: number } {
  if (fileSize < 12 || tail.length < 8) throw corrupt(file, `only ${fileSize} bytes`);
  const n = tail.length;
  for (let i = 0; i < 4; i++) if (tail[n - 4 + i] !== MAGIC[i]) throw corrupt(file, 'no PAR1 at the end');
  const len = new DataView(tail.buffer, tail.byteOffset + n - 8, 4).getUint32(0, true);
  if (len + 12 > fileSize) throw corrupt(file, `footer length ${len} exceeds the file`);
  if (len + 8 > n) return { needBytes: len + 8 };
  let meta: TStruct;
  try {
    meta = readStruct(tail, n - 8 - len, n - 8).struct;
  } catch (err) {
    throw corrupt(file, 'footer does not decode', err);
  }
  return { file, fileSize, meta, metaStart: fileSize - 8 - len };
}

function rowGroups(meta: TStruct): TStruct[] {
  return (getList(meta, FMD.rowGroups)?.items ?? []) as TStruct[];
}

function columns(rowGroup: TStruct): TStruct[] {
  return (getList(rowGroup, RG.columns)?.items ?? []) as TStruct[];
}

/** Rows in the file, from its row groups. */
export function footerRows(footer: ParquetFooter): number {
  let rows = 0n;
  for (const rg of rowGroups(footer.meta)) rows += getInt(rg, RG.numRows) ?? 0n;
  return Number(rows);
}

/** The codec id (Parquet's CompressionCodec) of the file's first column chunk. */
export function footerCodec(footer: ParquetFooter): number | undefined {
  const group = rowGroups(footer.meta)[0];
  const chunk = group && columns(group)[0];
  const meta = chunk && getStruct(chunk, CC.meta);
  const codec = meta && getInt(meta, CMD.codec);
  return codec === undefined ? undefined : Number(codec);
}

/** The bytes a footer field encodes to (for comparing fields across files); empty when absent. */
function fieldBytes(meta: TStruct, id: number): string {
  const f = getField(meta, id);
  if (!f) return '';
  return Buffer.from(writeStruct({ fields: [f] })).toString('base64');
}

interface ChunkSpan {
  start: number;
  end: number;
}

function chunkSpan(chunk: TStruct, file: string): ChunkSpan {
  const meta = getStruct(chunk, CC.meta);
  if (!meta) throw corrupt(file, 'a column chunk has no metadata');
  const data = getInt(meta, CMD.dataPage);
  const dict = getInt(meta, CMD.dictPage);
  const size = getInt(meta, CMD.totalCompressed);
  if (data === undefined || size === undefined)
    throw corrupt(file, 'a column chunk has no data page offset or size');
  const start = dict !== undefined && dict > 0n && dict < data ? dict : data;
  return { start: Number(start), end: Number(start + size) };
}

/** End of the file's data region: the furthest end of any column chunk. */
function dataEnd(footer: ParquetFooter): number {
  let end = MAGIC.length;
  for (const rg of rowGroups(footer.meta))
    for (const c of columns(rg)) end = Math.max(end, chunkSpan(c, footer.file).end);
  return end;
}

export interface StitchCriteria {
  /** Mean compressed bytes per row group the inputs must reach together. */
  minRowGroupBytes: number;
  /** The codec every column chunk must use (Parquet's id), when the output must use one. */
  codec?: number;
}

/**
 * Why these files cannot be stitched into one, or undefined when they can. A file that is not
 * valid Parquet is an error (CORRUPT_DATA_FILE), not a refusal.
 */
export function stitchRefusal(
  footers: readonly ParquetFooter[],
  criteria: StitchCriteria,
): string | undefined {
  if (footers.length === 0) return 'no inputs';
  const first = footers[0]!.meta;
  const schema = fieldBytes(first, FMD.schema);
  const keyValue = fieldBytes(first, FMD.keyValue);
  const orders = fieldBytes(first, FMD.columnOrders);
  let groups = 0;
  let bytes = 0;
  for (const f of footers) {
    if (getField(f.meta, FMD.encryption)) return `${f.file} is encrypted`;
    if (fieldBytes(f.meta, FMD.schema) !== schema) return `${f.file} has another Parquet schema`;
    if (fieldBytes(f.meta, FMD.keyValue) !== keyValue) return `${f.file} has other key-value metadata`;
    if (fieldBytes(f.meta, FMD.columnOrders) !== orders) return `${f.file} has other column orders`;
    const end = dataEnd(f);
    for (const rg of rowGroups(f.meta)) {
      groups++;
      for (const c of columns(rg)) {
        const span = chunkSpan(c, f.file);
        bytes += span.end - span.start;
        if (span.start < MAGIC.length || span.end > f.metaStart)
          throw corrupt(f.file, 'a column chunk lies outside the file');
        if (getField(c, CC.filePath)) return `${f.file} refers to column chunks in other files`;
        if (getField(c, CC.crypto) || getField(c, CC.encrypted)) return `${f.file} has encrypted columns`;
        const meta = getStruct(c, CC.meta)!;
        if (getField(meta, CMD.bloomOffset)) return `${f.file} has bloom filters`;
        if (criteria.codec !== undefined && getInt(meta, CMD.codec) !== BigInt(criteria.codec))
          return `${f.file} uses another compression codec`;
        for (const [off, len] of [
          [CC.ciOffset, CC.ciLength],
          [CC.oiOffset, CC.oiLength],
        ] as const) {
          const o = getInt(c, off);
          const l = getInt(c, len);
          if (o === undefined) continue;
          if (l === undefined || o < BigInt(end) || o + l > BigInt(f.metaStart))
            return `${f.file} has page indexes inside its data region`;
        }
      }
    }
  }
  if (groups === 0) return 'the inputs hold no row groups';
  if (bytes / groups < criteria.minRowGroupBytes)
    return `row groups average ${Math.round(bytes / groups)} bytes, below ${criteria.minRowGroupBytes}`;
  return undefined;
}

function shift(s: TStruct, id: number, by: bigint): void {
  const v = getInt(s, id);
  if (v !== undefined && v >= BigInt(MAGIC.length)) setInt(s, id, v + by);
}

interface PendingIndex {
  chunk: TStruct;
  columnIndex: Uint8Array | undefined;
  offsetIndex: TStruct | undefined;
}

/**
 * Builds a stitched file: `head()`, then `append()` per input (in order), then `tail()`; write
 * what each returns, in that order. Inputs must have passed `stitchRefusal`.
 */
export class ParquetStitcher {
  private readonly groups: TStruct[] = [];
  private readonly indexes: PendingIndex[] = [];
  private position = 0;
  private numRows = 0n;
  private template: TStruct | undefined;

  /** Rows in the row groups appended so far. */
  get rows(): number {
    return Number(this.numRows);
  }

  /** Bytes returned so far. */
  get size(): number {
    return this.position;
  }

  head(): Uint8Array {
    if (this.position !== 0) throw new WeirError('INVALID_ARGUMENT', 'stitch: head() must come first');
    this.position = MAGIC.length;
    return MAGIC.slice();
  }

  /**
   * Takes one input: `body` holds its bytes [4, metaStart). Returns the view of its data region
   * to write next. The footer is modified in place (it belongs to the stitcher from here on).
   */
  append(footer: ParquetFooter, body: Uint8Array): Uint8Array {
    if (this.position === 0) throw new WeirError('INVALID_ARGUMENT', 'stitch: head() must come first');
    if (body.length !== footer.metaStart - MAGIC.length) {
      throw corrupt(
        footer.file,
        `expected ${footer.metaStart - MAGIC.length} bytes before the footer, got ${body.length}`,
      );
    }
    this.template ??= footer.meta;
    const end = dataEnd(footer);
    const by = BigInt(this.position - MAGIC.length);
    const at = (offset: bigint, length: bigint): Uint8Array =>
      body.subarray(Number(offset) - MAGIC.length, Number(offset + length) - MAGIC.length);
    for (const rg of rowGroups(footer.meta)) {
      shift(rg, RG.fileOffset, by);
      if (getField(rg, RG.ordinal)) setInt(rg, RG.ordinal, BigInt(this.groups.length));
      this.numRows += getInt(rg, RG.numRows) ?? 0n;
      for (const c of columns(rg)) {
        shift(c, CC.fileOffset, by);
        const meta = getStruct(c, CC.meta)!;
        for (const id of [CMD.dataPage, CMD.indexPage, CMD.dictPage]) shift(meta, id, by);
        const ciOffset = getInt(c, CC.ciOffset);
        const oiOffset = getInt(c, CC.oiOffset);
        let offsetIndex: TStruct | undefined;
        if (oiOffset !== undefined) {
          const bytes = at(oiOffset, getInt(c, CC.oiLength)!);
          try {
            offsetIndex = readStruct(bytes).struct;
          } catch (err) {
            throw corrupt(footer.file, 'an offset index does not decode', err);
          }
          for (const loc of (getList(offsetIndex, PAGE_LOCATIONS)?.items ?? []) as TStruct[])
            shift(loc, PAGE_OFFSET, by);
        }
        this.indexes.push({
          chunk: c,
          columnIndex: ciOffset === undefined ? undefined : at(ciOffset, getInt(c, CC.ciLength)!).slice(),
          offsetIndex,
        });
      }
      this.groups.push(rg);
    }
    const region = body.subarray(0, end - MAGIC.length);
    this.position += region.length;
    return region;
  }

  /** The page indexes and the footer: the file's last bytes. */
  tail(): Uint8Array {
    if (!this.template) throw new WeirError('INVALID_ARGUMENT', 'stitch: nothing appended');
    const parts: Uint8Array[] = [];
    let at = this.position;
    const place = (bytes: Uint8Array): bigint => {
      parts.push(bytes);
      const offset = BigInt(at);
      at += bytes.length;
      return offset;
    };
    for (const ix of this.indexes) {
      if (!ix.columnIndex) continue;
      setInt(ix.chunk, CC.ciOffset, place(ix.columnIndex));
      setInt(ix.chunk, CC.ciLength, BigInt(ix.columnIndex.length), TType.I32);
    }
    for (const ix of this.indexes) {
      if (!ix.offsetIndex) continue;
      const bytes = writeStruct(ix.offsetIndex);
      setInt(ix.chunk, CC.oiOffset, place(bytes));
      setInt(ix.chunk, CC.oiLength, BigInt(bytes.length), TType.I32);
    }
    const t = this.template;
    const keep = (id: number) => getField(t, id);
    const fields = [
      keep(FMD.version),
      keep(FMD.schema),
      { id: FMD.numRows, type: TType.I64, value: this.numRows },
      {
        id: FMD.rowGroups,
        type: TType.LIST,
        value: { elemType: TType.STRUCT, items: this.groups } satisfies TList,
      },
      keep(FMD.keyValue),
      keep(FMD.createdBy),
      keep(FMD.columnOrders),
    ].filter((f) => f !== undefined);
    const footer = writeStruct({ fields });
    parts.push(footer);
    const trailer = new Uint8Array(8);
    new DataView(trailer.buffer).setUint32(0, footer.length, true);
    trailer.set(MAGIC, 4);
    parts.push(trailer);
    const out = concatBytes(parts);
    this.position += out.length;
    return out;
  }
}
