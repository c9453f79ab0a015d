/**
 * The CPU that parquet-wasm itself needs to compact a table's files, in a fresh process, for the
 * `optimize` bench: the floor under any compaction built on it, whatever runs around the codec.
 * Usage:
 *   codec-floor-child.ts <tableDir> <file> [<file> ...]   (file paths relative to tableDir)
 * Prints one JSON line (see `Floor`).
 *
 * - decode: every file's bytes (read into memory beforehand, untimed) through `pw.readParquet`,
 *   the result freed at once: WebAssembly decoding alone, nothing copied out to JS.
 * - encode: the decoded rows, in parts of about PART_ROWS rows, each built beforehand (untimed)
 *   as batches coalesced as Weir's encoder coalesces them (about 65,536 rows) and copied into
 *   WebAssembly memory, then timed through `transformParquetStream` (ZSTD) with each writer
 *   configuration of `CONFIGS` (Weir's `encodeSettings` and variations of it); the floor takes
 *   the cheapest configuration, so it is a bound for any choice of encoder settings, not only
 *   Weir's. An untimed warm-up encode of the first file under every configuration comes first,
 *   so the configuration measured first does not pay for the encoder's first use.
 * CPU is the whole process's (`process.cpuUsage`: V8's helper threads, such as its garbage
 * collector's, count too); the codec runs on the main thread, and nothing else runs in the process
 * while a pass is timed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type RecordBatch, Table, tableToIPC } from 'apache-arrow';
// Not exported from the package entry point: the codec steps compaction runs.
import { parquetModule, readParquetTable } from '../../packages/delta/src/parquet/wasm.js';
import {
  coalesced,
  type EncodeSettings,
  encodeSettings,
  writerProperties,
} from '../../packages/delta/src/write/parquet-file.js';

const PART_ROWS = 1_000_000;

type Pw = ReturnType<typeof parquetModule>;
type Props = ReturnType<typeof writerProperties>;

/** The same settings as `base`, with other statistics and dictionary choices. */
function variant(pw: Pw, base: EncodeSettings, statistics: number, dictionaries: boolean): Props {
  let b = new pw.WriterPropertiesBuilder()
    .setWriterVersion(pw.WriterVersion.V1)
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(base.maxRowGroupRows)
    .setDictionaryEnabled(dictionaries)
    .setStatisticsEnabled(statistics);
  if (dictionaries) for (const name of base.plainColumns) b = b.setColumnDictionaryEnabled(name, false);
  return b.build();
}

/**
 * Writer configurations tried, all ZSTD: Weir's own (`writerProperties` of `encodeSettings`:
 * page statistics, dictionaries except for columns whose values rarely repeat), then cheaper ones.
 */
const CONFIGS: Record<string, (pw: Pw, base: EncodeSettings) => Props> = {
  weir: (pw, base) => writerProperties(pw, base),
  chunkStatistics: (pw, base) => variant(pw, base, pw.EnabledStatistics.Chunk, true),
  noStatistics: (pw, base) => variant(pw, base, pw.EnabledStatistics.None, true),
  noDictionaryNoStatistics: (pw, base) => variant(pw, base, pw.EnabledStatistics.None, false),
};

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Floor {
  files: number;
  rows: number;
  decodeMs: number;
  decodeCpuMs: number;
  /** Per configuration: wall and CPU ms of encoding every part, and the bytes written. */
  encode: Record<string, { ms: number; cpuMs: number; bytes: number }>;
  cheapestEncode: string;
  /** decodeCpuMs + the cheapest configuration's encode CPU. */
  floorCpuMs: number;
}

async function encodePart(pw: Pw, wasmBatches: unknown[], props: Props) {
  let i = 0;
  const input = new ReadableStream({
    pull(controller) {
      if (i >= wasmBatches.length) controller.close();
      else controller.enqueue(wasmBatches[i++]);
    },
  });
  const output = (await pw.transformParquetStream(
    input as ReadableStream,
    props,
  )) as ReadableStream<Uint8Array>;
  const reader = output.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

/**
 * Encodes `batches` under every configuration: copies them into WebAssembly memory (untimed)
 * once per configuration, since the stream takes the batches it is given; `onEncoded` gets
 * the timing of each.
 */
async function encodeEach(
  pw: Pw,
  batches: RecordBatch[],
  onEncoded: (name: string, ms: number, cpuMs: number, bytes: number) => void,
): Promise<void> {
  // The batches as Weir's encoder takes them: coalesced to about 65,536 rows.
  const grouped = [...coalesced(batches)];
  const settings = encodeSettings(grouped[0]!.schema, grouped, { compression: 'zstd' });
  const ipcs = grouped.map((b) => tableToIPC(new Table([b]), 'stream'));
  for (const [name, config] of Object.entries(CONFIGS)) {
    const tables = ipcs.map((ipc) => pw.Table.fromIPCStream(ipc));
    const wasmBatches = tables.flatMap((t) => t.recordBatches());
    const props = config(pw, settings);
    const started = performance.now();
    const cpu = cpuMs();
    const bytes = await encodePart(pw, wasmBatches, props);
    onEncoded(name, performance.now() - started, cpuMs() - cpu, bytes);
    for (const t of tables) t.free();
  }
}

const [dir, ...files] = process.argv.slice(2);
if (!dir || files.length === 0) throw new Error('usage: codec-floor-child.ts <tableDir> <file>...');
const pw = parquetModule();
const contents = files.map((f) => readFileSync(path.join(dir, f)));

const started = performance.now();
const cpu = cpuMs();
for (const bytes of contents) pw.readParquet(bytes).free();
const decodeMs = performance.now() - started;
const decodeCpuMs = cpuMs() - cpu;

const encode: Floor['encode'] = {};
for (const name of Object.keys(CONFIGS)) encode[name] = { ms: 0, cpuMs: 0, bytes: 0 };
// Untimed warm-up on the first file, so no configuration pays for the encoder's first use.
await encodeEach(pw, readParquetTable(contents[0]!).batches, () => {});
let rows = 0;
let next = 0;
while (next < contents.length) {
  // One part, decoded to JS (untimed).
  const batches: RecordBatch[] = [];
  let partRows = 0;
  while (next < contents.length && partRows < PART_ROWS) {
    for (const b of readParquetTable(contents[next++]!).batches) {
      batches.push(b);
      partRows += b.numRows;
    }
  }
  rows += partRows;
  await encodeEach(pw, batches, (name, ms, cpuUsed, bytes) => {
    encode[name]!.ms += ms;
    encode[name]!.cpuMs += cpuUsed;
    encode[name]!.bytes += bytes;
  });
}
const cheapestEncode = Object.entries(encode).sort((a, b) => a[1].cpuMs - b[1].cpuMs)[0]![0];
const floor: Floor = {
  files: files.length,
  rows,
  decodeMs,
  decodeCpuMs,
  encode,
  cheapestEncode,
  floorCpuMs: decodeCpuMs + encode[cheapestEncode]!.cpuMs,
};
process.stdout.write(`${JSON.stringify(floor)}\n`);
