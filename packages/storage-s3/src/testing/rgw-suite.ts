/**
 * Vitest helpers for suites that run against a real S3 server (radosgw):
 *
 *   describeS3('my S3 suite', () => {
 *     const rgw = useRgwBucket();                       // a fresh bucket for this describe block
 *     it('...', async () => { const store = rgw.store('t1'); ... });
 *   });
 *
 * Where the server comes from, in order:
 * 1. WEIR_TEST_S3_ENDPOINT/_ACCESS_KEY_ID/_SECRET_ACCESS_KEY, or WEIR_S3_DIR of a running
 *    `scripts/s3-local.sh` cluster: reused, never stopped.
 * 2. The run's shared cluster: when the vitest global setup (global-setup.ts) is configured, the
 *    first suite that needs S3 starts one cluster for the whole run (a lock directory serializes
 *    workers); the global teardown stops it. Runs without S3 suites start nothing.
 * 3. Otherwise each file starts its own cluster in beforeAll and stops it in afterAll.
 * When the Ceph binaries are missing, the suites are skipped with a loud message - unless `CI` or
 * `WEIR_REQUIRE_S3` is set, where they run and fail, so CI can never pass by silently skipping them.
 */

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import type { S3StoreOptions } from '../config.js';
import { S3Store } from '../s3-store.js';
import {
  connectionFromTestEnv,
  createBucket,
  deleteBucket,
  freshBucketName,
  missingRgwBinaries,
  RGW_INSTALL_HINT,
  rawClient,
  type S3Connection,
  s3OptionsFor,
  startRgwCluster,
} from './rgw-cluster.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** A directory private to this vitest run where the shared cluster lives (global-setup.ts). */
    weirS3RunDir: string;
    /** The vitest main process: the shared cluster's watchdog stops it when this exits. */
    weirS3OwnerPid: number;
  }
}

export type S3TestAvailability =
  | { run: true; source: 'env' | 'start' }
  | { run: true; source: 'missing-in-ci'; reason: string }
  | { run: false; reason: string };

/** CI (or WEIR_REQUIRE_S3, which .ci/run sets) makes S3 suites mandatory. */
export function s3SuitesRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const on = (v: string | undefined): boolean =>
    v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return on(env.CI) || on(env.WEIR_REQUIRE_S3);
}

/** Whether S3 suites can run here (synchronous: decides describe vs describe.skip). */
export function s3TestAvailability(env: NodeJS.ProcessEnv = process.env): S3TestAvailability {
  if (connectionFromTestEnv(env) !== undefined) return { run: true, source: 'env' };
  const missing = missingRgwBinaries(env);
  if (missing.length === 0) return { run: true, source: 'start' };
  const reason = `Ceph radosgw is not installed (missing: ${missing.join(', ')}); install: ${RGW_INSTALL_HINT}`;
  if (s3SuitesRequired(env)) return { run: true, source: 'missing-in-ci', reason };
  return { run: false, reason };
}

let warned = false;

/** `describe` for suites that need S3: skipped loudly when no server can be had (failing in CI). */
export function describeS3(name: string, fn: () => void): void {
  const availability = s3TestAvailability();
  if (!availability.run) {
    if (!warned) {
      warned = true;
      console.warn(
        `\n${'!'.repeat(100)}\n!!! S3 SUITES SKIPPED: ${availability.reason}\n` +
          `!!! (with CI or WEIR_REQUIRE_S3 set they fail instead; or point WEIR_TEST_S3_ENDPOINT at a throw-away S3 server)\n${'!'.repeat(100)}\n`,
      );
    }
    describe.skip(`${name} [skipped: no S3 server: ${availability.reason}]`, fn);
    return;
  }
  describe(name, fn);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The run's shared cluster: started once by the first worker that asks, reused by the others. */
async function sharedCluster(runDir: string, ownerPid: number): Promise<S3Connection> {
  const ready = path.join(runDir, 'cluster.json');
  const failed = path.join(runDir, 'failed');
  const lock = path.join(runDir, 'lock');
  const deadline = Date.now() + 180_000;
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  for (;;) {
    if (existsSync(ready)) return JSON.parse(readFileSync(ready, 'utf8')) as S3Connection;
    if (existsSync(failed))
      throw new Error(`the shared S3 test cluster failed to start: ${readFileSync(failed, 'utf8')}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for the shared S3 test cluster in ${runDir}`);
    try {
      mkdirSync(lock);
    } catch {
      await sleep(100);
      continue;
    }
    try {
      const cluster = await startRgwCluster({ dir: path.join(runDir, 'cluster'), ownerPid });
      const connection: S3Connection = {
        endpoint: cluster.endpoint,
        region: cluster.region,
        accessKeyId: cluster.accessKeyId,
        secretAccessKey: cluster.secretAccessKey,
      };
      const temp = `${ready}.tmp`;
      writeFileSync(temp, JSON.stringify(connection), { mode: 0o600 });
      renameSync(temp, ready);
      return connection;
    } catch (err) {
      writeFileSync(failed, err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      rmdirSync(lock);
    }
  }
}

export interface RgwServer {
  connection: S3Connection;
  /** Stops the server if this file started it. */
  release(): Promise<void>;
}

/** An S3 server for this test file, per the order in the header. Call from beforeAll. */
export async function acquireSuiteS3Server(): Promise<RgwServer> {
  const availability = s3TestAvailability();
  if (availability.run && availability.source === 'missing-in-ci') {
    throw new Error(
      `S3 suites cannot run: ${availability.reason} (CI or WEIR_REQUIRE_S3 is set, so this fails instead of skipping)`,
    );
  }
  const fromEnv = connectionFromTestEnv();
  if (fromEnv !== undefined) return { connection: fromEnv, release: async () => {} };
  const runDir = inject('weirS3RunDir');
  const ownerPid = inject('weirS3OwnerPid');
  if (runDir !== undefined && ownerPid !== undefined) {
    return { connection: await sharedCluster(runDir, ownerPid), release: async () => {} };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-s3-file-'));
  const cluster = await startRgwCluster({ dir: path.join(dir, 'cluster') });
  return {
    connection: cluster,
    release: async () => {
      await cluster.stop();
      rmdirSync(dir);
    },
  };
}

export interface RgwBucket {
  /** Valid inside tests (after beforeAll). */
  readonly connection: S3Connection;
  readonly bucket: string;
  /** A raw SDK client on the server (SDK retries off). */
  readonly client: S3Client;
  /** S3Store options for this bucket. */
  options(overrides?: Partial<S3StoreOptions>): S3StoreOptions;
  /** An S3Store on this bucket under `prefix`; destroyed in afterAll. */
  store(prefix?: string, overrides?: Partial<S3StoreOptions>): S3Store;
}

/**
 * Registers beforeAll/afterAll in the current describe block: acquires a server, creates a fresh
 * bucket, and deletes the bucket (and releases the server) afterwards.
 */
export function useRgwBucket(): RgwBucket {
  let server: RgwServer | undefined;
  let client: S3Client | undefined;
  let bucket: string | undefined;
  const stores: S3Store[] = [];
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useRgwBucket: ${what} is only available inside tests`);
    return value;
  };

  beforeAll(async () => {
    server = await acquireSuiteS3Server();
    client = rawClient(server.connection);
    bucket = freshBucketName();
    await createBucket(client, bucket);
  });

  afterAll(async () => {
    for (const store of stores) store.destroy();
    try {
      if (client !== undefined && bucket !== undefined) await deleteBucket(client, bucket);
    } finally {
      client?.destroy();
      await server?.release();
    }
  });

  const handle: RgwBucket = {
    get connection() {
      return need(server, 'connection').connection;
    },
    get bucket() {
      return need(bucket, 'bucket');
    },
    get client() {
      return need(client, 'client');
    },
    options(overrides = {}) {
      return s3OptionsFor(handle.connection, handle.bucket, overrides);
    },
    store(prefix = '', overrides = {}) {
      const store = new S3Store(handle.options({ prefix, ...overrides }));
      stores.push(store);
      return store;
    },
  };
  return handle;
}
