/**
 * Real OS child processes for concurrency and crash tests: runs a TypeScript fixture with the
 * workspace sources (`--conditions=@weir/source` + tsx), collects its JSON-lines output, and can
 * SIGKILL it at a chosen moment. `options.env` adds to (or, with undefined values, removes from)
 * the inherited environment, e.g. S3 endpoint and credentials for a fixture on an s3:// table.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './reference-tables.js';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

export interface FixtureOptions {
  /** Variables to set (a string) or unset (undefined) on top of this process's environment. */
  env?: Record<string, string | undefined>;
}

function childEnv(extra: FixtureOptions['env']): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function startFixture(
  fixture: string,
  args: string[],
  options: FixtureOptions = {},
): { child: ChildProcess; done: Promise<ChildResult> } {
  const child = spawn(
    process.execPath,
    ['--conditions=@weir/source', '--import', 'tsx', path.join(REPO_ROOT, 'test/fixtures', fixture), ...args],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(options.env) },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const done = new Promise<ChildResult>((resolve) => {
    child.on('close', (code, signal) => {
      // Only complete lines: a process killed mid-write leaves a partial last line.
      const complete = out.slice(0, out.lastIndexOf('\n') + 1);
      const lines = complete
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, signal, lines, stderr: err });
    });
  });
  return { child, done };
}

export function runFixture(
  fixture: string,
  args: string[],
  options: FixtureOptions = {},
): Promise<ChildResult> {
  return startFixture(fixture, args, options).done;
}
