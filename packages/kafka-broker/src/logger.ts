/**
 * Structured logging for the broker: an injectable `BrokerLogger` that receives an event name
 * and flat fields, a silent logger (the default, so tests print nothing) and a JSON-lines
 * logger for the CLI.
 *
 * Invariants: a logger never throws into the broker; one event is one line of JSON with `ts`,
 * `level` and `event` first.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface BrokerLogger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: BrokerLogger = { log() {} };

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Writes one JSON object per line through `write` for events at `minLevel` or above. */
export function jsonLinesLogger(write: (line: string) => void, minLevel: LogLevel = 'info'): BrokerLogger {
  const min = RANK[minLevel];
  return {
    log(level, event, fields) {
      if (RANK[level] < min) return;
      try {
        write(
          `${JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields }, (_k, v) =>
            typeof v === 'bigint' ? v.toString() : v,
          )}\n`,
        );
      } catch {
        // Logging must never take the broker down.
      }
    },
  };
}
