import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// The `weir` command is a shell line in front of an ES module (bin/weir.js): run as a command it
// re-executes itself under `node` with glibc's malloc capped at two arenas and a larger young
// generation.
const BIN = fileURLToPath(new URL('../bin/weir.js', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'weir-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command with a stand-in `node` first on PATH that prints what it was started with. */
function launch(args: string[], env: Record<string, string | undefined>): string {
  const fake = path.join(dir, 'node');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  writeFileSync(fake, '#!/bin/sh\nprintf "%s|" "${MALLOC_ARENA_MAX-unset}" "$@"\n');
  chmodSync(fake, 0o755);
  const base: NodeJS.ProcessEnv = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
  delete base.MALLOC_ARENA_MAX;
  delete base.NODE_OPTIONS;
  return execFileSync(BIN, args, { encoding: 'utf8', env: { ...base, ...env } });
}

describe('the weir command', () => {
  it('starts node on itself with MALLOC_ARENA_MAX=2 and 32 MiB semi-spaces, passing every argument through unchanged', () => {
    expect(launch(['ingest', '--topic', 'a b', ''], {})).toBe(
      `2|--max-semi-space-size=32|${BIN}|ingest|--topic|a b||`,
    );
  });

  it('keeps a MALLOC_ARENA_MAX the user set, and a semi-space size set in NODE_OPTIONS', () => {
    expect(launch(['sql'], { MALLOC_ARENA_MAX: '8' })).toBe(`8|--max-semi-space-size=32|${BIN}|sql|`);
    expect(launch(['sql'], { NODE_OPTIONS: '--max-semi-space-size=64' })).toBe(`2|${BIN}|sql|`);
    expect(launch(['sql'], { NODE_OPTIONS: '--enable-source-maps --max_semi_space_size=8' })).toBe(
      `2|${BIN}|sql|`,
    );
    expect(launch(['sql'], { NODE_OPTIONS: '--enable-source-maps' })).toBe(
      `2|--max-semi-space-size=32|${BIN}|sql|`,
    );
  });

  it('runs the CLI itself when started with node directly (the shell line is a no-op there)', () => {
    const out = execFileSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(out).toContain('Usage: weir');
  });
});
