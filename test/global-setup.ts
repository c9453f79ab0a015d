/**
 * Builds the packages once before the suites that spawn the real `weir` binary (which runs
 * the compiled dist/). Incremental: a no-op when the build is up to date. A failing build does
 * not stop the run: it is reported here, and the suites that need the binary fail on their own
 * (the rest still run against the sources).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const r = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/cli'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) {
    process.stderr.write(
      `\n[global-setup] building the CLI failed; binary tests will fail:\n${r.stdout}${r.stderr}\n`,
    );
  }
}
