/**
 * Child process for the multi-process putIfAbsent race in put-if-absent-race.test.ts. Usage:
 * `put-if-absent-racer.ts <id>` with the S3 settings in the environment (AWS_ENDPOINT_URL,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, WEIR_S3_BUCKET, WEIR_S3_PREFIX), read with
 * `s3OptionsFromEnv` like a user's process would. Prints "ready" once the store is up (and its
 * connection warm), then for each stdin line "go <key>" calls putIfAbsent(key, 1 MiB of byte id)
 * and prints one JSON line {"id", "key", "ok"} or {"id", "key", "ok": false, "code"}; exits on EOF.
 */

import { createInterface } from 'node:readline';
import { WeirError } from '@weir/storage';
import { s3OptionsFromEnv } from '../config.js';
import { S3Store } from '../s3-store.js';

const id = Number(process.argv[2]);
const bucket = process.env.WEIR_S3_BUCKET;
if (!Number.isInteger(id) || bucket === undefined)
  throw new Error('usage: racer <id> (env: WEIR_S3_BUCKET...)');
const store = new S3Store({ ...s3OptionsFromEnv(), bucket, prefix: process.env.WEIR_S3_PREFIX ?? '' });
const data = new Uint8Array(1024 * 1024).fill(id);
await store.head('warm-up').catch(() => {});

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const match = /^go (.+)$/.exec(line.trim());
  if (match === null) continue;
  const key = match[1]!;
  try {
    await store.putIfAbsent(key, data);
    process.stdout.write(`${JSON.stringify({ id, key, ok: true })}\n`);
  } catch (err) {
    const code = err instanceof WeirError ? err.code : String(err);
    process.stdout.write(`${JSON.stringify({ id, key, ok: false, code })}\n`);
  }
}
store.destroy();
