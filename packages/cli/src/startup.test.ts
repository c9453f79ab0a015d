import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Whether DuckDB's native library is mapped into a fresh process after it imports `modules`. */
function loadsDuckdb(modules: readonly string[]): boolean {
  const script = [
    "import { readFileSync } from 'node:fs';",
    ...modules.map((m) => `await import(${JSON.stringify(m)});`),
    "process.stdout.write(String(readFileSync('/proc/self/maps', 'utf8').includes('libduckdb')));",
  ].join('\n');
  const out = execFileSync(
    process.execPath,
    ['--conditions=@weir/source', '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', cwd: fileURLToPath(new URL('../../..', import.meta.url)) },
  );
  return out.trim() === 'true';
}

describe('CLI start-up', () => {
  it('does not load DuckDB until a command needs it (ingest, write, ... start without it)', () => {
    expect(loadsDuckdb([MAIN])).toBe(false);
    // The check itself can see DuckDB: importing the SQL package maps it.
    expect(loadsDuckdb([MAIN, '@weir/sql'])).toBe(true);
  }, 60_000);
});
