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
// process.memoryUsage() walks the heap: sampled on a timer only (every call costs the run time
// it measures); the reported peak is the kernel's maxRSS anyway.
const sampler = new PeakRssSampler(100).start();
const cpu = process.cpuUsage();
const timer = startTimer();
const result = await optimize(store);
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
