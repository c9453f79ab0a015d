/**
 * One OPTIMIZE run in a fresh process, for the `optimize` bench: so the peak RSS it reports is
 * Weir's alone (not the bench's DuckDB fixture build or earlier runs). Usage:
 *   optimize-child.ts <tableDir>
 * Prints one JSON line: {ms, cpuMs, peakRssBytes (polled), maxRssBytes (process lifetime),
 * baselineRssBytes, metrics, commits}. Time and CPU cover `optimize()` only, not start-up.
 */
import { optimize } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { PeakRssSampler, processMaxRssBytes, startTimer } from './timing.js';

const dir = process.argv[2]!;
const store = new LocalStore(dir);
const baselineRssBytes = process.memoryUsage().rss;
const sampler = new PeakRssSampler(10).start();
const cpu = process.cpuUsage();
const timer = startTimer();
const result = await optimize(store, { onProgress: () => sampler.sample() });
const ms = timer.elapsedMs();
const used = process.cpuUsage(cpu);
const rss = sampler.stop();
process.stdout.write(
  `${JSON.stringify({
    ms,
    cpuMs: (used.user + used.system) / 1000,
    peakRssBytes: rss.peakRssBytes,
    maxRssBytes: processMaxRssBytes(),
    baselineRssBytes,
    metrics: result.metrics,
    commits: result.commits.length,
  })}\n`,
);
