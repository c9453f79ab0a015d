/**
 * Runs the `weir` CLI for tests: in-process through `main()` with captured output (fast, used
 * for many tables), or as the real binary in a child process (exit codes, stderr, help).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '@weir/cli';
import { REPO_ROOT } from './reference-tables.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[]): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(['node', 'weir', ...args], { stdout, stderr, isTTY: false });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export const WEIR_BIN = path.join(REPO_ROOT, 'packages/cli/bin/weir.js');

/** The real binary (needs the build: `npm run build`, which `npm install` runs). */
export function spawnCli(args: string[], options: { cwd?: string } = {}): CliRun {
  const r = spawnSync(process.execPath, [WEIR_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function parseNdjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
