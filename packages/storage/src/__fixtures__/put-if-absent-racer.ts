/**
 * Child process for the multi-process putIfAbsent race in local-store.test.ts. Usage:
 * `racer.ts <rootDir> <key> <id>`. Prints "ready" once LocalStore is loaded, waits for "go" on
 * stdin (so all racers start together), calls putIfAbsent with 1 MiB of byte `id`, and prints one
 * JSON line: {"id", "ok"} or {"id", "ok": false, "code"}.
 */

import { createInterface } from 'node:readline';
import { WeirError } from '../errors.js';
import { LocalStore } from '../local-store.js';

const [root, key, idText] = process.argv.slice(2);
if (root === undefined || key === undefined || idText === undefined)
  throw new Error('usage: racer <root> <key> <id>');
const id = Number(idText);
const store = new LocalStore(root);
const data = new Uint8Array(1024 * 1024).fill(id);

process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'go') break;
}
try {
  await store.putIfAbsent(key, data);
  process.stdout.write(`${JSON.stringify({ id, ok: true })}\n`);
} catch (err) {
  const code = err instanceof WeirError ? err.code : String(err);
  process.stdout.write(`${JSON.stringify({ id, ok: false, code })}\n`);
}
process.exit(0);
