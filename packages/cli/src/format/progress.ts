/**
 * The progress bar of long-running commands (`weir write`): input bytes read out of the file
 * size, rows written and rows/s, drawn with cli-progress on stderr.
 *
 * Invariants: a bar exists only when the CLI runs on a terminal (`io.isTTY`); otherwise
 * `createProgressBar` returns undefined and nothing is drawn (pipes and logs stay clean).
 * `stop()` clears the bar's line (so the command's summary line stands alone), is idempotent,
 * and must be called on every path, since the bar's redraw timer keeps the process alive.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { CliIo } from '../context.js';
import { formatBytes } from './bytes.js';

export interface ProgressState {
  /** Input bytes consumed so far. */
  bytes: number;
  /** Rows handed to the table writer so far. */
  rows: number;
}

export interface ProgressBar {
  update(state: ProgressState): void;
  stop(): void;
}

export interface ProgressBarOptions {
  /** What is being read, e.g. the input file's name. */
  label: string;
  /** The input's size in bytes (the bar's 100%). */
  totalBytes: number;
  /** Milliseconds since some epoch (tests); default Date.now. */
  now?: () => number;
}

export function formatRate(rows: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return '0';
  const perSecond = (rows * 1000) / elapsedMs;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(0)}k`;
  return perSecond.toFixed(0);
}

/** A progress bar on `io.stderr` when `io.isTTY`, else undefined. */
export function createProgressBar(io: CliIo, options: ProgressBarOptions): ProgressBar | undefined {
  if (!io.isTTY) return undefined;
  const now = options.now ?? Date.now;
  const started = now();
  const total = Math.max(1, options.totalBytes);
  const bar = new SingleBar(
    {
      stream: io.stderr as unknown as NodeJS.WriteStream,
      format: `${options.label} [{bar}] {percentage}% | {done} / {size} | {rows} rows | {rate} rows/s | ETA {eta_formatted}`,
      // No hidden cursor and no SIGINT handler: Ctrl-C must still end the process at once
      // (nothing is committed then) and leave the terminal as it was.
      hideCursor: false,
      clearOnComplete: true,
      barsize: 24,
      etaBuffer: 20,
      gracefulExit: false,
    },
    Presets.shades_classic,
  );
  const payload = (s: ProgressState) => ({
    done: formatBytes(Math.min(s.bytes, total)),
    size: formatBytes(options.totalBytes),
    rows: s.rows.toLocaleString('en-US'),
    rate: formatRate(s.rows, now() - started),
  });
  bar.start(total, 0, payload({ bytes: 0, rows: 0 }));
  let stopped = false;
  return {
    update(state) {
      if (!stopped) bar.update(Math.min(state.bytes, total), payload(state));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
