/**
 * Builds the packages once before the suites that spawn the real `weir` binary (which runs
 * the compiled dist/). Incremental: a no-op when the build is up to date.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli'], {
    cwd: root,
    stdio: 'inherit',
  });
}
