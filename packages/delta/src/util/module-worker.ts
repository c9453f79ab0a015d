/**
 * Starts a worker thread from a module beside the caller (`./encode-worker.js` next to
 * `encode-pool.js`), in the built package and in development alike.
 *
 * Invariants: the worker runs the file with the caller's own extension (.js from dist, .ts from
 * src); under .ts, tsx is registered inside the worker (`--import` preloads do not reach
 * workers) and the `@weir/source` condition is passed on, so the worker resolves workspace
 * packages to their sources as the caller did. Returns undefined when no worker can be made here.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export function startModuleWorker(callerUrl: string, stem: string, workerData?: unknown): Worker | undefined {
  try {
    const ext = path.extname(fileURLToPath(callerUrl));
    const entry = new URL(`./${stem}${ext}`, callerUrl);
    const data = workerData === undefined ? {} : { workerData };
    if (ext !== '.ts') return new Worker(entry, data);
    const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
    const execArgv = process.execArgv.some((a) => a.includes('@weir/source'))
      ? process.execArgv
      : [...process.execArgv, '--conditions=@weir/source'];
    return new Worker(boot, { eval: true, execArgv, ...data });
  } catch {
    return undefined;
  }
}
