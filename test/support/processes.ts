/**
 * Real OS child processes for concurrency and crash tests: runs a TypeScript fixture with the
 * workspace sources (`--conditions=@weir/source` + tsx), collects its JSON-lines output, and can
 * SIGKILL it at a chosen moment.
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

export function startFixture(
  fixture: string,
  args: string[],
): { child: ChildProcess; done: Promise<ChildResult> } {
  const child = spawn(
    process.execPath,
    ['--conditions=@weir/source', '--import', 'tsx', path.join(REPO_ROOT, 'test/fixtures', fixture), ...args],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
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

export function runFixture(fixture: string, args: string[]): Promise<ChildResult> {
  return startFixture(fixture, args).done;
}
