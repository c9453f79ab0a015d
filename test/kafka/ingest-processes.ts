/**
 * `weir ingest` as real OS processes (the built binary), for crash, scale-out and rebalance
 * suites: start one with arguments, read its JSON-lines log, SIGKILL it or stop it with SIGTERM
 * and wait for its exit. Also reads the (partition, offset) pairs a table holds straight from
 * Arrow, which is fast enough for a million rows.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadSnapshot, type StructType, scanSnapshot, serializeSchema } from '@weir/delta';
import type { ObjectStore } from '@weir/storage';
import { WEIR_BIN } from '../support/cli.js';
import { REPO_ROOT } from '../support/reference-tables.js';

export interface IngestProcess {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export function startIngestProcess(args: string[], env: Record<string, string> = {}): IngestProcess {
  const child = spawn(process.execPath, [WEIR_BIN, 'ingest', ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const events: Record<string, unknown>[] = [];
  let partial = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    partial += c.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) if (l.startsWith('{')) events.push(JSON.parse(l) as Record<string, unknown>);
  });
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, events, stderr: () => err, exited };
}

/** Resolves once the process logged `started` (connected, group joined or joining). */
export async function waitStarted(p: IngestProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.events.some((e) => e.event === 'started')) {
    if (p.child.exitCode !== null)
      throw new Error(`ingest exited ${p.child.exitCode} before starting: ${lastWords(p)}`);
    if (Date.now() > deadline)
      throw new Error(`ingest did not start within ${timeoutMs} ms: ${lastWords(p)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a process said last, for failure messages. */
export function lastWords(p: IngestProcess): string {
  return `events: ${p.events
    .slice(-6)
    .map((e) => JSON.stringify(e))
    .join(' ')}; stderr: ${p.stderr().slice(-1500)}`;
}

/** SIGTERM once the process is up, and its exit (an error naming what it said last if it hangs). */
export async function stopGracefully(
  p: IngestProcess,
  timeoutMs = 60_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  await waitStarted(p);
  p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          p.child.kill('SIGKILL');
          reject(new Error(`ingest did not exit within ${timeoutMs} ms of SIGTERM; ${lastWords(p)}`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function kill(p: IngestProcess): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

export function writeSchemaFile(dir: string, schema: StructType): string {
  const file = path.join(dir, 'schema.json');
  writeFileSync(file, serializeSchema(schema));
  return file;
}

/** How many times each (partition, offset) is in the table: partition -> counts by offset. */
export async function offsetCounts(
  store: ObjectStore,
  columns = { partition: 'kafka_partition', offset: 'kafka_offset' },
): Promise<Map<number, Map<number, number>>> {
  const snapshot = await loadSnapshot(store);
  const out = new Map<number, Map<number, number>>();
  for await (const batch of scanSnapshot(store, snapshot, { columns: [columns.partition, columns.offset] })) {
    const partitions = batch.getChild(columns.partition)!.toArray() as Int32Array;
    const offsets = batch.getChild(columns.offset)!.toArray() as BigInt64Array;
    for (let i = 0; i < batch.numRows; i++) {
      const p = partitions[i]!;
      let m = out.get(p);
      if (!m) {
        m = new Map();
        out.set(p, m);
      }
      const o = Number(offsets[i]!);
      m.set(o, (m.get(o) ?? 0) + 1);
    }
  }
  return out;
}

/** Problems with exactly-once: missing or repeated offsets, given each partition's message count. */
export function countProblems(
  counts: Map<number, Map<number, number>>,
  expected: ReadonlyMap<number, number>,
): string[] {
  const problems: string[] = [];
  for (const [p, n] of expected) {
    const m = counts.get(p) ?? new Map<number, number>();
    let missing = 0;
    let repeated = 0;
    for (let o = 0; o < n; o++) {
      const c = m.get(o) ?? 0;
      if (c === 0) missing++;
      else if (c > 1) repeated++;
    }
    const extra = [...m.keys()].filter((o) => o < 0 || o >= n).length;
    if (missing || repeated || extra)
      problems.push(`partition ${p}: ${missing} missing, ${repeated} repeated, ${extra} unexpected`);
  }
  for (const p of counts.keys()) if (!expected.has(p)) problems.push(`unexpected partition ${p}`);
  return problems;
}

export { REPO_ROOT };
