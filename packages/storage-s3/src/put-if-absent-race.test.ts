/**
 * putIfAbsent across OS processes on radosgw: 8 real child processes (each its own S3Store and
 * connection) race to create the same key, several rounds; exactly one wins each round, every
 * other gets ALREADY_EXISTS, and the object holds the winner's whole body.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeS3, useRgwBucket } from './testing/rgw-suite.js';

const RACERS = 8;
const ROUNDS = 5;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const racerScript = fileURLToPath(new URL('./__fixtures__/put-if-absent-racer.ts', import.meta.url));

interface Racer {
  child: ChildProcessWithoutNullStreams;
  lines: Interface;
  next(): Promise<string>;
  stderr(): string;
}

function startRacer(id: number, env: NodeJS.ProcessEnv): Racer {
  const child = spawn(
    process.execPath,
    ['--conditions=@weir/source', '--import', 'tsx', racerScript, String(id)],
    {
      cwd: repoRoot,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  return {
    child,
    lines,
    stderr: () => stderr,
    next: async () => {
      const result = await iterator.next();
      if (result.done) throw new Error(`racer ${id} exited early (${child.exitCode}): ${stderr}`);
      return result.value;
    },
  };
}

describeS3('putIfAbsent raced by 8 OS processes (radosgw)', () => {
  const rgw = useRgwBucket();
  const racers: Racer[] = [];

  afterAll(() => {
    for (const racer of racers) if (racer.child.exitCode === null) racer.child.kill();
  });

  it(`exactly one of ${RACERS} processes wins each of ${ROUNDS} rounds`, async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL: rgw.connection.endpoint,
      AWS_ACCESS_KEY_ID: rgw.connection.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.connection.secretAccessKey,
      AWS_REGION: rgw.connection.region,
      AWS_S3_FORCE_PATH_STYLE: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      WEIR_S3_BUCKET: rgw.bucket,
      WEIR_S3_PREFIX: 'race',
    };
    for (let id = 0; id < RACERS; id++) racers.push(startRacer(id, env));
    for (const racer of racers) expect(await racer.next()).toBe('ready');

    const store = rgw.store('race');
    for (let round = 0; round < ROUNDS; round++) {
      const key = `_delta_log/${String(round).padStart(20, '0')}.json`;
      for (const racer of racers) racer.child.stdin.write(`go ${key}\n`);
      const results = await Promise.all(
        racers.map(
          async (racer) => JSON.parse(await racer.next()) as { id: number; ok: boolean; code?: string },
        ),
      );
      const winners = results.filter((r) => r.ok);
      expect(winners, JSON.stringify(results)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => r.code)).toEqual(
        Array(RACERS - 1).fill('ALREADY_EXISTS'),
      );
      const body = await store.get(key);
      expect(body.byteLength).toBe(1024 * 1024);
      expect(body.every((b) => b === winners[0]!.id)).toBe(true);
    }
    for (const racer of racers) racer.child.stdin.end();
    await Promise.all(
      racers.map(
        (racer) =>
          new Promise<void>((resolve, reject) => {
            if (racer.child.exitCode !== null) return resolve();
            racer.child.once('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`racer exited ${code}: ${racer.stderr()}`)),
            );
          }),
      ),
    );
  });
});
