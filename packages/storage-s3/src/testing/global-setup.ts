/**
 * Vitest global setup for S3 suites (listed in the root vitest.config.ts). Starts nothing itself:
 * it names a private directory for the run where the first suite that needs S3 starts one radosgw
 * cluster for every worker (rgw-suite.ts), and stops that cluster, if any, when the run ends.
 * A run without S3 suites costs nothing. Self-contained on purpose (no SDK import).
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../scripts/s3-local.sh');

function stopCluster(dir: string): Promise<void> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [script, 'stop'],
      { env: { ...process.env, WEIR_S3_DIR: dir }, timeout: 60_000 },
      (err) => {
        if (err) process.stderr.write(`weir S3 global teardown: stopping ${dir} failed: ${err.message}\n`);
        resolve();
      },
    );
  });
}

export default function setup(project: TestProject): () => Promise<void> {
  // Only named here; the first S3 suite creates it, so runs without S3 suites leave nothing behind.
  const runDir = path.join(os.tmpdir(), `weir-s3-run-${process.pid}-${randomBytes(4).toString('hex')}`);
  project.provide('weirS3RunDir', runDir);
  project.provide('weirS3OwnerPid', process.pid);
  return async () => {
    const cluster = path.join(runDir, 'cluster');
    if (existsSync(cluster)) await stopCluster(cluster);
    rmSync(runDir, { recursive: true, force: true });
  };
}
