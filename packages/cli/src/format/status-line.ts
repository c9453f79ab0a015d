/**
 * The live status line of `weir ingest` on a terminal: state, rows committed and rate, lag,
 * the last commit (version and age), visibility latency p50/p99 and dead letters, redrawn in
 * place by cli-progress on stderr. Off a terminal there is no status line (logs stay clean).
 *
 * Invariants: exists only when `io.isTTY`; `stop()` clears the line, is idempotent, and must be
 * called on every path (the redraw timer keeps the process alive).
 */
import type { IngestStatus } from '@weir/kafka';
import { SingleBar } from 'cli-progress';
import type { CliIo } from '../context.js';

export interface StatusFields {
  state: string;
  rows: number;
  rate: number;
  lag: number | undefined;
  version: number | undefined;
  ageMs: number | undefined;
  p50: number | undefined;
  p99: number | undefined;
  deadLetters: number;
}

/** The status line's fields from an ingest's status. */
export function statusFieldsOf(st: IngestStatus, now = Date.now()): StatusFields {
  return {
    state: st.state,
    rows: st.rowsCommitted,
    rate: st.rowsPerSecond,
    lag: st.lag,
    version: st.lastCommit?.version,
    ageMs: st.lastCommit ? now - st.lastCommit.at : undefined,
    p50: st.latencyMs?.p50,
    p99: st.latencyMs?.p99,
    deadLetters: st.deadLetters,
  };
}

export interface StatusLine {
  update(fields: StatusFields): void;
  stop(): void;
}

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

function ms(n: number | undefined): string {
  if (n === undefined) return '-';
  return n >= 10_000
    ? `${(n / 1000).toFixed(0)}s`
    : n >= 1000
      ? `${(n / 1000).toFixed(1)}s`
      : `${Math.round(n)}ms`;
}

export function formatStatus(f: StatusFields): Record<string, string> {
  return {
    state: f.state,
    rows: compact(f.rows),
    rate: compact(f.rate),
    lag: f.lag === undefined ? '-' : compact(f.lag),
    commit: f.version === undefined ? 'none yet' : `v${f.version} ${ms(f.ageMs)} ago`,
    p50: ms(f.p50),
    p99: ms(f.p99),
    dead: compact(f.deadLetters),
  };
}

export function createStatusLine(io: CliIo, label: string): StatusLine | undefined {
  if (!io.isTTY) return undefined;
  const bar = new SingleBar({
    stream: io.stderr as unknown as NodeJS.WriteStream,
    format: `${label} {state} | {rows} rows | {rate} rows/s | lag {lag} | last commit {commit} | latency p50 {p50} p99 {p99} | dead letters {dead}`,
    hideCursor: false,
    clearOnComplete: true,
    gracefulExit: false,
    fps: 4,
  });
  let stopped = false;
  bar.start(
    1,
    0,
    formatStatus({
      state: 'starting',
      rows: 0,
      rate: 0,
      lag: undefined,
      version: undefined,
      ageMs: undefined,
      p50: undefined,
      p99: undefined,
      deadLetters: 0,
    }),
  );
  return {
    update(fields) {
      if (!stopped) bar.update(0, formatStatus(fields));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
