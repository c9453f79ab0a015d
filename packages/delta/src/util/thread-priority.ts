/**
 * Lowers the scheduling priority of the calling thread only (not the process), for worker
 * threads that run background work. Linux keeps a nice value per thread and `setpriority` with a
 * thread id changes just that thread; the id comes from /proc/thread-self. Elsewhere (no such
 * link) nothing changes: passing the process id would lower the whole process.
 *
 * Never throws: priority is a hint, and a system that refuses it (containers without the
 * capability to raise it back are fine: lowering needs none) leaves the thread as it was.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Adds `niceness` (1..19) to this thread's nice value; returns the new value, or undefined. */
export function lowerThreadPriority(niceness: number): number | undefined {
  if (!Number.isInteger(niceness) || niceness <= 0) return undefined;
  try {
    const link = readlinkSync('/proc/thread-self'); // "<pid>/task/<tid>"
    const tid = Number(link.slice(link.lastIndexOf('/') + 1));
    if (!Number.isSafeInteger(tid) || tid <= 0 || tid === process.pid) return undefined;
    const target = Math.min(19, getPriority(tid) + niceness);
    setPriority(tid, target);
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
