/**
 * The S3 test harness itself: skip-or-fail decisions, and scripts/s3-local.sh's lifecycle
 * (start prints sourceable settings, env repeats them, stop removes everything, and the watchdog
 * stops a cluster whose owner process died).
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  connectionFromTestEnv,
  missingRgwBinaries,
  parseEnvLines,
  rawClient,
  s3LocalScript,
  startRgwCluster,
} from './rgw-cluster.js';
import { s3SuitesRequired, s3TestAvailability } from './rgw-suite.js';

describe('s3TestAvailability', () => {
  const noBinaries = { PATH: '/nonexistent' };

  it('skips without binaries, but runs (to fail) when CI is set', () => {
    expect(missingRgwBinaries(noBinaries)).toContain('radosgw');
    const local = s3TestAvailability(noBinaries);
    expect(local.run).toBe(false);
    if (!local.run) expect(local.reason).toContain('apt-get install');
    expect(s3TestAvailability({ ...noBinaries, CI: 'true' })).toMatchObject({
      run: true,
      source: 'missing-in-ci',
    });
    expect(s3TestAvailability({ ...noBinaries, WEIR_REQUIRE_S3: '1' })).toMatchObject({
      run: true,
      source: 'missing-in-ci',
    });
    expect(s3TestAvailability({ ...noBinaries, CI: 'false' }).run).toBe(false);
  });

  it('uses a server named by the environment', () => {
    const env = {
      ...noBinaries,
      WEIR_TEST_S3_ENDPOINT: 'http://127.0.0.1:9',
      WEIR_TEST_S3_ACCESS_KEY_ID: 'id',
      WEIR_TEST_S3_SECRET_ACCESS_KEY: 'secret',
    };
    expect(s3TestAvailability(env)).toEqual({ run: true, source: 'env' });
    expect(connectionFromTestEnv(env)).toEqual({
      endpoint: 'http://127.0.0.1:9',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      region: 'us-east-1',
    });
    expect(() => connectionFromTestEnv({ WEIR_TEST_S3_ENDPOINT: 'http://x' })).toThrow(/ACCESS_KEY/);
  });

  it('parses the script output', () => {
    expect(parseEnvLines('AWS_REGION=us-east-1\nnoise\nexport WEIR_S3_BUCKET=b\n')).toEqual({
      AWS_REGION: 'us-east-1',
      WEIR_S3_BUCKET: 'b',
    });
  });
});

const haveBinaries = missingRgwBinaries().length === 0;

describe.skipIf(!haveBinaries && !s3SuitesRequired())('scripts/s3-local.sh', () => {
  it('starts a cluster, repeats its settings with env, and stop removes every trace', async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'weir-s3-harness-'));
    const dir = path.join(base, 'cluster');
    try {
      const cluster = await startRgwCluster({ dir, bucket: 'harness' });
      expect(cluster.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(cluster.accessKeyId).toMatch(/^WEIR[0-9A-F]{16}$/);
      expect(cluster.secretAccessKey).toMatch(/^[0-9a-f]{40}$/);
      expect(cluster.bucket).toBe('harness');
      const envFile = parseEnvLines(readFileSync(path.join(dir, 'env'), 'utf8'));
      expect(envFile).toMatchObject({
        AWS_ENDPOINT_URL: cluster.endpoint,
        AWS_REGION: 'us-east-1',
        WEIR_S3_DIR: dir,
      });
      const client = rawClient(cluster);
      try {
        const buckets = await client.send(new ListBucketsCommand({}));
        expect(buckets.Buckets?.map((b) => b.Name)).toEqual(['harness']);
      } finally {
        client.destroy();
      }
      const pids = readFileSync(path.join(dir, 'pids'), 'utf8').trim().split('\n').map(Number);
      await cluster.stop();
      expect(existsSync(dir)).toBe(false);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('the watchdog stops a cluster once its owner process has exited', async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'weir-s3-harness-'));
    const dir = path.join(base, 'cluster');
    const owner = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await startRgwCluster({ dir, ownerPid: owner.pid! });
      const pids = readFileSync(path.join(dir, 'pids'), 'utf8').trim().split('\n').map(Number);
      expect(pids).toHaveLength(4);
      owner.kill();
      const deadline = Date.now() + 20_000;
      while (existsSync(dir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(existsSync(dir)).toBe(false);
      // The watchdog itself (one of the pids) removes the directory and only then exits.
      const exitDeadline = Date.now() + 10_000;
      while (pids.some(alive) && Date.now() < exitDeadline) await new Promise((r) => setTimeout(r, 100));
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      owner.kill();
      if (existsSync(dir)) {
        await new Promise((resolve) =>
          spawn('bash', [s3LocalScript(), 'stop'], { env: { ...process.env, WEIR_S3_DIR: dir } }).on(
            'exit',
            resolve,
          ),
        );
      }
      rmSync(base, { recursive: true, force: true });
    }
  });
});

/** Whether `pid` runs; a zombie (exited, not yet reaped by its new parent) does not. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
