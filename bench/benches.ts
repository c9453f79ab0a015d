/**
 * The bench registry: bench name -> loader of its module. Entries are explicit (no directory
 * scanning); modules load lazily so listing names, or running one bench, never imports the
 * dependencies of the others. To add a bench, write `bench/<name>.ts` with a default export
 * satisfying `Bench` and add one line here. `npm run bench -- all` runs them in this order.
 */
import type { Bench } from './lib/result.js';

export const BENCHES: Readonly<Record<string, () => Promise<Bench>>> = {
  scan: async () => (await import('./scan.js')).default,
  'snapshot-load': async () => (await import('./snapshot-load.js')).default,
  's3-commit': async () => (await import('./s3-commit.js')).default,
  's3-upload': async () => (await import('./s3-upload.js')).default,
  broker: async () => (await import('./broker.js')).default,
  write: async () => (await import('./write.js')).default,
  commit: async () => (await import('./commit.js')).default,
  optimize: async () => (await import('./optimize.js')).default,
  'sink-latency': async () => (await import('./sink-latency.js')).default,
  sql: async () => (await import('./sql.js')).default,
  'ingest-latency': async () => (await import('./ingest-latency.js')).default,
};

export function benchNames(): string[] {
  return Object.keys(BENCHES);
}
