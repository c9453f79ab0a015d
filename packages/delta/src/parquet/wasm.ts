/**
 * Loads parquet-wasm once, on first use (never at import time), and reads Parquet bytes into
 * apache-arrow tables. The node build of parquet-wasm is CommonJS inside a "type: module"
 * package and cannot be imported from ESM, so we instantiate the ESM build synchronously
 * from its .wasm file.
 *
 * parquet-wasm 0.7's `columns` option is ignored by `readParquet` and yields a schema that
 * does not match the batches in the async reader, so callers project after decoding; row
 * groups are read one at a time to bound memory.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RecordBatch, Table } from 'apache-arrow';
import { parseTable } from 'arrow-js-ffi';
import * as parquetWasm from 'parquet-wasm/esm';

let initialized = false;

export function parquetModule(): typeof parquetWasm {
  if (!initialized) {
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm');
    parquetWasm.initSync({ module: readFileSync(wasmPath) });
    initialized = true;
  }
  return parquetWasm;
}

export interface RowGroupInfo {
  numRows: number;
  /** Compressed bytes of the row group's column chunks. */
  compressedBytes: number;
}

/** The row groups of a Parquet file (rows and compressed size each), from its footer. */
export async function parquetRowGroupInfo(bytes: Uint8Array): Promise<RowGroupInfo[]> {
  const reader = await openParquetBlob(bytesSource(bytes));
  reader.free();
  return [...reader.rowGroups];
}

/** Row counts per row group, from the footer. */
export async function parquetRowGroups(bytes: Uint8Array): Promise<number[]> {
  return (await parquetRowGroupInfo(bytes)).map((g) => g.numRows);
}

/** A Parquet file read lazily through a Blob: only the footer and the row groups asked for are read. */
export interface ParquetBlobReader {
  readonly rowGroups: readonly RowGroupInfo[];
  /** Decodes one row group (or, with no argument, the whole file) into an Arrow table. */
  read(rowGroup?: number, batchSize?: number): Promise<Table>;
  free(): void;
}

/**
 * What parquet-wasm reads a file through: a Blob, or anything with the same `size` and
 * `slice(start, end).arrayBuffer()` (it only calls those). Its promises must never reject: a
 * rejection inside parquet-wasm's reader traps the WebAssembly instance.
 */
export interface BlobSource {
  readonly size: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * File bytes already in memory as a BlobSource: each slice is copied when asked for, so the
 * reader takes only the footer and the row groups it decodes (a Blob would first copy it all).
 */
interface BytesSlice extends BlobSource {
  slice(start: number, end: number): BytesSlice;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export function bytesSource(bytes: Uint8Array): BlobSource {
  const slice = (start: number, end: number, limit: number): BytesSlice => {
    const from = Math.min(limit, Math.max(0, start));
    const to = Math.min(limit, Math.max(from, end));
    return {
      size: to - from,
      slice: (a, b) => slice(from + a, from + b, to),
      arrayBuffer: async () => bytes.slice(from, to).buffer as ArrayBuffer,
    };
  };
  return slice(0, bytes.byteLength, bytes.byteLength);
}

/**
 * Opens a Parquet file held by a Blob (e.g. `fs.openAsBlob(path)`) or read through a
 * BlobSource: the footer is read now, row groups on `read`, so memory holds one decoded row
 * group, never the whole file.
 */
export async function openParquetBlob(blob: Blob | BlobSource): Promise<ParquetBlobReader> {
  const pw = parquetModule();
  const file = await pw.ParquetFile.fromFile(blob as Blob);
  const rowGroups: RowGroupInfo[] = [];
  try {
    const meta = file.metadata();
    for (let i = 0; i < meta.numRowGroups(); i++) {
      const rg = meta.rowGroup(i);
      rowGroups.push({ numRows: rg.numRows(), compressedBytes: rg.compressedSize() });
    }
  } catch (err) {
    file.free();
    throw err;
  }
  return {
    rowGroups,
    async read(rowGroup, batchSize = 65_536) {
      const wasmTable = await file.read({
        ...(rowGroup !== undefined ? { rowGroups: [rowGroup] } : {}),
        batchSize,
      });
      const ffi = wasmTable.intoFFI();
      try {
        return parseTable(
          pw.wasmMemory().buffer,
          ffi.arrayAddrs(),
          ffi.schemaAddr(),
          true,
        ) as unknown as Table;
      } finally {
        ffi.free();
      }
    },
    free: () => file.free(),
  };
}

export interface ReadParquetOptions {
  rowGroups?: number[];
  batchSize?: number;
}

/**
 * Decodes (part of) a Parquet file into an Arrow table. Throws parquet-wasm's error as is.
 * The decoded columns are copied out of WebAssembly memory through the Arrow C data interface
 * (arrow-js-ffi) — cheaper than serializing to IPC and parsing it again — and the WebAssembly
 * side is freed before returning, so nothing keeps pointing into wasm memory.
 */
export function readParquetTable(bytes: Uint8Array, options: ReadParquetOptions = {}): Table {
  const pw = parquetModule();
  const wasmTable = pw.readParquet(bytes, {
    ...(options.rowGroups ? { rowGroups: options.rowGroups } : {}),
    batchSize: options.batchSize ?? 65_536,
  });
  const ffi = wasmTable.intoFFI();
  try {
    return parseTable(pw.wasmMemory().buffer, ffi.arrayAddrs(), ffi.schemaAddr(), true) as unknown as Table;
  } finally {
    ffi.free();
  }
}

export function readParquetBatches(bytes: Uint8Array, options: ReadParquetOptions = {}): RecordBatch[] {
  return readParquetTable(bytes, options).batches;
}
