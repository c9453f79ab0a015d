/**
 * A real S3 server for tests and benches: starts and stops a throw-away Ceph radosgw through the
 * project's `scripts/s3-local.sh`, and manages buckets on it. No vitest here (benches use it too).
 *
 * Invariants: a cluster this module starts is stopped by `stop()` and, should this process die
 * first, by the script's watchdog (WEIR_S3_OWNER_PID); secrets are passed to children through the
 * environment, never argv; bucket names are fresh per call (`weir-test-<random>`).
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client, type S3StoreOptions } from '../config.js';

/** Where an S3 server answers and how to sign for it. */
export interface S3Connection {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface RgwCluster extends S3Connection {
  /** The bucket the script created. */
  bucket: string;
  /** The cluster's state directory. */
  dir: string;
  /** Stops the daemons and removes `dir`. Idempotent. */
  stop(): Promise<void>;
  /** Reclaims the space of deleted objects now (radosgw collects it lazily; memstore is RAM). */
  collectGarbage(): Promise<void>;
}

/** Binaries `scripts/s3-local.sh` needs. */
export const RGW_BINARIES = [
  'ceph-mon',
  'ceph-osd',
  'radosgw',
  'radosgw-admin',
  'monmaptool',
  'ceph',
  'curl',
];
export const RGW_INSTALL_HINT = 'apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd curl';

/** The project's cluster script (same relative place from src/testing and dist/testing). */
export function s3LocalScript(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../scripts/s3-local.sh');
}

function onPath(binary: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(path.join(dir, binary), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** The binaries the script needs that are not on PATH (empty when a cluster can be started). */
export function missingRgwBinaries(env: NodeJS.ProcessEnv = process.env): string[] {
  return RGW_BINARIES.filter((binary) => !onPath(binary, env));
}

/** Parses the script's KEY=value lines. */
export function parseEnvLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) out[match[1]!] = match[2]!;
  }
  return out;
}

function connectionFromEnv(vars: Record<string, string | undefined>, source: string): S3Connection {
  const endpoint = vars.AWS_ENDPOINT_URL;
  const accessKeyId = vars.AWS_ACCESS_KEY_ID;
  const secretAccessKey = vars.AWS_SECRET_ACCESS_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new Error(`${source}: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required`);
  }
  return { endpoint, accessKeyId, secretAccessKey, region: vars.AWS_REGION || 'us-east-1' };
}

/** Reads the settings of a cluster the script is running under `dir` (its `env` file). */
export function readClusterEnv(dir: string): S3Connection & { bucket: string } {
  const vars = parseEnvLines(readFileSync(path.join(dir, 'env'), 'utf8'));
  return { ...connectionFromEnv(vars, `${dir}/env`), bucket: vars.WEIR_S3_BUCKET ?? 'weir' };
}

/**
 * An existing S3 server named by the environment, if any:
 * WEIR_TEST_S3_ENDPOINT + WEIR_TEST_S3_ACCESS_KEY_ID + WEIR_TEST_S3_SECRET_ACCESS_KEY
 * [+ WEIR_TEST_S3_REGION], or WEIR_S3_DIR naming a running `scripts/s3-local.sh` cluster.
 * Suites create and delete buckets there: point it at a throw-away server only.
 */
export function connectionFromTestEnv(env: NodeJS.ProcessEnv = process.env): S3Connection | undefined {
  if (env.WEIR_TEST_S3_ENDPOINT) {
    return connectionFromEnv(
      {
        AWS_ENDPOINT_URL: env.WEIR_TEST_S3_ENDPOINT,
        AWS_ACCESS_KEY_ID: env.WEIR_TEST_S3_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: env.WEIR_TEST_S3_SECRET_ACCESS_KEY,
        AWS_REGION: env.WEIR_TEST_S3_REGION,
      },
      'WEIR_TEST_S3_ENDPOINT',
    );
  }
  if (env.WEIR_S3_DIR && existsSync(path.join(env.WEIR_S3_DIR, 'env')))
    return readClusterEnv(env.WEIR_S3_DIR);
  return undefined;
}

function runScript(command: 'start' | 'stop' | 'gc', env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [s3LocalScript(), command],
      { env, timeout: 120_000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`scripts/s3-local.sh ${command} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

export interface StartRgwOptions {
  /** State directory; must not exist (or be empty). */
  dir: string;
  /** The cluster stops itself once this process exits (default: this process). */
  ownerPid?: number;
  bucket?: string;
  /** Memstore capacity (default: the script's, 4 GiB). */
  memBytes?: number;
}

/** Starts a cluster with `scripts/s3-local.sh start` (about 1-2 s). */
export async function startRgwCluster(options: StartRgwOptions): Promise<RgwCluster> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WEIR_S3_DIR: options.dir,
    WEIR_S3_OWNER_PID: String(options.ownerPid ?? process.pid),
  };
  if (options.bucket !== undefined) env.WEIR_S3_BUCKET = options.bucket;
  if (options.memBytes !== undefined) env.WEIR_S3_MEM_BYTES = String(options.memBytes);
  const vars = parseEnvLines(await runScript('start', env));
  const connection = connectionFromEnv(vars, 'scripts/s3-local.sh start');
  let stopped: Promise<void> | undefined;
  return {
    ...connection,
    bucket: vars.WEIR_S3_BUCKET ?? 'weir',
    dir: options.dir,
    stop: () => {
      stopped ??= stopRgwCluster(options.dir);
      return stopped;
    },
    collectGarbage: async () => {
      await runScript('gc', { ...process.env, WEIR_S3_DIR: options.dir });
    },
  };
}

/** Stops the cluster under `dir` (by the PIDs it recorded) and removes `dir`. */
export async function stopRgwCluster(dir: string): Promise<void> {
  await runScript('stop', { ...process.env, WEIR_S3_DIR: dir });
}

export interface AcquiredS3Server {
  connection: S3Connection;
  /** 'env': a server named by the environment (see connectionFromTestEnv); 'started': ours. */
  source: 'env' | 'started';
  /** Stops the server if this call started it. */
  release(): Promise<void>;
  /** Reclaims deleted objects' space now when this call started the server (else a no-op). */
  collectGarbage(): Promise<void>;
}

/**
 * An S3 server outside vitest (benches, scripts): the one named by the environment, or a fresh
 * cluster under a temp directory (stopped by `release`, or by the watchdog if this process dies).
 * Throws, naming the packages to install, when neither is possible.
 */
export async function acquireS3Server(options: { memBytes?: number } = {}): Promise<AcquiredS3Server> {
  const fromEnv = connectionFromTestEnv();
  if (fromEnv !== undefined) {
    return { connection: fromEnv, source: 'env', release: async () => {}, collectGarbage: async () => {} };
  }
  const missing = missingRgwBinaries();
  if (missing.length > 0) {
    throw new Error(
      `no S3 server: Ceph radosgw is not installed (missing: ${missing.join(', ')}); install: ${RGW_INSTALL_HINT}`,
    );
  }
  const base = await mkdtemp(path.join(os.tmpdir(), 'weir-s3-'));
  const cluster = await startRgwCluster({
    dir: path.join(base, 'cluster'),
    ...(options.memBytes === undefined ? {} : { memBytes: options.memBytes }),
  });
  return {
    connection: cluster,
    source: 'started',
    release: async () => {
      await cluster.stop();
      await rm(base, { recursive: true, force: true });
    },
    collectGarbage: () => cluster.collectGarbage(),
  };
}

/** S3Store options for `bucket` on a connection (path-style, static keys). */
export function s3OptionsFor(
  connection: S3Connection,
  bucket: string,
  overrides: Partial<S3StoreOptions> = {},
): S3StoreOptions {
  return {
    bucket,
    endpoint: connection.endpoint,
    region: connection.region,
    forcePathStyle: true,
    credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
    ...overrides,
  };
}

/** A raw SDK client for a connection (SDK retries off, like S3Store's); destroy it when done. */
export function rawClient(connection: S3Connection): S3Client {
  return createS3Client(s3OptionsFor(connection, 'unused'));
}

export function freshBucketName(prefix = 'weir-test'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Multipart uploads in progress in the bucket (keys), e.g. to prove that failed puts aborted. */
export async function listMultipartUploads(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        ...(prefix === '' ? {} : { Prefix: prefix }),
        ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
        ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
      }),
    );
    for (const upload of page.Uploads ?? []) out.push(upload.Key ?? '');
    if (!page.IsTruncated) return out;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}

/** Deletes every object below `prefix` and aborts its multipart uploads. */
export async function emptyBucket(client: S3Client, bucket: string, prefix = ''): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        ...(prefix === '' ? {} : { Prefix: prefix }),
        ...(token === undefined ? {} : { ContinuationToken: token }),
      }),
    );
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
    if (keys.length > 0) {
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  const uploads = await client.send(
    new ListMultipartUploadsCommand({ Bucket: bucket, ...(prefix === '' ? {} : { Prefix: prefix }) }),
  );
  for (const upload of uploads.Uploads ?? []) {
    await client.send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
    );
  }
}

/** Empties and deletes a bucket. */
export async function deleteBucket(client: S3Client, bucket: string): Promise<void> {
  await emptyBucket(client, bucket);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}
