/**
 * The progress bar of maintenance commands (`weir optimize`, `weir vacuum`): files done out of
 * the total, bytes done out of the total (the bar's 100%), byte rate and ETA, drawn with
 * cli-progress on stderr.
 *
 * Invariants: a bar exists only when the CLI runs on a terminal (`io.isTTY`); otherwise
 * `createWorkProgressBar` returns undefined and nothing is drawn. `stop()` clears the bar's line
 * (the summary line stands alone), is idempotent, and must be called on every path, since the
 * bar's redraw timer keeps the process alive.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { CliIo } from '../context.js';
import { formatBytes } from './bytes.js';

export interface WorkProgressState {
  files: number;
  bytes: number;
}

export interface WorkProgressBar {
  update(state: WorkProgressState): void;
  stop(): void;
}

export interface WorkProgressOptions {
  /** What is being done, e.g. 'optimize'. */
  label: string;
  totalFiles: number;
  totalBytes: number;
  /** Milliseconds since some epoch (tests); default Date.now. */
  now?: () => number;
}

/** Bytes per second as `12.3 MiB/s`. */
export function formatByteRate(bytes: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return `${formatBytes(0)}/s`;
  return `${formatBytes(Math.round((bytes * 1000) / elapsedMs))}/s`;
}

/** A progress bar on `io.stderr` when `io.isTTY`, else undefined. */
export function createWorkProgressBar(io: CliIo, options: WorkProgressOptions): WorkProgressBar | undefined {
  if (!io.isTTY) return undefined;
  const now = options.now ?? Date.now;
  const started = now();
  const total = Math.max(1, options.totalBytes);
  const bar = new SingleBar(
    {
      stream: io.stderr as unknown as NodeJS.WriteStream,
      format: `${options.label} [{bar}] {percentage}% | {files} / {totalFiles} files | {done} / {size} | {rate} | ETA {eta_formatted}`,
      // No hidden cursor and no SIGINT handler: Ctrl-C must end the process at once and leave
      // the terminal as it was (finished groups stay committed, the rest is never referenced).
      hideCursor: false,
      clearOnComplete: true,
      barsize: 24,
      etaBuffer: 20,
      gracefulExit: false,
    },
    Presets.shades_classic,
  );
  const payload = (s: WorkProgressState) => ({
    files: s.files.toLocaleString('en-US'),
    totalFiles: options.totalFiles.toLocaleString('en-US'),
    done: formatBytes(Math.min(s.bytes, options.totalBytes)),
    size: formatBytes(options.totalBytes),
    rate: formatByteRate(s.bytes, now() - started),
  });
  bar.start(total, 0, payload({ files: 0, bytes: 0 }));
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
